"""PERP-05 Platform settles every trade.

Every perpetual trade must be settled by the platform itself, (a) never by the counterparty
or a third party, and (b) within ``settlement_within_hours`` of its execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from domain.book.entities import Obligation
from domain.events import PerpTradeExecuted, PerpTradeSettled
from policies.finding import Finding, finding, missed_deadline
from policies.perpetuals.framework import FRAMEWORK
from policies.rule import Close, Context, Open, Parameter, Rule, Severity, Trigger, deadline_after

RULE_ID = "PERP-05"
TITLE = "Platform settles every trade"
SEVERITY: Severity = "high"
CITATION = FRAMEWORK
PARAMETERS = (Parameter("settlement_within_hours", "positive_int", 24),)


def on_executed(ctx: Context) -> Iterator[Open]:
    trade = ctx.data(PerpTradeExecuted)
    window = timedelta(hours=ctx.params.integer(RULE_ID, "settlement_within_hours"))
    yield Open(RULE_ID, trade.trade_id, deadline_after(ctx.now, window),
               {"contract_id": trade.contract_id, "quantity": trade.quantity, "price": trade.price})


def on_settled(ctx: Context) -> Iterator[Finding | Close]:
    settled = ctx.data(PerpTradeSettled)
    yield Close(RULE_ID, settled.trade_id)  # any settlement meets (b); (a) judges who did it
    if settled.settled_by != "platform":
        yield finding(
            RULE, ctx, settled.trade_id,
            f"Perpetual trade {settled.trade_id} was settled by the "
            f"{settled.settled_by.replace('_', ' ')}, not by the platform.",
            {"settled_by": settled.settled_by},
        )


def overdue(ctx: Context, obligation: Obligation) -> Finding:
    return missed_deadline(
        RULE, ctx, obligation,
        f"Perpetual trade {obligation.subject} executed at "
        f"{obligation.start_occurred_at.isoformat()} was not settled by "
        f"{obligation.deadline.isoformat()}.",
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpTradeExecuted, "after", on_executed),
        Trigger(PerpTradeSettled, "after", on_settled),
    ),
    overdue=overdue,
)

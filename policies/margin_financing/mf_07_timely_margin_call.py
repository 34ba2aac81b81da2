"""MF-07 Timely margin call.

When a client becomes short (debt above lending value, whatever the cause: a price fall, a
drawdown, a reported securities loan), the broker must have a margin call open for it within
``margin_call_within_minutes``. A call already open when it becomes short counts (reading
8); the obligation ends if the client stops being short. A client that stays short opens no
new obligation until it has stopped and become short again (reading 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from domain.book.entities import Obligation
from policies.finding import Finding, missed_deadline
from policies.margin_financing.collateral import (
    CIRCULAR,
    COLLATERAL_TERMS,
    SHORT,
    debt_and_lending_value,
)
from policies.rule import (
    Close,
    Context,
    Open,
    Parameter,
    Rule,
    Severity,
    StatusWatch,
    deadline_after,
)

RULE_ID = "MF-07"
TITLE = "Timely margin call"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS = (Parameter("margin_call_within_minutes", "positive_int", 60),)


def reconcile(ctx: Context, client_id: str, was_short: bool, is_short: bool) -> Iterator[Open | Close]:
    client = ctx.book.client(client_id)
    if client is None:
        return
    # Reading: any open margin call of the client meets it, whatever shortfall it names.
    has_call = bool(client.open_calls)
    if is_short and not was_short and not has_call:
        owed, lending = debt_and_lending_value(ctx.book, client, ctx.params)
        window = timedelta(minutes=ctx.params.integer(RULE_ID, "margin_call_within_minutes"))
        yield Open(RULE_ID, client_id, deadline_after(ctx.now, window), {"debt": owed, "lending_value": lending})
    elif was_short and (not is_short or has_call):
        yield Close(RULE_ID, client_id)  # cancelled, or met by an open call


def overdue(ctx: Context, obligation: Obligation) -> Finding:
    figures = dict(obligation.evidence)
    return missed_deadline(
        RULE, ctx, obligation,
        f"Client {obligation.subject} became short at {obligation.start_occurred_at.isoformat()} "
        f"(debt HKD {figures.get('debt')} against a lending value of HKD "
        f"{figures.get('lending_value')}) and had no margin call open by "
        f"{obligation.deadline.isoformat()}.",
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    uses=COLLATERAL_TERMS,
    status_watch=StatusWatch(SHORT, reconcile),
    overdue=overdue,
)

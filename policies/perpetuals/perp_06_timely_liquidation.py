"""PERP-06 Timely liquidation below maintenance margin.

When a client with an open position falls below its maintenance margin requirement, it must
be brought back to at least the requirement, or every position closed, within
``liquidation_within_minutes``. A liquidation that leaves it still below does not stop the
clock (reading 11).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from domain.book.entities import Obligation
from domain.book.valuation import equity, quantities, requirement
from policies.finding import Finding, missed_deadline
from policies.perpetuals.framework import FRAMEWORK
from policies.perpetuals.maintenance import BELOW_MAINTENANCE
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

RULE_ID = "PERP-06"
TITLE = "Timely liquidation below maintenance margin"
SEVERITY: Severity = "high"
CITATION = FRAMEWORK
PARAMETERS = (Parameter("liquidation_within_minutes", "positive_int", 15),)


def reconcile(ctx: Context, client_id: str, was_below: bool, is_below: bool) -> Iterator[Open | Close]:
    client = ctx.book.client(client_id)
    if is_below and not was_below and client is not None:
        window = timedelta(minutes=ctx.params.integer(RULE_ID, "liquidation_within_minutes"))
        figures = {
            "equity": equity(ctx.book, client),
            "maintenance_requirement": requirement(ctx.book, quantities(client), maintenance=True),
        }
        yield Open(RULE_ID, client_id, deadline_after(ctx.now, window), figures)
    elif was_below and not is_below:
        yield Close(RULE_ID, client_id)


def overdue(ctx: Context, obligation: Obligation) -> Finding:
    figures = dict(obligation.evidence)
    return missed_deadline(
        RULE, ctx, obligation,
        f"Client {obligation.subject} fell below maintenance margin at "
        f"{obligation.start_occurred_at.isoformat()} (equity HKD {figures.get('equity')} "
        f"against HKD {figures.get('maintenance_requirement')}) and was neither restored nor "
        f"flat by {obligation.deadline.isoformat()}.",
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    status_watch=StatusWatch(BELOW_MAINTENANCE, reconcile),
    overdue=overdue,
)

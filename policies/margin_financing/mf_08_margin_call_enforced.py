"""MF-08 Margin call enforced by its due time.

Every margin call must be resolved (topped up, repaid, liquidated or withdrawn) by its
``due_by`` time.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.entities import Obligation
from domain.events import MarginCallIssued, MarginCallResolved
from policies.finding import Finding, missed_deadline
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Close, Context, Open, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-08"
TITLE = "Margin call enforced by its due time"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_issued(ctx: Context) -> Iterator[Open]:
    call = ctx.data(MarginCallIssued)
    yield Open(RULE_ID, call.call_id, call.due_by,
               {"client_id": call.client_id, "shortfall": call.shortfall})


def on_resolved(ctx: Context) -> Iterator[Close]:
    yield Close(RULE_ID, ctx.data(MarginCallResolved).call_id)  # any resolution (reading 8)


def overdue(ctx: Context, obligation: Obligation) -> Finding:
    details = dict(obligation.evidence)
    return missed_deadline(
        RULE, ctx, obligation,
        f"Margin call {obligation.subject} on client {details.get('client_id')} for a shortfall "
        f"of HKD {details.get('shortfall')} was not resolved by its due time "
        f"{obligation.deadline.isoformat()}.",
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(MarginCallIssued, "after", on_issued),
        Trigger(MarginCallResolved, "after", on_resolved),
    ),
    overdue=overdue,
)

"""PERP-08 Funding at least daily.

Every listed perpetual contract must settle funding at least every
``max_funding_interval_hours``, counted from its listing and then from each funding
settlement, until it is delisted. After a missed interval the next settlement starts a new
one (reading 12).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from domain.book.entities import Obligation
from domain.events import FundingSettled, PerpContractDelisted, PerpContractListed
from policies.finding import Finding, missed_deadline
from policies.perpetuals.framework import FRAMEWORK
from policies.rule import Close, Context, Open, Parameter, Rule, Severity, Trigger, deadline_after

RULE_ID = "PERP-08"
TITLE = "Funding at least daily"
SEVERITY: Severity = "medium"
CITATION = FRAMEWORK
PARAMETERS = (Parameter("max_funding_interval_hours", "positive_int", 24),)


def _open(ctx: Context, contract_id: str) -> Open:
    window = timedelta(hours=ctx.params.integer(RULE_ID, "max_funding_interval_hours"))
    return Open(RULE_ID, contract_id, deadline_after(ctx.now, window))


def on_listed(ctx: Context) -> Iterator[Open]:
    yield _open(ctx, ctx.data(PerpContractListed).contract_id)


def on_funding(ctx: Context) -> Iterator[Open | Close]:
    contract_id = ctx.data(FundingSettled).contract_id
    yield Close(RULE_ID, contract_id)
    contract = ctx.book.contract(contract_id)
    # Reading: a delisted contract is no longer "listed": its funding opens no new interval.
    if contract is not None and not contract.delisted:
        yield _open(ctx, contract_id)


def on_delisted(ctx: Context) -> Iterator[Close]:
    yield Close(RULE_ID, ctx.data(PerpContractDelisted).contract_id)


def overdue(ctx: Context, obligation: Obligation) -> Finding:
    return missed_deadline(
        RULE, ctx, obligation,
        f"Perpetual contract {obligation.subject} settled no funding between "
        f"{obligation.start_occurred_at.isoformat()} and {obligation.deadline.isoformat()}.",
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpContractListed, "after", on_listed),
        Trigger(FundingSettled, "after", on_funding),
        Trigger(PerpContractDelisted, "after", on_delisted),
    ),
    overdue=overdue,
)

"""PERP-03 No credit for margin.

Perpetual margin must be the client's own funds: never credit from the platform, an
affiliate or a third party.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpMarginDeposited
from policies.finding import Finding, finding
from policies.perpetuals.framework import FRAMEWORK
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PERP-03"
TITLE = "No credit for margin"
SEVERITY: Severity = "critical"
CITATION = FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()


def on_deposit(ctx: Context) -> Iterator[Finding]:
    deposit = ctx.data(PerpMarginDeposited)
    if deposit.funding_source != "client_funds":
        yield finding(
            RULE, ctx, deposit.client_id,
            f"Client {deposit.client_id}'s perpetual margin deposit {deposit.deposit_id} of "
            f"{deposit.amount:f} {deposit.asset} was funded by "
            f"{deposit.funding_source.replace('_', ' ')}, not the client's own funds.",
            {"funding_source": deposit.funding_source, "asset": deposit.asset,
             "amount": deposit.amount, "deposit_id": deposit.deposit_id},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpMarginDeposited, "before", on_deposit),),
)

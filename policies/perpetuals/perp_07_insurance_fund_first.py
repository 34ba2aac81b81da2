"""PERP-07 Insurance fund before loss sharing.

Losses must not be shared out by auto-deleveraging or socialisation while the insurance fund
could cover them: its balance is at least the loss.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.money import number_text
from domain.events import LossAllocated
from policies.finding import Finding, finding
from policies.perpetuals.framework import FRAMEWORK
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PERP-07"
TITLE = "Insurance fund before loss sharing"
SEVERITY: Severity = "high"
CITATION = FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()
LOSS_SHARING = ("auto_deleveraging", "socialised")


def on_loss(ctx: Context) -> Iterator[Finding]:
    loss = ctx.data(LossAllocated)
    fund = ctx.book.fund_balance()
    if loss.method in LOSS_SHARING and fund >= loss.amount:
        yield finding(
            RULE, ctx, loss.contract_id,
            f"A loss of HKD {loss.amount:f} on {loss.contract_id} was allocated by "
            f"{loss.method.replace('_', ' ')} while the insurance fund held HKD {number_text(fund)}.",
            {"amount": loss.amount, "method": loss.method, "insurance_fund": fund},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(LossAllocated, "before", on_loss),),
)

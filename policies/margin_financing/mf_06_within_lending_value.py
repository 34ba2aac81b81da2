"""MF-06 Advance within lending value.

A VA financing drawdown must not leave the client short: its debt must not exceed its
lending value (open accounts' marginable value plus open eligible pledges after the larger
of their haircut and ``min_haircut``).
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.money import number_text
from domain.events import VAFinancingDrawn
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR, COLLATERAL_TERMS, debt_and_lending_value
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-06"
TITLE = "Advance within lending value"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def after_drawdown(ctx: Context) -> Iterator[Finding]:
    loan = ctx.data(VAFinancingDrawn)
    client = ctx.book.client(loan.client_id)
    if client is None:
        return
    owed, lending = debt_and_lending_value(ctx.book, client, ctx.params)
    if owed > lending:
        yield finding(
            RULE, ctx, loan.loan_id,
            f"After drawing VA financing {loan.loan_id} of HKD {loan.amount:f}, client "
            f"{loan.client_id} owes HKD {number_text(owed)} against a lending value of HKD {number_text(lending)}.",
            {"debt": owed, "lending_value": lending, "amount": loan.amount},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    uses=COLLATERAL_TERMS,
    triggers=(Trigger(VAFinancingDrawn, "after", after_drawdown),),
)

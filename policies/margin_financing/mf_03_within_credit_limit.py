"""MF-03 VA financing within the existing credit limit.

After a VA financing drawdown the client's whole debt (VA financing outstanding plus its
open accounts' securities loan balances) must not exceed the credit limit of the account the
drawdown names, even if that account is closed or another client's (reading 7).
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.money import number_text
from domain.book.valuation import debt
from domain.events import VAFinancingDrawn
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-03"
TITLE = "VA financing within the existing credit limit"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def after_drawdown(ctx: Context) -> Iterator[Finding]:
    loan = ctx.data(VAFinancingDrawn)
    client = ctx.book.client(loan.client_id)
    account = ctx.book.account(loan.account_id)
    if client is None or account is None:
        return
    owed = debt(client)
    if owed > account.credit_limit:
        yield finding(
            RULE, ctx, loan.loan_id,
            f"After drawing VA financing {loan.loan_id} of HKD {loan.amount:f}, client "
            f"{loan.client_id} owes HKD {number_text(owed)}, above the HKD {account.credit_limit:f} "
            f"credit limit of account {loan.account_id}.",
            {"debt": owed, "credit_limit": account.credit_limit, "account_id": loan.account_id,
             "amount": loan.amount},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(VAFinancingDrawn, "after", after_drawdown),),
)

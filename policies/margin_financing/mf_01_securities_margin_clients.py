"""MF-01 Financing only for securities margin clients.

VA financing may be drawn only on an open securities margin account of the client that
draws it.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import VAFinancingDrawn
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-01"
TITLE = "Financing only for securities margin clients"
SEVERITY: Severity = "critical"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_drawdown(ctx: Context) -> Iterator[Finding]:
    loan = ctx.data(VAFinancingDrawn)
    account = ctx.book.account(loan.account_id)
    if account is not None and account.client_id == loan.client_id and account.open:
        return
    if account is None:
        why = "does not exist"
    elif account.client_id != loan.client_id:
        why = f"belongs to client {account.client_id}"
    else:
        why = "is closed"
    yield finding(
        RULE, ctx, loan.loan_id,
        f"VA financing {loan.loan_id} of HKD {loan.amount:f} for client {loan.client_id} was "
        f"drawn on securities margin account {loan.account_id}, which {why}.",
        {
            "account_id": loan.account_id,
            "account_client_id": None if account is None else account.client_id,
            "account_open": None if account is None else account.open,
            "amount": loan.amount,
        },
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(VAFinancingDrawn, "before", on_drawdown),),
)

"""MF-09 No further advances while a margin call is open.

A client with an open margin call must not draw further VA financing.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import VAFinancingDrawn
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-09"
TITLE = "No further advances while a margin call is open"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_drawdown(ctx: Context) -> Iterator[Finding]:
    loan = ctx.data(VAFinancingDrawn)
    client = ctx.book.client(loan.client_id)
    if client is not None and client.open_calls:
        calls = sorted(client.open_calls)
        yield finding(
            RULE, ctx, loan.loan_id,
            f"Client {loan.client_id} drew VA financing {loan.loan_id} of HKD {loan.amount:f} "
            f"while margin call {', '.join(calls)} was open.",
            {"open_calls": calls, "amount": loan.amount},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(VAFinancingDrawn, "before", on_drawdown),),
)

"""MF-02 No credit-limit increase because of VA financing.

A broker must not raise a client's securities margin credit limit to make room for VA
financing.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import CreditLimitChanged
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-02"
TITLE = "No credit-limit increase because of VA financing"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_limit_changed(ctx: Context) -> Iterator[Finding]:
    change = ctx.data(CreditLimitChanged)
    account = ctx.book.account(change.account_id)
    if account is None or change.reason != "va_financing":
        return
    if change.credit_limit > account.credit_limit:
        yield finding(
            RULE, ctx, change.client_id,
            f"The credit limit of client {change.client_id}'s account {change.account_id} was "
            f"raised from HKD {account.credit_limit:f} to HKD {change.credit_limit:f} "
            "for VA financing.",
            {
                "account_id": change.account_id,
                "old_credit_limit": account.credit_limit,
                "new_credit_limit": change.credit_limit,
                "reason": change.reason,
            },
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(CreditLimitChanged, "before", on_limit_changed),),
)

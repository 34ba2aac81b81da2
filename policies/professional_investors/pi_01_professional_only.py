"""PI-01 Perpetual contracts for professional investors only.

A retail client must not place a perpetual order or deposit perpetual margin: perpetual
contracts are offered to professional investors only. The pre-trade check reports it before
the fact.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpMarginDeposited, PerpOrderPlaced
from policies.finding import Finding, finding
from policies.professional_investors.citations import PERPETUALS_FRAMEWORK, PI_RULES
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PI-01"
TITLE = "Perpetual contracts for professional investors only"
SEVERITY: Severity = "critical"
CITATION = f"{PERPETUALS_FRAMEWORK}; {PI_RULES}"
PARAMETERS: tuple[Parameter, ...] = ()


def _judge(ctx: Context, client_id: str, action: str) -> Iterator[Finding]:
    client = ctx.book.client(client_id)
    if client is not None and client.investor_class == "retail":
        yield finding(
            RULE, ctx, client_id,
            f"Retail client {client_id} {action}, but perpetual contracts are for "
            "professional investors only.",
            {"investor_class": client.investor_class},
        )


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    return _judge(ctx, order.client_id, f"placed perpetual order {order.order_id}")


def on_deposit(ctx: Context) -> Iterator[Finding]:
    deposit = ctx.data(PerpMarginDeposited)
    return _judge(ctx, deposit.client_id, f"deposited perpetual margin ({deposit.deposit_id})")


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpOrderPlaced, "before", on_order),
        Trigger(PerpMarginDeposited, "before", on_deposit),
    ),
)

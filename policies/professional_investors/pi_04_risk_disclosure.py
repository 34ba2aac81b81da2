"""PI-04 Risk disclosure before dealing.

A client must have acknowledged the risk disclosure for perpetuals before placing a
perpetual order, and the one for VA financing before drawing VA financing.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpOrderPlaced, VAFinancingDrawn
from policies.finding import Finding, finding
from policies.professional_investors.citations import PERPETUALS_FRAMEWORK
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PI-04"
TITLE = "Risk disclosure before dealing"
SEVERITY: Severity = "medium"
CITATION = f"{PERPETUALS_FRAMEWORK}; SFC circular 26EC5 (11 Feb 2026), VA margin financing"
PARAMETERS: tuple[Parameter, ...] = ()


def _judge(ctx: Context, client_id: str, product: str, action: str) -> Iterator[Finding]:
    client = ctx.book.client(client_id)
    if client is not None and product not in client.disclosures:
        yield finding(
            RULE, ctx, client_id,
            f"Client {client_id} {action} without acknowledging the {product} risk disclosure.",
            {"product": product, "acknowledged": sorted(client.disclosures)},
        )


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    return _judge(ctx, order.client_id, "perpetuals", f"placed perpetual order {order.order_id}")


def on_drawdown(ctx: Context) -> Iterator[Finding]:
    loan = ctx.data(VAFinancingDrawn)
    return _judge(ctx, loan.client_id, "va_financing", f"drew VA financing {loan.loan_id}")


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpOrderPlaced, "before", on_order),
        Trigger(VAFinancingDrawn, "before", on_drawdown),
    ),
)

"""PI-03 Derivatives knowledge before perpetuals.

A client may place a perpetual order only if its latest derivatives-knowledge assessment
found that it has knowledge of derivatives.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpOrderPlaced
from policies.finding import Finding, finding
from policies.professional_investors.citations import PERPETUALS_FRAMEWORK
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PI-03"
TITLE = "Derivatives knowledge before perpetuals"
SEVERITY: Severity = "high"
CITATION = PERPETUALS_FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    client = ctx.book.client(order.client_id)
    if client is None or client.has_knowledge is True:
        return
    why = "has never been assessed" if client.has_knowledge is None else "was last assessed without it"
    yield finding(
        RULE, ctx, order.client_id,
        f"Client {order.client_id} placed perpetual order {order.order_id} without derivatives "
        f"knowledge: it {why}.",
        {"has_knowledge": client.has_knowledge, "order_id": order.order_id},
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpOrderPlaced, "before", on_order),),
)

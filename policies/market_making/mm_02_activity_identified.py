"""MM-02 Market-making activity identified.

Orders from a market maker's account must be flagged as market-making activity, and orders
from any other account must not be.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpOrderPlaced
from policies.finding import Finding, finding
from policies.market_making.circular import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MM-02"
TITLE = "Market-making activity identified"
SEVERITY: Severity = "medium"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    client = ctx.book.client(order.client_id)
    if client is None:
        return
    mm_id = client.market_maker_id
    if mm_id is not None and not order.market_maker:
        why = f"is from market maker {mm_id}'s account but is not flagged as market making"
    elif mm_id is None and order.market_maker:
        why = "is flagged as market making but its account is no market maker's"
    else:
        return
    yield finding(
        RULE, ctx, order.order_id,
        f"Order {order.order_id} of client {order.client_id} {why}.",
        {"client_id": order.client_id, "market_maker_id": mm_id, "market_maker": order.market_maker},
    )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpOrderPlaced, "before", on_order),),
)

"""MM-03 Client orders first.

An affiliate market maker must not be filled ahead of clients: a trade in which its order
buys (sells) is a breach while an order of a client that is not a market-maker account rests
on the same side of the same contract with a limit at least as good as the trade price, or
no limit. Judged per side, on the book before the trade; the trade's own two orders do not
count.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from domain.book.entities import Order
from domain.book.view import BookView
from domain.events import PerpTradeExecuted
from policies.finding import Finding, finding
from policies.market_making.circular import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MM-03"
TITLE = "Client orders first"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()
SIDES = ("buy", "sell")


def _at_least_as_good(order: Order, price: Decimal) -> bool:
    if order.limit_price is None:
        return True
    return order.limit_price >= price if order.side == "buy" else order.limit_price <= price


def _passed_over(book: BookView, trade: PerpTradeExecuted, side: str) -> Order | None:
    """The best resting client order on ``side`` that the trade went ahead of, if any: the
    best other than the trade's own decides."""
    best = book.best_resting_client_order(trade.contract_id, side, (trade.buy_order_id, trade.sell_order_id))
    return best if best is not None and _at_least_as_good(best, trade.price) else None


def on_trade(ctx: Context) -> Iterator[Finding]:
    trade = ctx.data(PerpTradeExecuted)
    for side, order_id in zip(SIDES, (trade.buy_order_id, trade.sell_order_id), strict=True):
        order = ctx.book.order(order_id)
        client = None if order is None else ctx.book.client(order.client_id)
        mm = None if client is None else ctx.book.affiliate_of(client)
        waiting = None if mm is None else _passed_over(ctx.book, trade, side)
        if mm is None or waiting is None:
            continue
        limit = "no limit" if waiting.limit_price is None else f"limit {waiting.limit_price:f}"
        yield finding(
            RULE, ctx, trade.trade_id,
            f"Affiliate market maker {mm.mm_id} was filled on the {side} side of trade "
            f"{trade.trade_id} at {trade.price:f} while client order {waiting.order_id} "
            f"({limit}, {waiting.remaining:f} unfilled) was resting ahead of it.",
            {"side": side, "market_maker_order_id": order_id, "price": trade.price,
             "resting_order_id": waiting.order_id, "resting_limit_price": waiting.limit_price,
             "resting_remaining": waiting.remaining},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpTradeExecuted, "before", on_trade),),
)

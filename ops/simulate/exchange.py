"""The platform's order book for one perpetual contract: price, then client, then time priority.

Clients go ahead of market makers at the same price (the affiliate's "client priority"
safeguard), and every incoming order matches until the book is no longer crossed, so an
affiliate is never filled while a client order at least as good rests on its side (MM-03).
Market orders never rest: what they do not fill is cancelled at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sortedcontainers import SortedList

Key = tuple[int, bool, int, str]  # (price rank, market maker, sequence, order id)


@dataclass(slots=True, eq=False)
class SimulatedOrder:
    order_id: str
    client_id: str
    contract_id: str
    side: str
    remaining: Decimal
    limit_cents: int | None  # None: a market order
    market_maker: bool  # placed from a market maker's account
    seq: int

    def key(self) -> Key:
        assert self.limit_cents is not None, "market orders never rest"
        rank = -self.limit_cents if self.side == "buy" else self.limit_cents
        return (rank, self.market_maker, self.seq, self.order_id)


@dataclass(frozen=True, slots=True)
class Fill:
    maker: SimulatedOrder
    quantity: Decimal
    price_cents: int


class OrderBook:
    def __init__(self) -> None:
        self.sides: dict[str, SortedList] = {"buy": SortedList(), "sell": SortedList()}
        self.orders: dict[str, SimulatedOrder] = {}

    def rest(self, order: SimulatedOrder) -> None:
        self.sides[order.side].add(order.key())
        self.orders[order.order_id] = order

    def remove(self, order_id: str) -> SimulatedOrder | None:
        order = self.orders.pop(order_id, None)
        if order is not None:
            self.sides[order.side].remove(order.key())
        return order

    def match(self, taker: SimulatedOrder) -> list[Fill]:
        """Fill ``taker`` against the opposite side while it crosses; makers fully filled
        leave the book. The caller rests or cancels what remains of the taker."""
        opposite = self.sides["sell" if taker.side == "buy" else "buy"]
        fills: list[Fill] = []
        while taker.remaining > 0 and opposite:
            maker = self.orders[opposite[0][3]]
            assert maker.limit_cents is not None
            if taker.limit_cents is not None and (
                maker.limit_cents > taker.limit_cents if taker.side == "buy"
                else maker.limit_cents < taker.limit_cents
            ):
                break
            quantity = min(taker.remaining, maker.remaining)
            taker.remaining -= quantity
            maker.remaining -= quantity
            fills.append(Fill(maker, quantity, maker.limit_cents))
            if maker.remaining == 0:
                self.remove(maker.order_id)
        return fills

    def best_cents(self, side: str) -> int | None:
        keys = self.sides[side]
        if not keys:
            return None
        return -keys[0][0] if side == "buy" else keys[0][0]

    def resting_client_orders(self, side: str) -> list[SimulatedOrder]:
        return [o for o in (self.orders[k[3]] for k in self.sides[side]) if not o.market_maker]

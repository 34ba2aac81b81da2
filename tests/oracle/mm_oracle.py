"""MM-01 to MM-04 read straight from rulebook.md, as a yardstick for the monitor.

Written from the spec alone, without looking at ``policies/`` or ``projections/monitor/``,
so that an error there is not copied here. It takes the events as upstream sent them (decoded
JSON objects, in ledger order) and keeps only the state these four rules need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, localcontext
from typing import Any

Triple = tuple[str, str, str]
# Quantities are summed and compared exactly: rounding a fill could hide a resting remainder.
EXACT = Context(prec=1000, traps=[Inexact])

CONTROLS = ("information_barrier", "functional_independence", "conflict_monitoring",
            "client_priority")


@dataclass
class MarketMaker:
    affiliate: bool
    controls: dict[str, bool]


@dataclass
class Order:
    client_id: str
    contract_id: str
    side: str
    quantity: Decimal
    limit_price: Decimal | None
    filled: Decimal = Decimal(0)
    cancelled: bool = False


@dataclass
class State:
    market_makers: dict[str, MarketMaker] = field(default_factory=dict)
    # client id -> market_maker_id (None: not a market-maker account)
    clients: dict[str, str | None] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def is_mm_account(self, client_id: str) -> bool:
        return self.clients.get(client_id) is not None

    def is_affiliate_mm_account(self, client_id: str) -> bool:
        mm_id = self.clients.get(client_id)
        return mm_id is not None and mm_id in self.market_makers and (
            self.market_makers[mm_id].affiliate)


def decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def mm_findings(events: Iterable[Mapping[str, Any]]) -> Counter[Triple]:
    """The (rule id, event id, subject) of every MM finding, counted."""
    state = State()
    found: Counter[Triple] = Counter()
    with localcontext(EXACT):
        for event in events:
            _process(state, event, found)
    return found


def _process(state: State, event: Mapping[str, Any], found: Counter[Triple]) -> None:
    event_id = event["event_id"]
    # Readings 2: a duplicate runs no step at all.
    if event_id in state.seen:
        return
    state.seen.add(event_id)
    handler = HANDLERS.get(event["type"])
    if handler is not None:
        for rule_id, subject in handler(state, event["data"]):
            found[(rule_id, event_id, subject)] += 1


def _registered(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    state.market_makers[data["mm_id"]] = MarketMaker(
        bool(data["affiliate"]), {c: bool(data["controls"][c]) for c in CONTROLS})
    return []


def _controls_changed(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    state.market_makers[data["mm_id"]].controls = {c: bool(data["controls"][c]) for c in CONTROLS}
    return []


def _onboarded(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    # ClientReclassified carries no market_maker_id: onboarding alone decides it.
    state.clients[data["client_id"]] = data.get("market_maker_id")
    return []


def _order_placed(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    client_id = data["client_id"]
    mm_id = state.clients.get(client_id)
    if state.is_affiliate_mm_account(client_id):
        assert mm_id is not None
        if not all(state.market_makers[mm_id].controls.values()):
            out.append(("MM-01", mm_id))
    flagged = bool(data["market_maker"])
    if state.is_mm_account(client_id) != flagged:
        out.append(("MM-02", data["order_id"]))
    limit = data.get("limit_price")
    state.orders[data["order_id"]] = Order(
        client_id, data["contract_id"], data["side"], decimal(data["quantity"]),
        None if limit is None else decimal(limit))
    return out


def _order_cancelled(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    state.orders[data["order_id"]].cancelled = True
    return []


def _at_least_as_good(order: Order, price: Decimal) -> bool:
    if order.limit_price is None:
        return True
    return order.limit_price >= price if order.side == "buy" else order.limit_price <= price


def _trade_executed(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    price = decimal(data["price"])
    own = {data["buy_order_id"], data["sell_order_id"]}
    for side, order_id in (("buy", data["buy_order_id"]), ("sell", data["sell_order_id"])):
        if not state.is_affiliate_mm_account(state.orders[order_id].client_id):
            continue
        resting = [
            o for oid, o in state.orders.items()
            if oid not in own
            and o.side == side
            and o.contract_id == data["contract_id"]
            and not state.is_mm_account(o.client_id)
            and not o.cancelled
            and o.quantity - o.filled > 0
            and _at_least_as_good(o, price)
        ]
        if resting:
            out.append(("MM-03", data["trade_id"]))
    quantity = decimal(data["quantity"])
    for order_id in own:
        state.orders[order_id].filled += quantity
    return out


def _data_accessed(state: State, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    entity = data["actor_entity"]
    mm = state.market_makers.get(entity)
    if mm is not None and mm.affiliate and data["dataset"] != "market_data":
        return [("MM-04", entity)]
    return []


HANDLERS = {
    "MarketMakerRegistered": _registered,
    "MarketMakerControlsChanged": _controls_changed,
    "ClientOnboarded": _onboarded,
    "PerpOrderPlaced": _order_placed,
    "PerpOrderCancelled": _order_cancelled,
    "PerpTradeExecuted": _trade_executed,
    "DataAccessed": _data_accessed,
}

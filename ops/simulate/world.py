"""The simulated firm: its clock, its random source, its clients and books, and the one
place events are emitted. The broker and platform modules act on it; it tells them when a
client becomes short or falls below maintenance, which it finds through price thresholds."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from fractions import Fraction
from typing import Any

from sortedcontainers import SortedList

from ops.simulate import accounts as acc
from ops.simulate.accounts import ContractSpec, SimulatedClient
from ops.simulate.config import SimConfig
from ops.simulate.exchange import OrderBook
from ops.simulate.market import Market, cents_price
from ops.simulate.timeline import Timeline

CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")
Event = dict[str, Any]


def text(value: Decimal) -> str:
    """A Decimal as events.md wants it: a JSON string in plain notation."""
    return format(value, "f")


def cents_up(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(-((-value.numerator * 100) // value.denominator)) / 100
    return value.quantize(CENT, rounding=ROUND_UP)


def units_up(value: Fraction) -> Decimal:
    """A quantity of a virtual asset, rounded up to 8 decimal places."""
    scaled = -((-value.numerator * 10**8) // value.denominator)
    return Decimal(scaled).scaleb(-8)


def units_down(value: Fraction) -> Decimal:
    return Decimal(value.numerator * 10**8 // value.denominator).scaleb(-8)


def cents_down(value: Fraction) -> Decimal:
    return Decimal(value.numerator * 100 // value.denominator).scaleb(-2)


def round_down(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


class World:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.tl = Timeline(config.start)
        self.market = Market()
        self.prices: dict[str, Decimal] = {"HKD": Decimal(1)}
        self.clients: dict[str, SimulatedClient] = {}
        self.contracts: dict[str, ContractSpec] = {}
        self.delisted: set[str] = set()
        self.books: dict[str, OrderBook] = {}
        self.market_makers: dict[str, bool] = {}  # mm id -> affiliate
        self.mm_accounts: list[SimulatedClient] = []
        self.fund = Decimal(0)
        self.min_haircut = acc.MIN_HAIRCUT  # MF-05's value in force, which the lending value uses
        self.haircut_floor = acc.MIN_HAIRCUT  # the lowest haircut the broker grants: raised on notice
        self.settlement_breaches: list[str] = []  # "counterparty" or "late", for the next trades
        self.funding_skip_until_ms: dict[str, int] = {}
        self.out: list[Event] = []
        self.events = 0
        self._ids: dict[str, itertools.count[int]] = {}
        self._short_index: dict[str, SortedList] = {"BTC": SortedList(), "ETH": SortedList()}
        self._short_key: dict[str, tuple[Fraction, str]] = {}
        self._short_now: set[str] = set()
        self._below_index: dict[tuple[str, str], SortedList] = {}
        self._below_key: dict[str, tuple[str, str, Fraction]] = {}
        self._below_now: set[str] = set()
        # set by the broker and the platform: what to do when a status begins
        self.on_short: Callable[[SimulatedClient], None] = lambda c: None
        self.on_below: Callable[[SimulatedClient], None] = lambda c: None

    # --- emitting ------------------------------------------------------------------------------
    def emit(self, kind: str, data: dict[str, Any], source: str) -> None:
        self.events += 1
        self.out.append({
            "event_id": f"s{self.config.seed}-{self.events:09d}", "type": kind,
            "occurred_at": self.tl.stamp(), "source": source, "data": data,
        })

    def new_id(self, prefix: str) -> str:
        counter = self._ids.setdefault(prefix, itertools.count(1))
        return f"{prefix}{next(counter):07d}"

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def between_ms(self, low_ms: int, high_ms: int) -> int:
        return self.rng.randint(low_ms, high_ms)

    def every(self, period_ms: int, first_ms: int, action: Callable[[], None]) -> None:
        """Run ``action`` at ``first_ms`` and every ``period_ms`` after."""

        def run() -> None:
            action()
            self.tl.after(period_ms, run)

        self.tl.at(first_ms, run)

    def poisson(self, per_day: float, action: Callable[[], None]) -> None:
        """Run ``action`` at random instants, ``per_day`` times a day on average."""
        mean_ms = 86_400_000 / per_day

        def run() -> None:
            action()
            self.tl.after(1 + int(self.rng.expovariate(1 / mean_ms)), run)

        self.tl.after(1 + int(self.rng.expovariate(1 / mean_ms)), run)

    def set_price(self, symbol: str, cents: int, source: str) -> None:
        self.prices[symbol] = cents_price(cents)
        self.emit("PriceObserved", {"asset": symbol, "price": text(cents_price(cents)),
                                    "price_source": source}, "market-data")
        self._price_moved(symbol)

    # --- statuses ------------------------------------------------------------------------------
    def refresh_broker(self, c: SimulatedClient) -> None:
        """Re-index the client's short threshold and follow its status after an event."""
        old = self._short_key.pop(c.client_id, None)
        if old is not None:
            self._short_index[c.collateral].remove(old)
        threshold = acc.short_threshold(c, self.min_haircut)
        if threshold is not None:
            key = (threshold, c.client_id)
            self._short_index[c.collateral].add(key)
            self._short_key[c.client_id] = key
        self._follow_short(c)

    def _follow_short(self, c: SimulatedClient) -> None:
        now = acc.is_short(c, self.prices.get(c.collateral, Decimal(0)), self.min_haircut)
        if now and not c.short:
            c.short = True
            self._short_now.add(c.client_id)
            self.on_short(c)
        elif c.short and not now:
            c.short = False
            self._short_now.discard(c.client_id)

    def refresh_perp(self, c: SimulatedClient) -> None:
        old = self._below_key.pop(c.client_id, None)
        if old is not None:
            self._below_index[(old[0], old[1])].remove((old[2], c.client_id))
        if c.contract is not None and c.mm_id is None:
            found = acc.below_threshold(c, self.prices, self.contracts[c.contract])
            if found is not None:
                side, threshold = found
                self._below_index.setdefault((c.contract, side), SortedList()).add((threshold, c.client_id))
                self._below_key[c.client_id] = (c.contract, side, threshold)
        self._follow_below(c)

    def _follow_below(self, c: SimulatedClient) -> None:
        now = acc.is_below_maintenance(c, self.prices, self.contracts)
        if now and not c.below:
            c.below = True
            self._below_now.add(c.client_id)
            self.on_below(c)
        elif c.below and not now:
            c.below = False
            self._below_now.discard(c.client_id)

    def _price_moved(self, symbol: str) -> None:
        touched: list[SimulatedClient] = []
        if symbol in self._short_index:
            index = self._short_index[symbol]
            price = Fraction(self.prices[symbol])
            start = index.bisect_right((price, "\U0010ffff"))
            touched += [self.clients[cid] for _, cid in index.islice(start)]
            touched += [self.clients[cid] for cid in sorted(self._short_now)
                        if self.clients[cid].collateral == symbol]
        for contract_id, spec in self.contracts.items():
            if spec.reference != symbol:
                continue
            mark = Fraction(self.prices[symbol])
            longs = self._below_index.get((contract_id, "long"), SortedList())
            shorts = self._below_index.get((contract_id, "short"), SortedList())
            candidates = itertools.chain(
                (cid for _, cid in longs.islice(longs.bisect_right((mark, "\U0010ffff")))),
                (cid for _, cid in shorts.islice(0, shorts.bisect_left((mark, "")))),
                sorted(self._below_now),
            )
            for cid in candidates:
                client = self.clients[cid]
                if client.contract == contract_id:
                    self._follow_below(client)
        for c in _unique(touched):
            self._follow_short(c)
        for mm in self.mm_accounts:
            assert not acc.is_below_maintenance(mm, self.prices, self.contracts), "a market maker ran out of margin"


def _unique(clients: Iterable[SimulatedClient]) -> list[SimulatedClient]:
    seen: dict[str, SimulatedClient] = {}
    for c in clients:
        seen.setdefault(c.client_id, c)
    return list(seen.values())

"""A stress ladder's aggregates fast enough to run after every price tick.

The engine path (``StressRun.scenario``) applies each shock through the monitor and values
every client again: exact by construction, and linear in the clients with a large constant.
For the aggregates of a ladder (total shortfall, margin calls, liquidations, loss beyond
margin, insurance fund, loss sharing) this path uses that every figure the rulebook compares
is linear in each price: LV = Σ q × p × (1 - h) + securities, equity = Σ net × p + Σ q × k × m
+ constants, maintenance = Σ |q| × k × m × rate. So each client's slope per asset is computed
once from the book, and a shock adds slope × (new price - old price), exactly (Decimal
arithmetic distributes exactly). ``tests/stress/test_fast.py`` checks that it equals the
engine path's aggregates for random books and shocks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.book.money import ZERO, exact, number_text
from domain.book.valuation import debt, effective_haircut
from projections.stress.run import StressRun, collector_paused, perp_figures
from projections.stress.scenario import Scenario


@dataclass(slots=True)
class Slopes:
    """One client's figures before any shock and how they move with each asset's price."""

    lending_value: Decimal
    debt: Decimal
    has_call: bool
    lv_per_price: dict[str, Decimal] = field(default_factory=dict)  # pledged q x (1 - h)
    equity: Decimal = ZERO
    maintenance: Decimal = ZERO
    positions: bool = False
    # per contract marking: (asset, old mark, q x k, |q| x k x maintenance rate)
    marks: list[tuple[str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    margin: dict[str, Decimal] = field(default_factory=dict)  # net deposited per asset


class FastLadder:
    def __init__(self, run: StressRun) -> None:
        # Some objects per client over a book of millions, none in a cycle: the collector
        # would scan the whole book again and again as they are made.
        with collector_paused():
            self._build(run)

    def _build(self, run: StressRun) -> None:
        self.run = run
        book = run.book
        eligible, min_haircut = run.terms
        self.slopes: dict[str, Slopes] = {}
        with exact():
            price = book.price
            for client_id, client in book.clients.items():
                # LV as the rulebook sums it, each pledge's q x (1 - h) kept as the slope: the
                # same exact products, grouped by asset (checked against ``lending_value``).
                lv = sum((a.marginable_value for a in client.accounts.values() if a.open), ZERO)
                s = Slopes(lv, debt(client), bool(client.open_calls))
                for pledge in client.pledges.values():
                    if pledge.is_open and pledge.asset in eligible:
                        w = pledge.quantity * (1 - effective_haircut(pledge.haircut, min_haircut))
                        s.lv_per_price[pledge.asset] = s.lv_per_price.get(pledge.asset, ZERO) + w
                        s.lending_value += w * price(pledge.asset)
                if client.positions:
                    perp = perp_figures(book, client)
                    s.equity, s.maintenance, s.positions = perp.equity, perp.maintenance, True
                    for contract_id, position in client.positions.items():
                        contract = book.contracts[contract_id]
                        old = book.mark(contract)
                        size = position.quantity * contract.contract_size
                        s.marks.append((contract.reference_asset, ZERO if old is None else old, size,
                                        abs(size) * contract.maintenance_margin_rate))
                s.margin = client.margin  # read only; an edit replaces a client's row
                self.slopes[client_id] = s
            # For a shock of one asset (a ladder's rungs): per asset, the clients whose lending
            # value moves with it, as (D - LV, slope, has an open call), and the part of the
            # totals they make before the shock; a rung is then one pass over these rows.
            self.rows: dict[str, list[tuple[Decimal, Decimal, bool]]] = {}
            for s in self.slopes.values():
                for asset, w in s.lv_per_price.items():
                    if w:
                        self.rows.setdefault(asset, []).append((s.debt - s.lending_value, w, s.has_call))
            self.rows_before = {
                asset: (sum((max(ZERO, gap) for gap, _, _ in rows), ZERO),
                        sum(1 for gap, _, call in rows if gap > 0 and not call))
                for asset, rows in self.rows.items()
            }
            self.perps_of: dict[str, list[str]] = {}
            for client_id, s in self.slopes.items():
                for asset in {a for a, _, _, _ in s.marks} | set(s.margin):
                    self.perps_of.setdefault(asset, []).append(client_id)
            self.base_shortfall = sum((max(ZERO, s.debt - s.lending_value) for s in self.slopes.values()), ZERO)
            self.base_calls = sum(1 for s in self.slopes.values() if s.debt > s.lending_value and not s.has_call)
            self.base_below = {c: s for c, s in self.slopes.items() if s.positions and s.equity < s.maintenance}

    def summary(self, scenario: Scenario) -> dict[str, Any]:
        run = self.run
        with exact():
            prices = run.shocked_prices(scenario)
            old = {a: run.book.price(a) for a in prices}
            shortfall, calls = self.base_shortfall, self.base_calls
            below = dict.fromkeys(self.base_below, True)
            losses: dict[str, Decimal] = {c: max(ZERO, -s.equity) for c, s in self.base_below.items()}
            reached: Collection[str]
            if len(prices) == 1:
                [(asset, price)] = prices.items()
                shortfall, calls = self._one_asset(asset, price - old[asset], shortfall, calls)
                reached = self.perps_of.get(asset, ())
            else:
                reached = set().union(*(run.holders(a) for a in prices))
                for client_id in reached:
                    shortfall, calls = self._client(self.slopes[client_id], prices, old, shortfall, calls)
            for client_id in reached:
                s = self.slopes[client_id]
                if s.positions:
                    equity, maintenance = self._perp_after(s, prices, old)
                    below.pop(client_id, None)
                    losses.pop(client_id, None)
                    if equity < maintenance:
                        below[client_id] = True
                        losses[client_id] = max(ZERO, -equity)
            loss = sum(losses.values(), ZERO)
            fund = run.book.fund_balance()
            covered = min(fund, loss)
            return {
                "label": scenario.label, "shocks": scenario.shocks_json(),
                "prices_after": {a: number_text(p) for a, p in sorted(prices.items())},
                "total_shortfall_after": number_text(shortfall), "margin_call_count": calls,
                "liquidations": len(below), "loss_beyond_margin": number_text(loss),
                "insurance_fund_before": number_text(fund), "insurance_fund_after": number_text(fund - covered),
                "loss_sharing": number_text(loss - covered),
            }

    def _one_asset(self, asset: str, move: Decimal, shortfall: Decimal, calls: int) -> tuple[Decimal, int]:
        rows = self.rows.get(asset)
        if not rows:
            return shortfall, calls
        base_shortfall, base_calls = self.rows_before[asset]
        after, due = ZERO, 0
        for gap, w, has_call in rows:
            g = gap - w * move
            if g > 0:
                after += g
                if not has_call:
                    due += 1
        return shortfall - base_shortfall + after, calls - base_calls + due

    @staticmethod
    def _client(s: Slopes, prices: Mapping[str, Decimal], old: Mapping[str, Decimal],
                shortfall: Decimal, calls: int) -> tuple[Decimal, int]:
        lv = s.lending_value + sum(
            (w * (prices[a] - old[a]) for a, w in s.lv_per_price.items() if a in prices), ZERO)
        shortfall += max(ZERO, s.debt - lv) - max(ZERO, s.debt - s.lending_value)
        if not s.has_call:
            calls += (s.debt > lv) - (s.debt > s.lending_value)
        return shortfall, calls

    @staticmethod
    def _perp_after(s: Slopes, prices: Mapping[str, Decimal], old: Mapping[str, Decimal]) -> tuple[Decimal, Decimal]:
        equity, maintenance = s.equity, s.maintenance
        for asset, net in s.margin.items():
            if asset in prices:
                equity += net * (prices[asset] - old[asset])
        for asset, mark, size, rate in s.marks:
            if asset in prices:
                equity += size * (prices[asset] - mark)
                maintenance += rate * (prices[asset] - mark)
        return equity, maintenance

"""Stress: the margin book and the perpetual positions under shocked prices, never written.

Exact by construction: the shocked prices are ``PriceObserved`` events applied by the monitor
engine itself (every rule judging them, statuses and deadline obligations following) inside
its undo journal (``MonitorEngine.hypothetically``), and every figure is read with the
rulebook's own functions (``domain.book.valuation``) from the state so reached, then undone.
So a stress result is what the monitor would hold had those prices been observed at the
state's moment (``tests/stress/test_exactness.py`` checks it against a scratch copy).

Steps, per scenario: (1) the shocked prices are applied at the state's moment; (2) the
clients the shocked assets reach are valued again (a client holding none of them has the
figures it had before: its lending value, debt, equity and requirement read no shocked price);
(3) the results are undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.book.book import Book
from domain.book.entities import Client, obligation_key
from domain.book.money import ZERO, number_text
from domain.book.valuation import debt, equity, lending_value, quantities, requirement
from domain.events import Envelope, PriceObserved
from policies.finding import Finding
from projections.asof.replay import Replay
from projections.asof.replay import _collector_paused as collector_paused  # one definition of it
from projections.asof.state import collateral_terms
from projections.stress.concentration import concentration
from projections.stress.scenario import Scenario

STRESS_SOURCE = "stress"
EMPTY_LEDGER_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)  # nothing to shock, nothing to time
MARGIN_CALL_RULE = "MF-07"
Apply = Callable[[Envelope, int], list[Finding]]


@dataclass(frozen=True, slots=True)
class ClientFigures:
    lending_value: Decimal
    debt: Decimal

    @property
    def shortfall(self) -> Decimal:
        """max(0, D - LV): a client exactly at D = LV is not short."""
        return max(ZERO, self.debt - self.lending_value)


@dataclass(frozen=True, slots=True)
class PerpFigures:
    equity: Decimal
    maintenance: Decimal
    below: bool  # some non-zero position and equity below maintenance (reading 11)


@dataclass(slots=True)
class Figures:
    clients: dict[str, ClientFigures]
    perps: dict[str, PerpFigures]
    fund: Decimal


def client_figures(book: Book, client: Client, terms: tuple[tuple[str, ...], Decimal]) -> ClientFigures:
    return ClientFigures(lending_value(book, client, *terms), debt(client))


def perp_figures(book: Book, client: Client) -> PerpFigures:
    e = equity(book, client)
    m = requirement(book, quantities(client), maintenance=True)
    return PerpFigures(e, m, bool(client.positions) and e < m)


class StressRun:
    """The state of one replay, valued once before any shock and again under each scenario."""

    def __init__(self, state: Replay) -> None:
        self.state = state
        self.engine = state.engine
        self.book = state.engine.book
        self.moment = state.moment or EMPTY_LEDGER_MOMENT
        self.terms = collateral_terms(state)
        self._holders: dict[str, set[str]] | None = None
        self._before: Figures | None = None

    @property
    def before(self) -> Figures:
        """Every client's figures before any shock, valued on first use (``--totals`` needs
        none: the fast ladder values the state in its own pass)."""
        if self._before is None:
            with self.engine.exactly(), collector_paused():  # a figure per client, no cycle
                self._before = self._value(self.book.clients.keys(), None)
        return self._before

    def header(self) -> dict[str, Any]:
        return {
            "as_of": None if self.state.moment is None else self.moment.isoformat(),
            "ledger_position": self.state.position,
            "currency": "HKD",
            "parameters": {"MF-04.eligible_assets": list(self.terms[0]),
                           "MF-05.min_haircut": number_text(self.terms[1])},
        }

    # -- valuing --------------------------------------------------------------------------
    def _value(self, client_ids: Iterable[str], base: Figures | None) -> Figures:
        """Figures of ``client_ids``; the others as in ``base``."""
        book = self.book
        clients = dict(base.clients) if base is not None else {}
        perps = dict(base.perps) if base is not None else {}
        for client_id in client_ids:
            client = book.clients[client_id]
            clients[client_id] = client_figures(book, client, self.terms)
            if client.positions:
                perps[client_id] = perp_figures(book, client)
            else:
                perps.pop(client_id, None)
        return Figures(clients, perps, book.fund_balance())

    def holders(self, asset: str) -> set[str]:
        """The clients whose figures read ``asset``'s price: a pledge of it (open or not:
        cheap to include), margin in it, a position in a contract it marks."""
        if self._holders is None:
            index: dict[str, set[str]] = {}
            marked_by = {c.contract_id: c.reference_asset for c in self.book.contracts.values()}
            for client_id, client in self.book.clients.items():
                for pledge in client.pledges.values():
                    index.setdefault(pledge.asset, set()).add(client_id)
                for margin_asset in client.margin:
                    index.setdefault(margin_asset, set()).add(client_id)
                for contract_id in client.positions:
                    index.setdefault(marked_by[contract_id], set()).add(client_id)
            self._holders = index
        return self._holders.get(asset, set())

    # -- shocking -------------------------------------------------------------------------
    def price_event(self, asset: str, price: Decimal, n: int) -> Envelope:
        return Envelope(
            event_id=f"stress-{n}-{asset}", type="PriceObserved", occurred_at=self.moment,
            source=STRESS_SOURCE, data=PriceObserved(asset=asset, price=price, price_source=STRESS_SOURCE),
        )

    def shocked_prices(self, scenario: Scenario) -> dict[str, Decimal]:
        """Each shocked asset's price after the shock; a relative shock of an asset never
        priced (worth 0) leaves it unpriced, as no positive price can be observed."""
        prices = {}
        for shock in scenario.shocks:
            price = shock.shocked(self.book.price(shock.asset))
            if price > 0:
                prices[shock.asset] = price
        return prices

    def scenario(self, scenario: Scenario) -> dict[str, Any]:
        # The collector paused, as in a replay: a rung edits and copies many clients and
        # builds a row for each, and a collection would scan the whole book each time.
        before = self.before  # valued now, outside the block: it is the state before any shock
        with collector_paused(), self.engine.hypothetically() as apply:
            prices = self.shocked_prices(scenario)
            after = self.apply_prices(apply, prices, before)
            result = self.result(after, prices)
        return {"shocks": scenario.shocks_json(), "prices": scenario.prices_json(), "label": scenario.label,
                "kind": scenario.kind, **result}

    def apply_prices(self, apply: Apply, prices: dict[str, Decimal], base: Figures, step: int = 0) -> Figures:
        """(1) and (2): inside the caller's ``hypothetically`` block; the clients not reached
        keep their figures in ``base``."""
        position = self.state.position
        reached: set[str] = set()
        for n, (asset, price) in enumerate(sorted(prices.items()), 1):
            position += 1
            apply(self.price_event(asset, price, step * 1000 + n), position)
            reached |= self.holders(asset)
        return self._value(sorted(reached), base)

    def path(self, points: Sequence[tuple[str, Decimal]]) -> dict[str, Any]:
        """The path replayed point by point; the result at its worst point (the largest total
        shortfall, the earliest of equals), with each point's total. Two passes: the first
        finds the worst point, the second replays up to it and reads the full result there
        (the journal cannot be wound back to a point part-way)."""
        totals: list[tuple[Decimal, int]] = []
        before = self.before  # valued outside the blocks: the state before any shock
        with collector_paused(), self.engine.hypothetically() as apply:
            figures = before
            for n, (asset, price) in enumerate(points, 1):
                figures = self.apply_prices(apply, {asset: price}, figures, n)
                total = sum((f.shortfall for f in figures.clients.values()), ZERO)
                calls = sum(1 for c, f in figures.clients.items()
                            if f.shortfall > 0 and not self.book.clients[c].open_calls)
                totals.append((total, calls))
        worst = max(range(len(points)), key=lambda i: (totals[i][0], -i))
        with collector_paused(), self.engine.hypothetically() as apply:
            figures, prices = before, {}
            for n, (asset, price) in enumerate(points[: worst + 1], 1):
                figures = self.apply_prices(apply, {asset: price}, figures, n)
                prices[asset] = price
            result = self.result(figures, prices)
        return {
            "shocks": {}, "prices": {a: number_text(p) for a, p in sorted(prices.items())},
            "label": f"path, worst at point {worst + 1} of {len(points)}", "kind": "path", **result,
            "path": {
                "points": len(points), "worst_point": worst + 1,
                "totals": [{"point": i + 1, "asset": a, "price": number_text(p),
                            "total_shortfall": number_text(t), "margin_calls": c}
                           for i, ((a, p), (t, c)) in enumerate(zip(points, totals, strict=True))],
            },
        }

    # -- the result -----------------------------------------------------------------------
    def result(self, after: Figures, prices: dict[str, Decimal]) -> dict[str, Any]:
        """Read inside the ``hypothetically`` block: the margin calls' due times are the
        monitor's own MF-07 obligations."""
        before, book = self.before, self.book
        rows, calls = [], []
        total = ZERO
        for client_id in sorted(set(before.clients) | set(after.clients)):
            b, a = before.clients[client_id], after.clients[client_id]
            if not (b.debt or b.lending_value or a.debt or a.lending_value):
                continue
            rows.append({
                "client_id": client_id,
                "lending_value_before": number_text(b.lending_value),
                "lending_value_after": number_text(a.lending_value),
                "debt": number_text(a.debt),
                "shortfall_before": number_text(b.shortfall),
                "shortfall_after": number_text(a.shortfall),
            })
            total += a.shortfall
            if a.shortfall > 0 and not book.clients[client_id].open_calls:
                calls.append(self._call(client_id, a.shortfall, b.shortfall > 0))
        perps, losses = self._perps(after)
        covered = min(before.fund, losses)
        return {
            "prices_after": {asset: number_text(p) for asset, p in sorted(prices.items())},
            "clients": rows,
            "total_shortfall_before": number_text(sum((f.shortfall for f in before.clients.values()), ZERO)),
            "total_shortfall_after": number_text(total),
            "margin_calls": calls,
            "margin_call_count": len(calls),
            "perp_positions": perps,
            "liquidations": sum(1 for p in perps if p["liquidated"]),
            "loss_beyond_margin": number_text(losses),
            "insurance_fund_before": number_text(before.fund),
            "insurance_fund_after": number_text(before.fund - covered),
            # PERP-07's order: the insurance fund first; only what it cannot cover is shared.
            "loss_sharing": number_text(losses - covered),
            "concentration": concentration(book, after.clients, self.terms),
        }

    def _call(self, client_id: str, shortfall: Decimal, was_short: bool) -> dict[str, Any]:
        """A client short after the shock with no open margin call owes one for its shortfall
        (reading 8: any open call meets MF-07). Its due time is the monitor's MF-07 deadline;
        None when the obligation already fell due and raised its finding."""
        obligation = self.book.obligations.get(obligation_key(MARGIN_CALL_RULE, client_id))
        return {
            "client_id": client_id, "amount": number_text(shortfall),
            "due_by": None if obligation is None else obligation.deadline.isoformat(),
            "short_before": was_short,
        }

    def _perps(self, after: Figures) -> tuple[list[dict[str, Any]], Decimal]:
        """Per client with positions (equity and maintenance are per client: its margin backs
        all its positions). A client below maintenance after the shock would be liquidated;
        reading: at the shocked mark, so what it loses beyond its margin is its negative
        equity, which the insurance fund covers first (PERP-07)."""
        rows, losses = [], ZERO
        book = self.book
        for client_id in sorted(set(self.before.perps) | set(after.perps)):
            b, a = self.before.perps.get(client_id), after.perps.get(client_id)
            if a is None or b is None:
                continue  # positions only change by trades, never by a price
            loss = max(ZERO, -a.equity) if a.below else ZERO
            losses += loss
            rows.append({
                "client_id": client_id,
                "contracts": {k: number_text(p.quantity) for k, p in sorted(book.clients[client_id].positions.items())},
                "equity_before": number_text(b.equity), "equity_after": number_text(a.equity),
                "maintenance_before": number_text(b.maintenance),
                "maintenance_after": number_text(a.maintenance),
                "below_maintenance_before": b.below, "liquidated": a.below,
                "loss_beyond_margin": number_text(loss),
            })
        return rows, losses


def stress(state: Replay, scenarios: Sequence[Scenario]) -> dict[str, Any]:
    run = StressRun(state)
    return {**run.header(), "scenarios": [run.scenario(s) for s in scenarios]}

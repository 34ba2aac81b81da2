"""The cost of a price tick against the number of clients exposed to that price, engine-level
and in process: a tick should cost what it can flip, not the number of exposed clients.

Two books per size: clients short below a BTC price each (pledged BTC against a loan), and
clients long a BTC perpetual below maintenance at a BTC price each (margin against one
market maker's short). Ticks move BTC back and forth by 0.2%, crossing no client's threshold.
``size`` (the stream size of the other benchmarks) is not used: the sizes are ``CLIENTS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import RecordedEvent, parse_event
from projections.monitor.engine import MonitorEngine

CLIENTS = (1_000, 10_000, 100_000)
TICKS = 300
PI = {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"}
Report = Callable[[str], None]


class EngineFeed:
    """Events straight into an engine, one position and one millisecond apart."""

    def __init__(self) -> None:
        self.engine = MonitorEngine()
        self.position = 0
        self.at = datetime(2026, 3, 2, 1, tzinfo=UTC)

    def event(self, type_: str, **data: Any) -> RecordedEvent:
        self.position += 1
        self.at += timedelta(milliseconds=1)
        envelope = parse_event({"event_id": f"e{self.position}", "type": type_,
                                "occurred_at": self.at.isoformat(), "data": data})
        return RecordedEvent(self.position, self.at, envelope)

    def send(self, type_: str, **data: Any) -> None:
        self.engine.process(self.event(type_, **data))

    def reference_data(self) -> None:
        self.send("AssetListed", asset="HKD", asset_kind="fiat")
        self.send("AssetListed", asset="BTC", asset_kind="virtual_asset", retail_spot_approved=True)
        self.send("PriceObserved", asset="BTC", price="500000", price_source="feed")

    def client(self, client_id: str) -> None:
        self.send("ClientOnboarded", client_id=client_id, client_type="individual",
                  investor_class="professional", pi_assessment=PI, market_maker_id=None)

    def btc_perp_with_maker(self, maker_margin: str) -> None:
        """BTC-PERP (0.01 BTC, 10 % / 5 %) and one market maker with ``maker_margin`` HKD."""
        self.send("PerpContractListed", contract_id="BTC-PERP", reference_asset="BTC",
                  settlement_asset="HKD", contract_size="0.01", initial_margin_rate="0.1",
                  maintenance_margin_rate="0.05")
        self.client("MAKER")
        self.send("PerpMarginDeposited", deposit_id="D-MAKER", client_id="MAKER", asset="HKD",
                  amount=maker_margin, funding_source="client_funds")

    def long_against_maker(self, n: int, client: str, deposit: int) -> None:
        """``client`` onboarded with ``deposit`` HKD of margin, long one contract at 500,000."""
        self.client(client)
        self.send("PerpMarginDeposited", deposit_id=f"D{n}", client_id=client, asset="HKD",
                  amount=str(deposit), funding_source="client_funds")
        self.send("PerpOrderPlaced", order_id=f"B{n}", client_id=client, contract_id="BTC-PERP",
                  side="buy", quantity="1", limit_price="500000", market_maker=False)
        self.send("PerpOrderPlaced", order_id=f"S{n}", client_id="MAKER", contract_id="BTC-PERP",
                  side="sell", quantity="1", limit_price="500000", market_maker=False)
        self.send("PerpTradeExecuted", trade_id=f"T{n}", contract_id="BTC-PERP",
                  buy_order_id=f"B{n}", sell_order_id=f"S{n}", quantity="1", price="500000")


def short_book(clients: int) -> EngineFeed:
    """Each client short below a BTC price between 100,000 and 400,000."""
    feed = EngineFeed()
    feed.reference_data()
    for n in range(clients):
        feed.client(f"C{n}")
        feed.send("SecuritiesMarginAccountOpened", client_id=f"C{n}", account_id=f"A{n}",
                  credit_limit="100000000")
        feed.send("CollateralPledged", pledge_id=f"P{n}", client_id=f"C{n}", asset="BTC",
                  quantity="10", haircut="0.6")
        feed.send("VAFinancingDrawn", loan_id=f"L{n}", client_id=f"C{n}", account_id=f"A{n}",
                  amount=str(400_000 + n * 1_200_000 // clients), purpose_asset="BTC")
    return feed


def maintenance_book(clients: int) -> EngineFeed:
    """Each client long one contract (0.01 BTC) below maintenance at a BTC price between
    about 100,000 and 400,000, against one market maker holding the short side."""
    feed = EngineFeed()
    feed.reference_data()
    feed.btc_perp_with_maker("1000000000")
    for n in range(clients):
        # Equity deposit - 5,000 + 0.01 p against 0.0005 p: below maintenance under
        # p = (5,000 - deposit) / 0.0095, from 100,000 to 400,000.
        feed.long_against_maker(n, f"C{n}", 5000 - (950 + 2850 * n // clients))
    return feed


def seconds_per_tick(feed: EngineFeed) -> float:
    feed.engine.drain_changes()
    ticks = [feed.event("PriceObserved", asset="BTC", price=str(500_000 + n % 2 * 1_000),
                        price_source="feed") for n in range(TICKS)]
    started = time.perf_counter()
    for tick in ticks:
        assert feed.engine.process(tick) == [], "a tick crossed a threshold"
        feed.engine.drain_changes()
    return (time.perf_counter() - started) / TICKS


def measure(report: Report) -> dict[str, dict[int, float]]:
    """Seconds per tick, by book and number of exposed clients."""
    figures: dict[str, dict[int, float]] = {}
    for name, build in (("short", short_book), ("below maintenance", maintenance_book)):
        figures[name] = {}
        for clients in CLIENTS:
            figures[name][clients] = seconds_per_tick(build(clients))
            report(f"tick, {name}, {clients:,} clients: {figures[name][clients] * 1e6:,.0f} µs")
    return figures


def markdown(figures: dict[str, dict[int, float]]) -> str:
    rows = ["| exposed clients | " + " | ".join(f"{name}: µs/tick | × at {CLIENTS[0]:,}" for name in figures) + " |",
            "|---:|" + "---:|---:|" * len(figures)]
    for clients in CLIENTS:
        cells = [f"{by[clients] * 1e6:,.0f} | {by[clients] / by[CLIENTS[0]]:.1f}" for by in figures.values()]
        rows.append(f"| {clients:,} | " + " | ".join(cells) + " |")
    return "\n".join([
        "## Price tick against exposed clients (`ops/bench/tick.py`)",
        "",
        f"Engine only, in process: {TICKS} ticks of BTC moving 0.2% back and forth, each "
        "crossing no client's threshold, with the state changes drained after each. "
        "Goal: at 100,000 exposed clients no more than 10× the cost at 1,000.",
        "",
        *rows,
        "",
    ])


def section(size: int, report: Report) -> str:
    return markdown(measure(report))

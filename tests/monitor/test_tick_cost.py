"""A price tick costs what it can flip, not the number of clients exposed to the price."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.events import RecordedEvent, parse_line
from projections.monitor.engine import MonitorEngine
from tests.monitor.builders import RECORDED_AT

TICKS = 300


class Feed:
    def __init__(self) -> None:
        self.engine = MonitorEngine()
        self.position = 0
        self.at = datetime(2026, 3, 2, 1, tzinfo=UTC)

    def event(self, type_: str, **data: object) -> RecordedEvent:
        self.position += 1
        self.at += timedelta(milliseconds=1)
        line = json.dumps({"event_id": f"e{self.position}", "type": type_,
                           "occurred_at": self.at.isoformat(), "data": data})
        return RecordedEvent(self.position, RECORDED_AT, parse_line(line)[0])

    def send(self, type_: str, **data: object) -> None:
        self.engine.process(self.event(type_, **data))


def exposed_book(clients: int) -> Feed:
    """``clients`` each short below a BTC price between 100000 and 400000; BTC at 500000."""
    feed = Feed()
    feed.send("AssetListed", asset="BTC", asset_kind="virtual_asset", retail_spot_approved=True)
    feed.send("PriceObserved", asset="BTC", price="500000", price_source="feed")
    pi = {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"}
    for n in range(clients):
        feed.send("ClientOnboarded", client_id=f"C{n}", client_type="individual",
                  investor_class="professional", pi_assessment=pi, market_maker_id=None)
        feed.send("SecuritiesMarginAccountOpened", client_id=f"C{n}", account_id=f"A{n}",
                  credit_limit="100000000")
        feed.send("CollateralPledged", pledge_id=f"P{n}", client_id=f"C{n}", asset="BTC",
                  quantity="10", haircut="0.6")
        feed.send("VAFinancingDrawn", loan_id=f"L{n}", client_id=f"C{n}", account_id=f"A{n}",
                  amount=str(400000 + n * 1200000 // clients), purpose_asset="BTC")
    feed.engine.drain_changes()
    return feed


def seconds_per_tick(feed: Feed) -> float:
    ticks = [feed.event("PriceObserved", asset="BTC", price=str(500000 + n % 2 * 1000),
                        price_source="feed") for n in range(TICKS)]
    started = time.perf_counter()
    for tick in ticks:
        assert feed.engine.process(tick) == []
        feed.engine.drain_changes()
    return (time.perf_counter() - started) / TICKS


@pytest.mark.slow
def test_a_tick_that_crosses_no_threshold_costs_about_the_same_for_20x_the_clients() -> None:
    small, large = seconds_per_tick(exposed_book(1_000)), seconds_per_tick(exposed_book(20_000))
    assert large < 3 * small, f"{small * 1e6:.0f} us vs {large * 1e6:.0f} us"

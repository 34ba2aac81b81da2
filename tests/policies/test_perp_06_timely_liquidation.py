from __future__ import annotations

import pytest

from policies.finding import Finding, JsonParameter
from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.perp_setup import eth_book

WINDOW: dict[str, JsonParameter] = {"liquidation_within_minutes": 15}


def below_at_noon() -> Stream:
    s = eth_book()
    s.price("ETH", "79.99", at="2026-03-02T12:00:00+08:00")
    return s


def liquidate(s: Stream, quantity: str, price: str, at: str | None = None) -> list[Finding]:
    return of_rule(s.send("PositionLiquidated", at=at, client_id="L1", contract_id="ETH-PERP",
                          quantity=quantity, price=price), "PERP-06")


def test_not_liquidated_within_the_window_is_a_whole_finding_of_the_starting_event() -> None:
    s = below_at_noon()
    start = (s.last_id, "2026-03-02T12:00:00+08:00")
    found = of_rule(s.price("ETH", "79.99", at="2026-03-02T12:15:01+08:00"), "PERP-06")
    assert found == [whole(
        s, "PERP-06", "high", "L1",
        "Client L1 fell below maintenance margin at 2026-03-02T12:00:00+08:00 (equity HKD "
        "15.98 against HKD 15.998) and was neither restored nor flat by "
        "2026-03-02T12:15:00+08:00.",
        WINDOW, {"equity": "15.98", "maintenance_requirement": "15.998",
                 "deadline": "2026-03-02T12:15:00+08:00", "detected_at": "2026-03-02T12:15:01+08:00"},
        origin=start,
    )]


@pytest.mark.parametrize(("price", "below"), [("80.01", False), ("80", False), ("79.99", True)])
def test_maintenance_boundary(price: str, below: bool) -> None:
    s = eth_book()
    s.price("ETH", price, at="2026-03-02T12:00:00+08:00")
    late = of_rule(s.price("ETH", price, at="2026-03-02T13:00:00+08:00"), "PERP-06")
    assert bool(late) is below


@pytest.mark.parametrize(("at", "late"), [
    ("2026-03-02T12:15:00+08:00", False), ("2026-03-02T12:15:01+08:00", True),
])
def test_deadline_boundary(at: str, late: bool) -> None:
    s = below_at_noon()
    assert bool(of_rule(s.price("ETH", "79.99", at=at), "PERP-06")) is late


def test_closing_every_position_cancels_it() -> None:
    s = below_at_noon()
    liquidate(s, "2", "79.99", at="2026-03-02T12:10:00+08:00")
    assert of_rule(s.price("ETH", "50", at="2026-03-02T13:00:00+08:00"), "PERP-06") == []


def test_restoring_equity_cancels_it() -> None:
    s = below_at_noon()
    s.deposit("D-more", "L1", "100")
    assert of_rule(s.price("ETH", "79.99", at="2026-03-02T13:00:00+08:00"), "PERP-06") == []


def test_a_liquidation_that_leaves_it_below_does_not_stop_the_clock() -> None:
    s = below_at_noon()
    # realises 1 x (70 - 100) = -30: margin 26, equity 26 + (79.99 - 100) < 7.999
    liquidate(s, "1", "70", at="2026-03-02T12:05:00+08:00")
    assert len(of_rule(s.price("ETH", "79.99", at="2026-03-02T12:15:01+08:00"), "PERP-06")) == 1


def test_a_client_that_stays_below_opens_no_new_obligation_until_it_recovers() -> None:
    s = below_at_noon()
    assert len(of_rule(s.price("ETH", "79", at="2026-03-02T12:30:00+08:00"), "PERP-06")) == 1
    assert of_rule(s.price("ETH", "78", at="2026-03-02T13:30:00+08:00"), "PERP-06") == []
    s.price("ETH", "90", at="2026-03-02T13:40:00+08:00")
    s.price("ETH", "70", at="2026-03-02T13:50:00+08:00")
    again = s.last_id
    found = of_rule(s.price("ETH", "70", at="2026-03-02T14:05:01+08:00"), "PERP-06")
    assert [f.event_id for f in found] == [again]

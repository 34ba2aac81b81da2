from __future__ import annotations

import pytest

from policies.finding import JsonParameter
from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.perp_setup import perp_stream

WINDOW: dict[str, JsonParameter] = {"settlement_within_hours": 24}


def traded() -> Stream:
    s = perp_stream("P1", "P2")
    s.deposit("D1", "P1", "1000000")
    s.deposit("D2", "P2", "1000000")
    s.order("B1", "P1", "buy", "1", "500000")
    s.order("S1", "P2", "sell", "1", "500000")
    s.trade("T1", "B1", "S1", "1", "500000", at="2026-03-02T10:00:00+08:00")
    return s


def test_settlement_by_the_counterparty_is_a_whole_finding() -> None:
    s = traded()
    found = of_rule(s.send("PerpTradeSettled", trade_id="T1", settled_by="counterparty"), "PERP-05")
    assert found == [whole(
        s, "PERP-05", "high", "T1",
        "Perpetual trade T1 was settled by the counterparty, not by the platform.",
        WINDOW, {"settled_by": "counterparty"},
    )]


def test_a_trade_unsettled_past_the_window_is_a_whole_finding_of_the_trade() -> None:
    s = traded()
    start = (s.last_id, "2026-03-02T10:00:00+08:00")
    found = of_rule(s.price("BTC", "500000", at="2026-03-03T10:00:01+08:00"), "PERP-05")
    assert found == [whole(
        s, "PERP-05", "high", "T1",
        "Perpetual trade T1 executed at 2026-03-02T10:00:00+08:00 was not settled by "
        "2026-03-03T10:00:00+08:00.",
        WINDOW, {"contract_id": "BTC-PERP", "quantity": "1", "price": "500000",
                 "deadline": "2026-03-03T10:00:00+08:00", "detected_at": "2026-03-03T10:00:01+08:00"},
        origin=start,
    )]


@pytest.mark.parametrize(("at", "late"), [
    ("2026-03-03T10:00:00+08:00", False), ("2026-03-03T10:00:01+08:00", True),
])
def test_settlement_deadline_boundary(at: str, late: bool) -> None:
    s = traded()
    found = s.send("PerpTradeSettled", at=at, trade_id="T1", settled_by="platform")
    assert bool(of_rule(found, "PERP-05")) is late


def test_any_settlement_in_time_meets_the_deadline_even_a_wrong_one() -> None:
    s = traded()
    found = s.send("PerpTradeSettled", trade_id="T1", settled_by="third_party")
    assert [f.evidence for f in of_rule(found, "PERP-05")] == [{"settled_by": "third_party"}]
    assert of_rule(s.price("BTC", "1", at="2026-03-05T00:00:00+08:00"), "PERP-05") == []

from __future__ import annotations

import pytest

from policies.finding import JsonParameter
from tests.monitor.builders import Stream, key, of_rule, whole
from tests.policies.mf_setup import COLLATERAL, mf_stream

PARAMETERS: dict[str, JsonParameter] = {"margin_call_within_minutes": 60, **COLLATERAL}


def short_at_noon() -> Stream:
    """C1 owes 1500000 against 10 BTC at 0.6; BTC falls to 370000 at 12:00 (LV 1480000)."""
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "10", "0.6")
    s.draw("L1", "C1", "A1", "1500000")
    s.price("BTC", "370000", at="2026-03-02T12:00:00+08:00")
    return s


def test_no_margin_call_within_the_window_is_a_whole_finding_of_the_starting_event() -> None:
    s = short_at_noon()
    start = (s.last_id, "2026-03-02T12:00:00+08:00")
    found = of_rule(s.price("BTC", "370000", at="2026-03-02T13:00:01+08:00"), "MF-07")
    assert found == [whole(
        s, "MF-07", "high", "C1",
        "Client C1 became short at 2026-03-02T12:00:00+08:00 (debt HKD 1500000 against a "
        "lending value of HKD 1480000) and had no margin call open by 2026-03-02T13:00:00+08:00.",
        PARAMETERS,
        {"debt": "1500000", "lending_value": "1480000", "deadline": "2026-03-02T13:00:00+08:00",
         "detected_at": "2026-03-02T13:00:01+08:00"},
        origin=start,
    )]


@pytest.mark.parametrize(("at", "late"), [
    ("2026-03-02T12:59:59+08:00", False), ("2026-03-02T13:00:00+08:00", False),
    ("2026-03-02T13:00:01+08:00", True),
])
def test_a_call_at_the_deadline_is_in_time_one_second_later_is_not(at: str, late: bool) -> None:
    s = short_at_noon()
    found = of_rule(s.margin_call("MC1", "C1", "2026-03-02T18:00:00+08:00", at=at), "MF-07")
    assert bool(found) is late
    assert of_rule(s.price("BTC", "370000", at="2026-03-02T20:00:00+08:00"), "MF-07") == []


def test_a_call_already_open_when_the_client_becomes_short_meets_it() -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "10", "0.6")
    s.draw("L1", "C1", "A1", "1500000")
    s.margin_call("MC1", "C1", "2026-03-03T18:00:00+08:00")
    s.price("BTC", "370000", at="2026-03-02T12:00:00+08:00")
    assert of_rule(s.price("BTC", "370000", at="2026-03-02T23:00:00+08:00"), "MF-07") == []


def test_the_obligation_is_cancelled_when_the_client_is_no_longer_short() -> None:
    s = short_at_noon()
    s.price("BTC", "375000", at="2026-03-02T12:30:00+08:00")  # LV 1500000: not short
    assert of_rule(s.price("BTC", "375000", at="2026-03-02T14:00:00+08:00"), "MF-07") == []


def test_a_client_that_stays_short_opens_no_new_obligation_until_it_recovers() -> None:
    s = short_at_noon()
    s.price("BTC", "360000", at="2026-03-02T12:10:00+08:00")  # deeper, still short
    assert len(of_rule(s.price("BTC", "360000", at="2026-03-02T13:30:00+08:00"), "MF-07")) == 1
    assert of_rule(s.price("BTC", "350000", at="2026-03-02T15:00:00+08:00"), "MF-07") == []
    s.price("BTC", "400000", at="2026-03-02T15:10:00+08:00")  # recovers
    s.price("BTC", "300000", at="2026-03-02T15:20:00+08:00")  # short again
    again = (s.last_id, "2026-03-02T15:20:00+08:00")
    found = of_rule(s.price("BTC", "300000", at="2026-03-02T16:20:01+08:00"), "MF-07")
    assert [(f.event_id, f.occurred_at.isoformat()) for f in found] == [again]


def test_a_reported_securities_loan_alone_can_make_a_client_short() -> None:
    s = mf_stream()
    s.send("SecuritiesMarginPositionReported", client_id="C1", account_id="A1",
           marginable_value="100", loan_balance="101", at="2026-03-02T10:00:00+08:00")
    start = s.last_id
    found = of_rule(s.price("BTC", "1", at="2026-03-02T11:00:01+08:00"), "MF-07")
    assert [key(f)[:3] for f in found] == [("MF-07", start, "C1")]


def test_amending_the_window_later_does_not_move_an_open_deadline() -> None:
    s = short_at_noon()
    s.amend("MF-07", "margin_call_within_minutes", 240, "2026-03-02T12:05:00+08:00")
    found = of_rule(s.price("BTC", "370000", at="2026-03-02T13:00:01+08:00"), "MF-07")
    assert [f.parameters["margin_call_within_minutes"] for f in found] == [60]


def test_an_obligation_no_later_event_has_passed_stays_open_and_raises_nothing() -> None:
    s = short_at_noon()
    assert of_rule(s.price("BTC", "370000", at="2026-03-02T12:59:59+08:00"), "MF-07") == []
    open_keys = [k for kind, k, _ in s.engine.iter_records() if kind == "obligation"]
    assert "MF-07|C1" in open_keys

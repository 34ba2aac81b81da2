from __future__ import annotations

import pytest

from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.mf_setup import mf_stream

DUE = "2026-03-02T15:00:00+08:00"


def with_call() -> Stream:
    s = mf_stream()
    s.margin_call("MC1", "C1", DUE, at="2026-03-02T13:00:00+08:00")
    return s


def test_a_call_unresolved_past_its_due_time_is_a_whole_finding() -> None:
    s = with_call()
    start = (s.last_id, "2026-03-02T13:00:00+08:00")
    found = of_rule(s.price("BTC", "500000", at="2026-03-02T15:00:01+08:00"), "MF-08")
    assert found == [whole(
        s, "MF-08", "high", "MC1",
        "Margin call MC1 on client C1 for a shortfall of HKD 1000 was not resolved by its due "
        "time 2026-03-02T15:00:00+08:00.",
        {}, {"client_id": "C1", "shortfall": "1000", "deadline": DUE,
             "detected_at": "2026-03-02T15:00:01+08:00"},
        origin=start,
    )]


@pytest.mark.parametrize(("at", "late"), [(DUE, False), ("2026-03-02T15:00:01+08:00", True)])
def test_due_time_boundary(at: str, late: bool) -> None:
    s = with_call()
    assert bool(of_rule(s.price("BTC", "500000", at=at), "MF-08")) is late


@pytest.mark.parametrize("resolution", ["topped_up", "repaid", "liquidated", "withdrawn"])
def test_any_resolution_in_time_meets_it(resolution: str) -> None:
    s = with_call()
    s.send("MarginCallResolved", at=DUE, call_id="MC1", resolution=resolution)
    assert of_rule(s.price("BTC", "500000", at="2026-03-03T15:00:00+08:00"), "MF-08") == []


def test_it_raises_once_only() -> None:
    s = with_call()
    assert len(of_rule(s.price("BTC", "1", at="2026-03-02T16:00:00+08:00"), "MF-08")) == 1
    assert of_rule(s.price("BTC", "1", at="2026-03-02T17:00:00+08:00"), "MF-08") == []

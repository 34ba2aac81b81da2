from __future__ import annotations

from tests.monitor.builders import of_rule, whole
from tests.policies.mf_setup import mf_stream


def test_drawing_while_a_margin_call_is_open_is_a_whole_finding() -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "10")
    s.margin_call("MC1", "C1", "2026-03-03T00:00:00+08:00")
    found = of_rule(s.draw("L1", "C1", "A1", "1000"), "MF-09")
    assert found == [whole(
        s, "MF-09", "high", "L1",
        "Client C1 drew VA financing L1 of HKD 1000 while margin call MC1 was open.",
        {}, {"open_calls": ["MC1"], "amount": "1000"},
    )]


def test_drawing_after_the_call_is_resolved_is_compliant() -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "10")
    s.margin_call("MC1", "C1", "2026-03-03T00:00:00+08:00")
    s.send("MarginCallResolved", call_id="MC1", resolution="topped_up")
    assert of_rule(s.draw("L1", "C1", "A1", "1000"), "MF-09") == []

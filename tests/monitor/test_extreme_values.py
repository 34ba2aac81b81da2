"""Values that validation accepts at the ends of their ranges: the engine computes with them
and never overflows (no SYS-01)."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.parameters import POSITIVE_INT_MAX
from policies import system
from policies.rule import DEADLINE_WINDOW_MAX, deadline_after
from tests.monitor.builders import Stream

LAST = "2199-12-31T23:59:59.999999+00:00"


@pytest.mark.parametrize(
    ("rule_id", "parameter"),
    [("PERP-05", "settlement_within_hours"), ("PERP-08", "max_funding_interval_hours"),
     ("MF-07", "margin_call_within_minutes"), ("PERP-06", "liquidation_within_minutes")],
)
def test_the_longest_amended_window_opens_a_deadline_that_does_not_overflow(
    rule_id: str, parameter: str
) -> None:
    s = Stream(start="2199-12-31T00:00:00+00:00")
    s.standard_assets()
    assert s.amend(rule_id, parameter, POSITIVE_INT_MAX, "2199-12-31T00:00:00+00:00") == []
    s.contract("BTC-PERP")
    s.client("A")
    s.client("B")
    s.deposit("DA", "A", "100000000")
    s.deposit("DB", "B", "100000000")
    found = s.fill("T1", "A", "B", "1", "500000")
    found += s.send("FundingSettled", at=LAST, contract_id="BTC-PERP", funding_rate="0")
    assert [f for f in found if f.rule_id == system.RULE_ID] == []


def test_a_deadline_is_capped_at_the_longest_window() -> None:
    now = datetime.fromisoformat(LAST)
    assert deadline_after(now, DEADLINE_WINDOW_MAX * 2) == now + DEADLINE_WINDOW_MAX
    assert deadline_after(now, DEADLINE_WINDOW_MAX) == now + DEADLINE_WINDOW_MAX

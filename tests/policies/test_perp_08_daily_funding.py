from __future__ import annotations

import pytest

from policies.finding import Finding, JsonParameter
from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.perp_setup import perp_stream

WINDOW: dict[str, JsonParameter] = {"max_funding_interval_hours": 24}


def listed() -> Stream:
    s = perp_stream()
    s.send("PerpContractListed", at="2026-03-02T10:00:00+08:00", contract_id="ETH-PERP",
           reference_asset="ETH", settlement_asset="HKD", contract_size="1",
           initial_margin_rate="0.2", maintenance_margin_rate="0.1")
    return s


def eth(findings: list[Finding]) -> list[Finding]:
    return [f for f in of_rule(findings, "PERP-08") if f.subject == "ETH-PERP"]


def fund(s: Stream, at: str) -> list[Finding]:
    return eth(s.send("FundingSettled", at=at, contract_id="ETH-PERP", funding_rate="0.0001"))


def test_no_funding_for_a_day_after_listing_is_a_whole_finding_of_the_listing() -> None:
    s = listed()
    start = (s.last_id, "2026-03-02T10:00:00+08:00")
    found = eth(s.price("ETH", "20000", at="2026-03-03T10:00:01+08:00"))
    assert found == [whole(
        s, "PERP-08", "medium", "ETH-PERP",
        "Perpetual contract ETH-PERP settled no funding between 2026-03-02T10:00:00+08:00 and "
        "2026-03-03T10:00:00+08:00.",
        WINDOW, {"deadline": "2026-03-03T10:00:00+08:00", "detected_at": "2026-03-03T10:00:01+08:00"},
        origin=start,
    )]


@pytest.mark.parametrize(("at", "late"), [
    ("2026-03-03T10:00:00+08:00", False), ("2026-03-03T10:00:01+08:00", True),
])
def test_funding_deadline_boundary(at: str, late: bool) -> None:
    assert bool(fund(listed(), at)) is late


def test_each_funding_starts_the_next_interval_even_after_a_missed_one() -> None:
    s = listed()
    assert len(fund(s, "2026-03-03T12:00:00+08:00")) == 1  # missed; opens a new interval
    assert fund(s, "2026-03-04T12:00:00+08:00") == []  # in time
    in_time = s.last_id
    found = eth(s.price("ETH", "1", at="2026-03-05T12:00:01+08:00"))
    assert [f.event_id for f in found] == [in_time]


def test_delisting_cancels_it_and_later_funding_opens_nothing() -> None:
    s = listed()
    s.send("PerpContractDelisted", contract_id="ETH-PERP")
    fund(s, "2026-03-02T12:00:00+08:00")
    assert eth(s.price("ETH", "1", at="2026-03-09T00:00:00+08:00")) == []

from __future__ import annotations

import pytest

from policies.finding import JsonParameter
from tests.monitor.builders import key, of_rule, whole
from tests.policies.mf_setup import mf_stream

PARAMETERS: dict[str, JsonParameter] = {"min_haircut": "0.6", "eligible_assets": ["BTC", "ETH"]}


def test_pledge_below_the_minimum_haircut_is_a_whole_finding() -> None:
    s = mf_stream()
    found = of_rule(s.pledge("P4", "C1", "ETH", "20", "0.5"), "MF-05")
    assert found == [whole(
        s, "MF-05", "high", "P4",
        "Pledge P4 of ETH was taken at a haircut of 0.5, below the minimum of 0.6.",
        PARAMETERS, {"asset": "ETH", "haircut": "0.5"},
    )]


@pytest.mark.parametrize(("haircut", "breach"), [("0.59", True), ("0.6", False), ("0.61", False)])
def test_minimum_haircut_boundary_on_pledge(haircut: str, breach: bool) -> None:
    s = mf_stream()
    assert bool(of_rule(s.pledge("P1", "C1", "BTC", "1", haircut), "MF-05")) is breach


@pytest.mark.parametrize(("haircut", "breach"), [("0.59", True), ("0.6", False), ("0.61", False)])
def test_haircut_change_is_judged_even_on_a_closed_pledge(haircut: str, breach: bool) -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "1", "0.7")
    s.send("CollateralReleased", pledge_id="P1", quantity="1")
    found = of_rule(s.send("CollateralHaircutChanged", pledge_id="P1", haircut=haircut), "MF-05")
    assert [key(f) for f in found] == ([("MF-05", s.last_id, "P1", s.last_at, PARAMETERS)] if breach else [])


def test_ineligible_assets_have_no_minimum() -> None:
    s = mf_stream()
    assert of_rule(s.pledge("P3", "C1", "SOL", "1", "0.1"), "MF-05") == []


def test_a_raise_taking_effect_catches_open_eligible_pledges_only() -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "1", "0.6")  # open, below the new minimum
    s.pledge("P2", "C1", "BTC", "1", "0.65")  # open, at the new minimum
    s.pledge("P3", "C1", "SOL", "1", "0.1")  # ineligible
    s.pledge("P4", "C1", "ETH", "1", "0.6")
    s.send("CollateralReleased", pledge_id="P4", quantity="1")  # closed
    s.amend("MF-05", "min_haircut", "0.65", "2026-03-02T12:00:00+08:00")
    notice = (s.last_id, s.last_at.isoformat())
    found = of_rule(s.price("BTC", "500000", at="2026-03-02T12:00:00+08:00"), "MF-05")
    assert found == [whole(
        s, "MF-05", "high", "P1",
        "Pledge P1 of client C1 (1 BTC) has a haircut of 0.6, below the minimum raised from 0.6 "
        "to 0.65 with effect from 2026-03-02T12:00:00+08:00.",
        {"min_haircut": "0.65", "eligible_assets": ["BTC", "ETH"]},
        {"asset": "BTC", "haircut": "0.6", "quantity": "1", "previous_min_haircut": "0.6",
         "effective_from": "2026-03-02T12:00:00+08:00"},
        origin=notice,
    )]


def test_a_raise_not_yet_effective_raises_nothing() -> None:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "1", "0.6")
    s.amend("MF-05", "min_haircut", "0.65", "2026-03-02T12:00:00+08:00")
    assert of_rule(s.price("BTC", "500000", at="2026-03-02T11:59:59+08:00"), "MF-05") == []

from __future__ import annotations

from typing import Any

import pytest

from policies.finding import JsonParameter
from tests.monitor.builders import Stream, key, of_rule, whole

DEFAULTS: dict[str, JsonParameter] = {
    "individual_portfolio": "8000000", "corporate_portfolio": "8000000",
    "corporate_total_assets": "40000000", "trust_total_assets": "40000000",
    "evidence_validity_days": 365,
}


def pi(portfolio: str, total_assets: str | None = None, on: str = "2026-01-15") -> dict[str, Any]:
    return {"portfolio": portfolio, "total_assets": total_assets, "assessed_on": on}


def deposit_by(client_type: str, evidence: dict[str, Any] | None, at: str | None = None) -> list[Any]:
    s = Stream(start="2026-03-01T20:00:00+00:00")
    s.asset("HKD", "fiat")
    s.client("C1", client_type=client_type, pi=evidence)
    if evidence is None and client_type != "institutional":
        s.send("ClientReclassified", client_id="C1", investor_class="professional", pi_assessment=None)
    return of_rule(s.send("PerpMarginDeposited", at=at, deposit_id="D1", client_id="C1",
                          asset="HKD", amount="1000", funding_source="client_funds"), "PI-02")


def test_individual_below_the_portfolio_threshold_is_a_whole_finding() -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.client("C1", pi=pi("7999999.99"))
    found = of_rule(s.deposit("D1", "C1", "1000"), "PI-02")
    assert found == [whole(
        s, "PI-02", "high", "C1",
        "Professional client C1 deposited perpetual margin (D1) but the assessment is below "
        "the Cap. 571D threshold for client type individual.",
        DEFAULTS,
        {"client_type": "individual",
         "shortcomings": ["the assessment is below the Cap. 571D threshold for client type individual"],
         "portfolio": "7999999.99", "total_assets": None, "assessed_on": "2026-01-15",
         "event_date_hk": "2026-03-02"},
    )]


@pytest.mark.parametrize(("portfolio", "breach"), [
    ("7999999.99", True), ("8000000", False), ("8000000.01", False),
])
def test_individual_portfolio_threshold_boundary(portfolio: str, breach: bool) -> None:
    assert bool(deposit_by("individual", pi(portfolio))) is breach


@pytest.mark.parametrize(("assessed_on", "breach"), [
    ("2025-03-03", False),  # 364 days
    ("2025-03-02", False),  # 365 days: at the limit
    ("2025-03-01", True),  # 366 days (the UTC date would make it 365)
])
def test_evidence_age_is_counted_in_hong_kong_dates(assessed_on: str, breach: bool) -> None:
    # 2026-03-01T23:30Z is 2026-03-02 07:30 in Hong Kong.
    found = deposit_by("individual", pi("9000000", on=assessed_on), at="2026-03-01T23:30:00+00:00")
    assert bool(found) is breach
    if breach:
        assert found[0].evidence["shortcomings"] == [
            "the assessment of 2025-03-01 is 366 days old, more than the 365 allowed"]
        assert found[0].evidence["event_date_hk"] == "2026-03-02"


@pytest.mark.parametrize("client_type", ["corporation", "partnership"])
@pytest.mark.parametrize(("portfolio", "total_assets", "breach"), [
    ("7999999", None, True), ("7999999", "39999999", True), ("8000000", None, False),
    ("0", "40000000", False), ("0", "40000000.01", False),
])
def test_corporations_and_partnerships_meet_either_threshold(
    client_type: str, portfolio: str, total_assets: str | None, breach: bool
) -> None:
    assert bool(deposit_by(client_type, pi(portfolio, total_assets))) is breach


@pytest.mark.parametrize(("portfolio", "total_assets", "breach"), [
    ("100000000", None, True), ("0", "39999999.99", True), ("0", "40000000", False),
])
def test_trust_corporations_need_total_assets(portfolio: str, total_assets: str | None, breach: bool) -> None:
    assert bool(deposit_by("trust_corporation", pi(portfolio, total_assets))) is breach


def test_missing_assessment_is_a_finding_and_institutions_need_none() -> None:
    missing = deposit_by("individual", None)
    assert missing[0].evidence["shortcomings"] == ["no professional-investor assessment is on file"]
    assert deposit_by("institutional", None) == []


def test_orders_are_judged_too_and_stale_and_low_evidence_give_one_finding() -> None:
    s = Stream()
    s.standard_assets()
    s.contract("BTC-PERP")
    s.client("C1", pi=pi("100", on="2024-01-01"))
    s.deposit("D1", "C1", "1000000")
    found = of_rule(s.order("O1", "C1", "buy", "1", "500000"), "PI-02")
    assert [key(f) for f in found] == [("PI-02", s.last_id, "C1", s.last_at, DEFAULTS)]
    assert found[0].evidence["shortcomings"] == [
        "the assessment of 2024-01-01 is 791 days old, more than the 365 allowed",
        "the assessment is below the Cap. 571D threshold for client type individual",
    ]


def test_retail_clients_are_pi_01_business_not_pi_02() -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.client("R1", investor_class="retail")
    assert of_rule(s.deposit("D1", "R1", "1000"), "PI-02") == []


def test_an_amended_validity_reaches_the_finding() -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.amend("PI-02", "evidence_validity_days", 30, "2026-01-01T00:00:00+08:00")
    s.client("C1", pi=pi("9000000", on="2026-01-15"))
    found = of_rule(s.deposit("D1", "C1", "1000"), "PI-02")
    assert [key(f) for f in found] == [
        ("PI-02", s.last_id, "C1", s.last_at, {**DEFAULTS, "evidence_validity_days": 30})]

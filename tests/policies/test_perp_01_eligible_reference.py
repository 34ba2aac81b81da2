from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.perp_setup import perp_stream


def test_listing_on_an_unapproved_virtual_asset_is_a_whole_finding() -> None:
    s = perp_stream()
    found = of_rule(s.contract("PAXG-PERP", reference="PAXG"), "PERP-01")
    assert found == [whole(
        s, "PERP-01", "high", "PAXG-PERP",
        "Perpetual contract PAXG-PERP was listed on reference asset PAXG (virtual_asset), which "
        "is neither a retail-approved virtual asset nor an IOSCO-compliant index.",
        {}, {"reference_asset": "PAXG", "asset_kind": "virtual_asset",
             "retail_spot_approved": False, "iosco_compliant": False},
    )]


@pytest.mark.parametrize(("reference", "breach"), [
    ("BTC", False), ("VAIDX", False), ("PAXG", True), ("USDT", True),
])
def test_eligible_references(reference: str, breach: bool) -> None:
    s = perp_stream()
    assert bool(of_rule(s.contract("X-PERP", reference=reference), "PERP-01")) is breach


def test_orders_are_judged_with_the_reference_status_at_that_time() -> None:
    s = perp_stream("P1")
    s.deposit("D1", "P1", "1000000")
    assert of_rule(s.order("O1", "P1", "buy", "1", "500000"), "PERP-01") == []
    s.send("AssetStatusChanged", asset="BTC", retail_spot_approved=False)
    found = of_rule(s.order("O2", "P1", "buy", "1", "500000"), "PERP-01")
    assert [(f.subject, f.event_id) for f in found] == [("BTC-PERP", s.last_id)]
    s.send("AssetStatusChanged", asset="BTC", retail_spot_approved=True)
    assert of_rule(s.order("O3", "P1", "buy", "1", "500000"), "PERP-01") == []


def test_an_index_without_iosco_compliance_is_not_eligible() -> None:
    s = perp_stream()
    s.send("AssetStatusChanged", asset="VAIDX", iosco_compliant=False)
    assert len(of_rule(s.contract("IDX-PERP", reference="VAIDX"), "PERP-01")) == 1

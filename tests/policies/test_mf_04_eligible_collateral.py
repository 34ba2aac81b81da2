from __future__ import annotations

from tests.monitor.builders import of_rule, whole
from tests.policies.mf_setup import mf_stream


def test_pledging_an_ineligible_asset_is_a_whole_finding() -> None:
    s = mf_stream()
    found = of_rule(s.pledge("P3", "C1", "SOL", "500"), "MF-04")
    assert found == [whole(
        s, "MF-04", "medium", "P3",
        "Client C1 pledged 500 SOL as pledge P3, but SOL is not eligible collateral (BTC, ETH); "
        "it gives no lending value.",
        {"eligible_assets": ["BTC", "ETH"]}, {"asset": "SOL", "quantity": "500"},
    )]


def test_eligible_assets_are_compliant_and_the_list_can_be_amended() -> None:
    s = mf_stream()
    assert of_rule(s.pledge("P1", "C1", "BTC", "1"), "MF-04") == []
    s.amend("MF-04", "eligible_assets", ["BTC", "ETH", "SOL"], "2026-03-01T00:00:00+08:00")
    assert of_rule(s.pledge("P2", "C1", "SOL", "1"), "MF-04") == []


def test_an_ineligible_pledge_gives_no_lending_value() -> None:
    s = mf_stream()
    s.pledge("P3", "C1", "SOL", "100000")
    found = of_rule(s.draw("L1", "C1", "A1", "1"), "MF-06")
    assert [f.evidence["lending_value"] for f in found] == ["0"]

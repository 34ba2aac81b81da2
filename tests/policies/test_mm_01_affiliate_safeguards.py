from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.mm_setup import ALL, mm_stream


def test_an_affiliate_without_its_information_barrier_ordering_is_a_whole_finding() -> None:
    s = mm_stream()
    found = of_rule(s.order("MMB-S1", "MMB-1", "sell", "2", "20100", "ETH-PERP", mm=True), "MM-01")
    assert found == [whole(
        s, "MM-01", "high", "MM-B",
        "Affiliate market maker MM-B placed order MMB-S1 through account MMB-1 without "
        "information barrier.",
        {}, {"order_id": "MMB-S1", "client_id": "MMB-1", "missing_controls": ["information_barrier"]},
    )]


@pytest.mark.parametrize(("client_id", "breach"), [
    ("MMA-1", False), ("MMB-1", True), ("MMC-1", False), ("K1", False),
])
def test_only_affiliates_missing_a_control_breach(client_id: str, breach: bool) -> None:
    s = mm_stream()
    found = s.order("O1", client_id, "buy", "1", "20000", "ETH-PERP", mm=client_id != "K1")
    assert bool(of_rule(found, "MM-01")) is breach


@pytest.mark.parametrize("control", sorted(ALL))
def test_losing_any_one_control_breaches_from_then_on(control: str) -> None:
    s = mm_stream()
    s.send("MarketMakerControlsChanged", mm_id="MM-A", controls={**ALL, control: False})
    found = of_rule(s.order("O1", "MMA-1", "buy", "1", "20000", "ETH-PERP", mm=True), "MM-01")
    assert [f.evidence["missing_controls"] for f in found] == [[control]]
    s.send("MarketMakerControlsChanged", mm_id="MM-A", controls=ALL)
    assert of_rule(s.order("O2", "MMA-1", "buy", "1", "20000", "ETH-PERP", mm=True), "MM-01") == []

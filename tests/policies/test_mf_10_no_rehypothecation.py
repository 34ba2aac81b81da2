from __future__ import annotations

import pytest

from policies.finding import Finding
from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.mf_setup import COLLATERAL, mf_stream


def transfer(s: Stream, kind: str, quantity: str = "1") -> list[Finding]:
    return of_rule(s.send("CollateralTransferred", pledge_id="P1", quantity=quantity,
                          destination_kind=kind, destination="wallet-9", purpose="test"), "MF-10")


def pledged() -> Stream:
    s = mf_stream()
    s.pledge("P1", "C1", "BTC", "10")
    s.draw("L1", "C1", "A1", "1000000")
    return s


def test_moving_collateral_to_the_house_account_is_a_whole_finding() -> None:
    s = pledged()
    found = transfer(s, "broker_house")
    assert found == [whole(
        s, "MF-10", "critical", "P1",
        "1 BTC of pledge P1 (client C1) was moved to broker house wallet-9.",
        COLLATERAL, {"asset": "BTC", "quantity": "1", "destination_kind": "broker_house",
                     "destination": "wallet-9"},
    )]


@pytest.mark.parametrize(("kind", "breach"), [
    ("broker_house", True), ("third_party", True), ("segregated_custody", False),
])
def test_destinations(kind: str, breach: bool) -> None:
    assert bool(transfer(pledged(), kind)) is breach


def test_liquidating_a_client_that_is_neither_short_nor_called_is_a_finding() -> None:
    s = pledged()
    found = transfer(s, "liquidation")
    assert [(f.evidence["debt"], f.evidence["lending_value"]) for f in found] == [
        ("1000000", "2000000")]


def test_liquidating_with_an_open_call_or_while_short_is_compliant() -> None:
    s = pledged()
    s.margin_call("MC1", "C1", "2026-03-03T00:00:00+08:00")
    assert transfer(s, "liquidation") == []
    s = pledged()
    s.price("BTC", "200000")  # LV 800000 < 1000000: short
    assert transfer(s, "liquidation") == []


def test_segregated_custody_transfers_do_not_reduce_the_pledge() -> None:
    s = pledged()
    transfer(s, "segregated_custody", "10")
    assert of_rule(s.draw("L2", "C1", "A1", "1000000"), "MF-06") == []

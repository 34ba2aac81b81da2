from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.perp_setup import perp_stream


def test_an_unlicensed_stablecoin_is_a_whole_finding() -> None:
    s = perp_stream("P1")
    found = of_rule(s.deposit("D3", "P1", "1000", asset="USDT"), "PERP-02")
    assert found == [whole(
        s, "PERP-02", "critical", "P1",
        "Client P1 deposited 1000 USDT (stablecoin) as perpetual margin (D3); only fiat and "
        "HKMA-licensed stablecoins or tokenized deposits are permitted.",
        {}, {"asset": "USDT", "amount": "1000", "deposit_id": "D3", "asset_kind": "stablecoin",
             "hkma_licensed": False},
    )]


@pytest.mark.parametrize(("asset", "breach"), [
    ("HKD", False), ("USD", False), ("HKDX", False), ("TDHK", False),
    ("USDT", True), ("BTC", True), ("VAIDX", True),
])
def test_permitted_assets(asset: str, breach: bool) -> None:
    s = perp_stream("P1")
    assert bool(of_rule(s.deposit("D1", "P1", "1", asset=asset), "PERP-02")) is breach


def test_licence_status_at_the_time_of_the_deposit_decides() -> None:
    s = perp_stream("P1")
    s.send("AssetStatusChanged", asset="TDHK", hkma_licensed=False)
    assert len(of_rule(s.deposit("D1", "P1", "1", asset="TDHK"), "PERP-02")) == 1


def test_a_forbidden_deposit_still_counts_as_margin() -> None:
    s = perp_stream("P1")
    s.deposit("D1", "P1", "5000", asset="USDT")  # 39000 HKD at 7.8
    # 78 contracts x 0.01 x 500000 x 0.1 = 39000: exactly covered
    assert of_rule(s.order("O1", "P1", "buy", "78", "500000"), "PERP-04") == []

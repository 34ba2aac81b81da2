from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.mm_setup import mm_stream


def test_an_unflagged_market_maker_order_is_a_whole_finding() -> None:
    s = mm_stream()
    found = of_rule(s.order("MMA-S2", "MMA-1", "sell", "2", "20200", "ETH-PERP"), "MM-02")
    assert found == [whole(
        s, "MM-02", "medium", "MMA-S2",
        "Order MMA-S2 of client MMA-1 is from market maker MM-A's account but is not flagged as "
        "market making.",
        {}, {"client_id": "MMA-1", "market_maker_id": "MM-A", "market_maker": False},
    )]


@pytest.mark.parametrize(("client_id", "flag", "breach"), [
    ("MMA-1", True, False), ("MMA-1", False, True), ("MMC-1", False, True),
    ("K1", False, False), ("K1", True, True),
])
def test_the_flag_must_match_the_account(client_id: str, flag: bool, breach: bool) -> None:
    s = mm_stream()
    assert bool(of_rule(s.order("O1", client_id, "buy", "1", "20000", "ETH-PERP", mm=flag), "MM-02")) is breach

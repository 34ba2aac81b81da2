from __future__ import annotations

import pytest

from tests.monitor.builders import Stream, expected_id, of_rule, whole
from tests.policies.mm_setup import mm_stream


def affiliate_buys_at_20000(resting_limit: str | None, resting_side: str = "buy") -> Stream:
    s = mm_stream()
    s.order("K1-R", "K1", resting_side, "5", resting_limit, "ETH-PERP")
    s.order("MMA-B1", "MMA-1", "buy", "5", "20000", "ETH-PERP", mm=True)
    s.order("K2-S1", "K2", "sell", "5", "20000", "ETH-PERP")
    return s


def test_an_affiliate_filled_ahead_of_a_resting_client_order_is_a_whole_finding() -> None:
    s = affiliate_buys_at_20000("20000")
    found = of_rule(s.trade("T1", "MMA-B1", "K2-S1", "5", "20000", "ETH-PERP"), "MM-03")
    assert found == [whole(
        s, "MM-03", "high", "T1",
        "Affiliate market maker MM-A was filled on the buy side of trade T1 at 20000 while "
        "client order K1-R (limit 20000, 5 unfilled) was resting ahead of it.",
        {}, {"side": "buy", "market_maker_order_id": "MMA-B1", "price": "20000",
             "resting_order_id": "K1-R", "resting_limit_price": "20000", "resting_remaining": "5"},
    )]


@pytest.mark.parametrize(("limit", "breach"), [
    ("19999.99", False), ("20000", True), ("20000.01", True), (None, True),
])
def test_buy_side_limit_boundary(limit: str | None, breach: bool) -> None:
    s = affiliate_buys_at_20000(limit)
    assert bool(of_rule(s.trade("T1", "MMA-B1", "K2-S1", "5", "20000", "ETH-PERP"), "MM-03")) is breach


@pytest.mark.parametrize(("limit", "breach"), [("20000.01", False), ("20000", True), ("19999.99", True)])
def test_sell_side_limit_boundary(limit: str, breach: bool) -> None:
    s = mm_stream()
    s.order("K1-R", "K1", "sell", "5", limit, "ETH-PERP")
    s.order("MMA-S1", "MMA-1", "sell", "5", "20000", "ETH-PERP", mm=True)
    s.order("K2-B1", "K2", "buy", "5", "20000", "ETH-PERP")
    found = of_rule(s.trade("T1", "K2-B1", "MMA-S1", "5", "20000", "ETH-PERP"), "MM-03")
    assert [f.evidence["side"] for f in found] == (["sell"] if breach else [])


def test_orders_on_the_other_side_or_gone_or_of_market_makers_do_not_count() -> None:
    s = affiliate_buys_at_20000("20000", resting_side="sell")
    s.order("MMC-B", "MMC-1", "buy", "5", "30000", "ETH-PERP", mm=True)  # a market maker's
    s.order("K1-X", "K1", "buy", "5", "30000", "ETH-PERP")
    s.send("PerpOrderCancelled", order_id="K1-X")
    s.order("K1-F", "K1", "buy", "1", "30000", "ETH-PERP")
    s.order("K2-F", "K2", "sell", "1", "30000", "ETH-PERP")
    s.trade("TF", "K1-F", "K2-F", "1", "30000", "ETH-PERP")  # fully filled
    assert of_rule(s.trade("T1", "MMA-B1", "K2-S1", "5", "20000", "ETH-PERP"), "MM-03") == []


def test_a_partly_filled_order_still_rests_with_what_remains() -> None:
    s = affiliate_buys_at_20000("20000")
    s.order("K2-S0", "K2", "sell", "3", "20000", "ETH-PERP")
    s.trade("T0", "K1-R", "K2-S0", "3", "20000", "ETH-PERP")
    found = of_rule(s.trade("T1", "MMA-B1", "K2-S1", "5", "20000", "ETH-PERP"), "MM-03")
    assert [f.evidence["resting_remaining"] for f in found] == ["2"]


def test_both_sides_of_one_trade_give_two_findings_with_distinct_ids() -> None:
    s = mm_stream()
    s.order("K1-B", "K1", "buy", "1", None, "ETH-PERP")
    s.order("K2-S", "K2", "sell", "1", None, "ETH-PERP")
    s.send("MarketMakerRegistered", mm_id="MM-D", legal_entity="D", affiliate=True,
           controls={"information_barrier": True, "functional_independence": True,
                     "conflict_monitoring": True, "client_priority": True})
    s.client("MMD-1", client_type="corporation", market_maker_id="MM-D",
             pi={"portfolio": "10000000", "total_assets": None, "assessed_on": "2026-01-15"})
    s.deposit("dep-MMD-1", "MMD-1", "100000000")
    s.order("MMA-B", "MMA-1", "buy", "1", "20000", "ETH-PERP", mm=True)
    s.order("MMD-S", "MMD-1", "sell", "1", "20000", "ETH-PERP", mm=True)
    found = of_rule(s.trade("T9", "MMA-B", "MMD-S", "1", "20000", "ETH-PERP"), "MM-03")
    assert [f.evidence["side"] for f in found] == ["buy", "sell"]
    assert [f.finding_id for f in found] == [expected_id("MM-03", s.last_id, "T9", 0),
                                             expected_id("MM-03", s.last_id, "T9", 1)]


def test_a_non_affiliated_market_maker_may_be_filled_first() -> None:
    s = mm_stream()
    s.order("K1-R", "K1", "buy", "5", "20000", "ETH-PERP")
    s.order("MMC-B1", "MMC-1", "buy", "5", "20000", "ETH-PERP", mm=True)
    s.order("K2-S1", "K2", "sell", "5", "20000", "ETH-PERP")
    assert of_rule(s.trade("T1", "MMC-B1", "K2-S1", "5", "20000", "ETH-PERP"), "MM-03") == []

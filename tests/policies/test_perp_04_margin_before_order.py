from __future__ import annotations

import pytest

from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.perp_setup import perp_stream


def funded(amount: str) -> Stream:
    s = perp_stream("P1", "P2")
    s.deposit("D1", "P1", amount)
    s.deposit("D2", "P2", "10000000")
    return s


def test_an_order_beyond_the_clients_margin_is_a_whole_finding() -> None:
    s = funded("4999.99")
    found = of_rule(s.order("O1", "P1", "buy", "10", "500000"), "PERP-04")
    assert found == [whole(
        s, "PERP-04", "critical", "P1",
        "Client P1 placed order O1 to buy 10 BTC-PERP with equity of HKD 4999.99 short of the "
        "HKD 5000 initial margin its positions would need once filled.",
        {}, {"order_id": "O1", "equity": "4999.99", "initial_requirement": "5000",
             "position_before": "0", "position_after": "10"},
    )]


@pytest.mark.parametrize(("margin", "breach"), [("4999.99", True), ("5000", False), ("5000.01", False)])
def test_initial_margin_boundary(margin: str, breach: bool) -> None:
    # 10 contracts x 0.01 BTC x 500000 x 10 % = 5000
    s = funded(margin)
    assert bool(of_rule(s.order("O1", "P1", "buy", "10", "500000"), "PERP-04")) is breach


def test_orders_that_do_not_increase_the_absolute_position_need_no_margin() -> None:
    s = funded("5000")
    s.fill("T1", "P1", "P2", "10", "500000")
    s.price("BTC", "490000")  # equity 5000 - 1000 = 4000, under any new requirement
    assert of_rule(s.order("O1", "P1", "sell", "10", "490000"), "PERP-04") == []
    assert of_rule(s.order("O2", "P1", "sell", "20", "490000"), "PERP-04") == []  # +10 to -10
    found = of_rule(s.order("O3", "P1", "sell", "21", "490000"), "PERP-04")  # +10 to -11
    assert [(f.evidence["equity"], f.evidence["initial_requirement"]) for f in found] == [
        ("4000", "5390")]


def test_other_positions_count_and_other_unfilled_orders_do_not() -> None:
    s = funded("10000")
    s.fill("T1", "P1", "P2", "10", "500000")  # requirement 5000 at the mark
    s.order("O-rest", "P1", "buy", "100", "400000")  # resting, ignored (reading 10)
    assert of_rule(s.order("O1", "P1", "buy", "10", "500000"), "PERP-04") == []  # 10000
    assert len(of_rule(s.order("O2", "P1", "buy", "11", "500000"), "PERP-04")) == 1  # 10500


def test_a_contract_without_a_mark_is_valued_at_the_orders_limit() -> None:
    s = funded("1000")
    s.asset("NEW", retail_spot_approved=True)  # never priced, never traded
    s.contract("NEW-PERP", reference="NEW", size="1")
    assert of_rule(s.order("O1", "P1", "buy", "100", "100", contract="NEW-PERP"), "PERP-04") == []
    found = of_rule(s.order("O2", "P1", "buy", "100", "100.01", contract="NEW-PERP"), "PERP-04")
    assert [f.evidence["initial_requirement"] for f in found] == ["1000.1"]


def test_a_withdrawal_leaving_equity_below_the_initial_requirement_is_a_finding() -> None:
    s = funded("6000")
    s.fill("T1", "P1", "P2", "10", "500000")  # requirement 5000
    assert of_rule(s.send("PerpMarginWithdrawn", client_id="P1", asset="HKD", amount="1000"),
                   "PERP-04") == []
    found = of_rule(s.send("PerpMarginWithdrawn", client_id="P1", asset="HKD", amount="0.01"),
                    "PERP-04")
    assert found == [whole(
        s, "PERP-04", "critical", "P1",
        "Client P1 withdrew 0.01 HKD of margin, leaving equity of HKD 4999.99 below the HKD "
        "5000 initial margin requirement.",
        {}, {"asset": "HKD", "amount": "0.01", "equity": "4999.99", "initial_requirement": "5000"},
    )]


def test_with_no_position_a_withdrawal_breaches_only_below_zero_equity() -> None:
    s = funded("20000")
    s.fill("T1", "P1", "P2", "10", "500000")
    s.fill("T2", "P2", "P1", "10", "400000")  # closed at a 10000 loss: equity 10000, flat
    assert of_rule(s.send("PerpMarginWithdrawn", client_id="P1", asset="HKD", amount="10000"),
                   "PERP-04") == []
    found = of_rule(s.send("PerpMarginWithdrawn", client_id="P1", asset="HKD", amount="0.01"),
                    "PERP-04")
    assert [f.evidence["equity"] for f in found] == ["-0.01"]

from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.mf_setup import COLLATERAL, mf_stream


def test_a_drawdown_that_leaves_the_client_short_is_a_whole_finding() -> None:
    s = mf_stream("10000000")
    s.pledge("P1", "C1", "BTC", "10", "0.6")  # lending value 10 x 500000 x 0.4 = 2000000
    found = of_rule(s.draw("L1", "C1", "A1", "2000000.01"), "MF-06")
    assert found == [whole(
        s, "MF-06", "high", "L1",
        "After drawing VA financing L1 of HKD 2000000.01, client C1 owes HKD 2000000.01 against "
        "a lending value of HKD 2000000.",
        COLLATERAL, {"debt": "2000000.01", "lending_value": "2000000", "amount": "2000000.01"},
    )]


@pytest.mark.parametrize(("amount", "breach"), [
    ("1999999.99", False), ("2000000", False), ("2000000.01", True),
])
def test_lending_value_boundary(amount: str, breach: bool) -> None:
    s = mf_stream("10000000")
    s.pledge("P1", "C1", "BTC", "10", "0.6")
    assert bool(of_rule(s.draw("L1", "C1", "A1", amount), "MF-06")) is breach


def test_the_larger_of_pledge_haircut_and_minimum_applies() -> None:
    s = mf_stream("10000000")
    s.pledge("P1", "C1", "BTC", "10", "0.5")  # judged at 0.6: lending value 2000000
    assert of_rule(s.draw("L1", "C1", "A1", "2000000"), "MF-06") == []
    assert len(of_rule(s.draw("L2", "C1", "A1", "0.01"), "MF-06")) == 1


def test_securities_collateral_and_loans_count() -> None:
    s = mf_stream("10000000")
    s.send("SecuritiesMarginPositionReported", client_id="C1", account_id="A1",
           marginable_value="1000", loan_balance="400")
    assert of_rule(s.draw("L1", "C1", "A1", "600"), "MF-06") == []
    found = of_rule(s.draw("L2", "C1", "A1", "0.01"), "MF-06")
    assert [(f.evidence["debt"], f.evidence["lending_value"]) for f in found] == [("1000.01", "1000")]

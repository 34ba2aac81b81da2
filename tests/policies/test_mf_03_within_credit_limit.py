from __future__ import annotations

import pytest

from tests.monitor.builders import Stream, key, of_rule, whole
from tests.policies.mf_setup import mf_stream


def with_collateral(credit_limit: str) -> Stream:
    s = mf_stream(credit_limit)
    s.pledge("P1", "C1", "BTC", "100")  # plenty of lending value
    return s


def test_debt_above_the_credit_limit_is_a_whole_finding() -> None:
    s = with_collateral("1000000")
    s.send("SecuritiesMarginPositionReported", client_id="C1", account_id="A1",
           marginable_value="0", loan_balance="400000")
    found = of_rule(s.draw("L1", "C1", "A1", "600000.01"), "MF-03")
    assert found == [whole(
        s, "MF-03", "high", "L1",
        "After drawing VA financing L1 of HKD 600000.01, client C1 owes HKD 1000000.01, above "
        "the HKD 1000000 credit limit of account A1.",
        {}, {"debt": "1000000.01", "credit_limit": "1000000", "account_id": "A1",
             "amount": "600000.01"},
    )]


@pytest.mark.parametrize(("amount", "breach"), [
    ("999999.99", False), ("1000000", False), ("1000000.01", True),
])
def test_credit_limit_boundary(amount: str, breach: bool) -> None:
    s = with_collateral("1000000")
    assert bool(of_rule(s.draw("L1", "C1", "A1", amount), "MF-03")) is breach


def test_the_named_accounts_limit_applies_even_when_closed() -> None:
    s = with_collateral("1000000")
    s.margin_account("C1", "A2", "500")
    s.send("SecuritiesMarginAccountClosed", client_id="C1", account_id="A2")
    found = of_rule(s.draw("L1", "C1", "A2", "501"), "MF-03")
    assert [key(f) for f in found] == [("MF-03", s.last_id, "L1", s.last_at, {})]

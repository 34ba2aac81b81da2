from __future__ import annotations

from decimal import Decimal

import pytest

from policies.finding import Finding
from tests.monitor.builders import Stream, of_rule, whole
from tests.policies.perp_setup import perp_stream


def with_fund(balance: str) -> Stream:
    s = perp_stream()
    s.send("InsuranceFundChanged", delta="1000000", reason="seed")
    s.send("InsuranceFundChanged", delta=str(Decimal(balance) - 1000000), reason="payout")
    return s


def allocate(s: Stream, amount: str, method: str) -> list[Finding]:
    return of_rule(s.send("LossAllocated", contract_id="BTC-PERP", amount=amount, method=method),
                   "PERP-07")


def test_socialising_a_loss_the_fund_could_cover_is_a_whole_finding() -> None:
    s = with_fund("500000")
    found = allocate(s, "500000", "socialised")
    assert found == [whole(
        s, "PERP-07", "high", "BTC-PERP",
        "A loss of HKD 500000 on BTC-PERP was allocated by socialised while the insurance fund "
        "held HKD 500000.",
        {}, {"amount": "500000", "method": "socialised", "insurance_fund": "500000"},
    )]


@pytest.mark.parametrize(("amount", "breach"), [
    ("499999.99", True), ("500000", True), ("500000.01", False),
])
def test_fund_at_least_the_loss_boundary(amount: str, breach: bool) -> None:
    assert bool(allocate(with_fund("500000"), amount, "auto_deleveraging")) is breach


def test_drawing_on_the_fund_itself_is_compliant() -> None:
    assert allocate(with_fund("500000"), "1", "insurance_fund") == []

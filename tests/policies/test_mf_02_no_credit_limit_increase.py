from __future__ import annotations

import pytest

from policies.finding import Finding
from tests.monitor.builders import of_rule, whole
from tests.policies.mf_setup import mf_stream


def change(limit: str, reason: str = "va_financing") -> list[Finding]:
    s = mf_stream("300000")
    return of_rule(s.send("CreditLimitChanged", client_id="C1", account_id="A1",
                          credit_limit=limit, reason=reason), "MF-02")


def test_raising_the_limit_for_va_financing_is_a_whole_finding() -> None:
    s = mf_stream("300000")
    found = of_rule(s.send("CreditLimitChanged", client_id="C1", account_id="A1",
                           credit_limit="600000", reason="va_financing"), "MF-02")
    assert found == [whole(
        s, "MF-02", "high", "C1",
        "The credit limit of client C1's account A1 was raised from HKD 300000 to HKD 600000 "
        "for VA financing.",
        {}, {"account_id": "A1", "old_credit_limit": "300000", "new_credit_limit": "600000",
             "reason": "va_financing"},
    )]


@pytest.mark.parametrize(("limit", "breach"), [
    ("299999.99", False), ("300000", False), ("300000.01", True),
])
def test_only_a_raise_is_a_breach(limit: str, breach: bool) -> None:
    assert bool(change(limit)) is breach


def test_a_raise_for_another_reason_is_compliant() -> None:
    assert change("600000", "periodic_review") == []

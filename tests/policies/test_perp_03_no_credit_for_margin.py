from __future__ import annotations

import pytest

from tests.monitor.builders import of_rule, whole
from tests.policies.perp_setup import perp_stream


def test_platform_credit_as_margin_is_a_whole_finding() -> None:
    s = perp_stream("P2")
    found = of_rule(s.deposit("D4", "P2", "200000", asset="HKDX", source="platform_credit"), "PERP-03")
    assert found == [whole(
        s, "PERP-03", "critical", "P2",
        "Client P2's perpetual margin deposit D4 of 200000 HKDX was funded by platform credit, "
        "not the client's own funds.",
        {}, {"funding_source": "platform_credit", "asset": "HKDX", "amount": "200000",
             "deposit_id": "D4"},
    )]


@pytest.mark.parametrize(("source", "breach"), [
    ("client_funds", False), ("platform_credit", True), ("affiliate_credit", True),
    ("third_party_loan", True),
])
def test_funding_sources(source: str, breach: bool) -> None:
    s = perp_stream("P1")
    assert bool(of_rule(s.deposit("D1", "P1", "1", source=source), "PERP-03")) is breach

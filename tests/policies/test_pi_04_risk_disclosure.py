from __future__ import annotations

from tests.monitor.builders import Stream, of_rule, whole


def stream() -> Stream:
    s = Stream()
    s.standard_assets()
    s.contract("BTC-PERP")
    s.client("C1", ready=False)
    s.send("DerivativesKnowledgeAssessed", client_id="C1", has_knowledge=True, basis="training")
    s.deposit("D1", "C1", "1000000")
    s.margin_account("C1", "A1", "10000000")
    s.pledge("P1", "C1", "BTC", "10")
    return s


def test_perpetual_order_without_the_perpetuals_disclosure_is_a_whole_finding() -> None:
    s = stream()
    found = of_rule(s.order("O1", "C1", "buy", "1", "500000"), "PI-04")
    assert found == [whole(
        s, "PI-04", "medium", "C1",
        "Client C1 placed perpetual order O1 without acknowledging the perpetuals risk disclosure.",
        {}, {"product": "perpetuals", "acknowledged": []},
    )]


def test_financing_needs_its_own_disclosure_not_the_perpetuals_one() -> None:
    s = stream()
    s.send("RiskDisclosureAcknowledged", client_id="C1", product="perpetuals", version="1")
    assert of_rule(s.order("O1", "C1", "buy", "1", "500000"), "PI-04") == []
    found = of_rule(s.draw("L1", "C1", "A1", "1000"), "PI-04")
    assert [(f.subject, f.evidence["product"]) for f in found] == [("C1", "va_financing")]
    s.send("RiskDisclosureAcknowledged", client_id="C1", product="va_financing", version="1")
    assert of_rule(s.draw("L2", "C1", "A1", "1000"), "PI-04") == []

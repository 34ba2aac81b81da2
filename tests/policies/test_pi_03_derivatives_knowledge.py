from __future__ import annotations

from tests.monitor.builders import Stream, of_rule, whole


def stream() -> Stream:
    s = Stream()
    s.standard_assets()
    s.contract("BTC-PERP")
    s.client("C1", ready=False)
    s.send("RiskDisclosureAcknowledged", client_id="C1", product="perpetuals", version="1")
    s.deposit("D1", "C1", "1000000")
    return s


def test_order_without_any_knowledge_assessment_is_a_whole_finding() -> None:
    s = stream()
    found = of_rule(s.order("O1", "C1", "buy", "1", "500000"), "PI-03")
    assert found == [whole(
        s, "PI-03", "high", "C1",
        "Client C1 placed perpetual order O1 without derivatives knowledge: it has never been "
        "assessed.",
        {}, {"has_knowledge": None, "order_id": "O1"},
    )]


def test_the_latest_assessment_decides() -> None:
    s = stream()
    s.send("DerivativesKnowledgeAssessed", client_id="C1", has_knowledge=True, basis="training")
    assert of_rule(s.order("O1", "C1", "buy", "1", "500000"), "PI-03") == []
    s.send("DerivativesKnowledgeAssessed", client_id="C1", has_knowledge=False, basis="review")
    found = of_rule(s.order("O2", "C1", "buy", "1", "500000"), "PI-03")
    assert [f.evidence["has_knowledge"] for f in found] == [False]


def test_deposits_need_no_knowledge() -> None:
    s = stream()
    assert of_rule(s.deposit("D2", "C1", "1"), "PI-03") == []

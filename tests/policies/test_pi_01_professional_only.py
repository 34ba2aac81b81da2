from __future__ import annotations

from tests.monitor.builders import Stream, of_rule, whole

CRITICAL = "critical"


def retail_stream() -> Stream:
    s = Stream()
    s.standard_assets()
    s.contract("BTC-PERP")
    s.client("R1", investor_class="retail")
    return s


def test_retail_client_depositing_perpetual_margin_is_a_finding() -> None:
    s = retail_stream()
    found = of_rule(s.deposit("D1", "R1", "50000"), "PI-01")
    assert found == [whole(
        s, "PI-01", CRITICAL, "R1",
        "Retail client R1 deposited perpetual margin (D1), but perpetual contracts are for "
        "professional investors only.",
        {}, {"investor_class": "retail"},
    )]


def test_retail_client_placing_a_perpetual_order_is_a_finding_every_time() -> None:
    s = retail_stream()
    s.deposit("D1", "R1", "50000")
    assert [f.subject for f in of_rule(s.order("O1", "R1", "buy", "1", "500000"), "PI-01")] == ["R1"]
    assert [f.subject for f in of_rule(s.order("O2", "R1", "buy", "1", "500000"), "PI-01")] == ["R1"]


def test_professional_client_is_compliant() -> None:
    s = retail_stream()
    s.client("P1")
    assert of_rule(s.deposit("D1", "P1", "50000") + s.order("O1", "P1", "buy", "1", "500000"), "PI-01") == []


def test_classification_at_the_time_of_the_event_decides() -> None:
    s = retail_stream()
    pi = {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"}
    s.send("ClientReclassified", client_id="R1", investor_class="professional", pi_assessment=pi)
    assert of_rule(s.deposit("D1", "R1", "50000"), "PI-01") == []
    s.send("ClientReclassified", client_id="R1", investor_class="retail", pi_assessment=None)
    assert len(of_rule(s.deposit("D2", "R1", "50000"), "PI-01")) == 1


def test_the_pre_trade_check_reports_it_before_the_fact() -> None:
    s = retail_stream()
    digest = s.engine.state_digest()
    checked = s.check("PerpOrderPlaced", order_id="O1", client_id="R1", contract_id="BTC-PERP",
                      side="buy", quantity="1", limit_price="500000", market_maker=False)
    assert [f.rule_id for f in of_rule(checked, "PI-01")] == ["PI-01"]
    assert s.engine.state_digest() == digest

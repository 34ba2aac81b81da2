"""``regledger client`` (one client on one page) and ``regledger rules`` (the catalogue, with
each parameter's amendments and the value in force at the ledger's latest business time)."""

from __future__ import annotations

import pytest

from domain.errors import NotFound
from ops.client_view import as_text, client_view
from projections.explain.catalogue import as_text as rules_text
from projections.explain.catalogue import catalogue
from projections.store.base import Store
from tests.audit.helpers import event, ingest, lines_of


def amendment(event_id: str, value: str, effective_from: str) -> bytes:
    return event(event_id, "RuleParameterAmended", "2026-03-01T00:00:00+08:00", {
        "rule_id": "MF-05", "parameter": "min_haircut", "value": value,
        "effective_from": effective_from, "notice_ref": f"SFC notice {event_id}",
    })


def test_a_clients_page_gathers_its_state_findings_and_activity_from_any_of_its_ids(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    by_pledge = client_view(store, "P1")
    assert by_pledge == client_view(store, "C1")  # a pledge leads to its client
    assert by_pledge["identity"]["investor_class"] == "retail"
    assert (by_pledge["state"]["debt"], by_pledge["state"]["lending_value"], by_pledge["state"]["shortfall"]) == (
        "1400000", "1332000", "68000",
    )
    assert [(f["rule_id"], f["subject"], f["case_status"]) for f in by_pledge["findings"]] == [
        ("MF-10", "P1", "open"), ("MF-07", "C1", "open"),  # newest first; MF-10's subject is the pledge
    ]
    assert by_pledge["recent_activity"][0]["position"] == 38  # newest first
    text = as_text(by_pledge)
    assert "lending value HKD 1,332,000.00; debt HKD 1,400,000.00; shortfall HKD 68,000.00 (SHORT)" in text


def test_a_subject_of_no_client_has_no_page(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    with pytest.raises(NotFound, match="'BTC' is not a client and belongs to none"):
        client_view(store, "BTC")


def test_the_catalogue_lists_every_rule_and_the_amendments_in_force_or_scheduled(store: Store) -> None:
    ingest(store, [amendment("n1", "0.6", "2026-03-01T00:00:00+08:00"),
                   amendment("n2", "0.65", "2026-03-02T10:00:00+08:00"),  # before the newest event
                   amendment("n3", "0.7", "2099-01-01T00:00:00+08:00"),  # scheduled, not yet in force
                   *lines_of("mf-day")])
    rules = catalogue(store)
    assert len(rules) == 26 and rules[0]["rule_id"] == "PI-01"
    [haircut] = next(r for r in rules if r["rule_id"] == "MF-05")["parameters"]
    assert (haircut["default"], haircut["in_force"], haircut["in_force_since"]) == ("0.6", "0.65", "2026-03-02T10:00:00+08:00")
    assert [h["notice_ref"] for h in haircut["amendments"]] == ["SFC notice n1", "SFC notice n2", "SFC notice n3"]
    text = rules_text(rules)
    assert "parameter min_haircut = 0.65 (since 2026-03-02 10:00:00 HKT; default 0.6)" in text
    assert "amended to 0.7 effective 2099-01-01 00:00:00 HKT (notice SFC notice n3; event n3 at position 3)" in text
    assert "(reading" not in text and "`" not in text
    # a late, back-dated event (occurred 03-01, recorded last) does not turn the catalogue's clock back
    ingest(store, [amendment("n4", "0.8", "2026-03-02T13:45:38+08:00")])  # a second after mf-day's last event
    [haircut] = next(r for r in catalogue(store) if r["rule_id"] == "MF-05")["parameters"]
    assert (haircut["in_force"], len(haircut["amendments"])) == ("0.65", 4)


def test_without_a_ledger_the_catalogue_is_the_rulebook_with_its_defaults() -> None:
    rules = catalogue(None)
    mf06 = next(r for r in rules if r["rule_id"] == "MF-06")
    assert mf06["citation"]["paragraphs"] == ["4(b)", "7(b)", "10"] and mf06["uses"] == ["MF-04.eligible_assets", "MF-05.min_haircut"]
    assert not mf06["obligation"].startswith("MF-06")  # the docstring's heading is not repeated

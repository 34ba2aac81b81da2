"""``explain`` as an officer reads it: the rule's text and citation, what happened, the
arithmetic with the figures, the parameters in force with the amendment that set them, and the
events behind it with their positions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ops.queries import explanation
from projections.explain.plain import as_text, money, plain, when
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import event, ingest, lines_of

NOTICE = event("amend-1", "RuleParameterAmended", "2026-03-01T00:00:00+08:00", {
    "rule_id": "MF-07", "parameter": "margin_call_within_minutes", "value": 60,
    "effective_from": "2026-03-01T00:00:00+08:00", "notice_ref": "SFC notice 2026/7",
})


@pytest.mark.parametrize(("value", "shown"), [
    ("1775437.24647363578", "HKD 1,775,437.25"),  # above the half cent: up
    ("0.005", "HKD 0.01"),  # exactly at the half cent: half up, as a statement rounds
    ("0.00499", "HKD 0.00"),  # below it: down
    ("1875000", "HKD 1,875,000.00"),
    ("-99562.745", "HKD -99,562.75"),
    ("9" * 40 + ".005", "HKD 9," + ",".join(["999"] * 13) + ".01"),  # past 28 digits: still exact
])
def test_money_is_shown_to_the_cent_with_thousands_separators(value: str, shown: str) -> None:
    assert money(Decimal(value)) == shown


@pytest.mark.parametrize(("text", "shown"), [
    ("2026-03-02T04:00:17+00:00", "2026-03-02 12:00:17 HKT"),
    ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-23:59"),  # past the calendar in HKT: as sent
    ("0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00+08:00"),  # before the first instant in UTC: as sent
    (None, "-"),
])
def test_times_are_shown_in_hong_kong_time_and_the_calendars_edges_as_sent(text: str | None, shown: str) -> None:
    assert when(text) == shown


def test_an_mf07_explanation_writes_out_lending_value_debt_and_the_shortfall(store: Store) -> None:
    ingest(store, [NOTICE, *lines_of("mf-day")])
    [finding] = store.findings(FindingFilter(rule_ids=("MF-07",)))
    p = plain(explanation(store, finding.finding_id))
    assert p["citation"] == "SFC circular 26EC5 (11 Feb 2026), VA margin financing, paragraphs 8(b), 11"
    assert "(reading" not in p["requires"] and "`" not in p["requires"]
    assert p["client_id"] == "C1"
    # what happened is the finding's message with its money to the cent, as the arithmetic shows it
    assert "HKD 1500000" in finding.message
    assert "HKD 1,500,000.00" in p["happened"] and "HKD 1500000" not in p["happened"]
    assert [line for line in p["arithmetic"] if "pledge" in line or "=" in line] == [
        "C1: pledge P1: 10 BTC x HKD 370,000.00 x (1 - 0.6) = HKD 1,480,000.00",
        "C1: lending value = HKD 0.00 + HKD 1,480,000.00 = HKD 1,480,000.00",  # the account marginable 0
        "C1: debt = VA financing L1 HKD 1,500,000.00 = HKD 1,500,000.00",
        "C1: short by HKD 1,500,000.00 - HKD 1,480,000.00 = HKD 20,000.00",
    ]
    by_name = {q["name"]: q for q in p["parameters"]}
    assert by_name["MF-07.margin_call_within_minutes"]["set_by"] == {
        "event_id": "amend-1", "position": 1, "notice_ref": "SFC notice 2026/7",
    }
    assert by_name["MF-07.margin_call_within_minutes"]["since"] == "2026-03-01 00:00:00 HKT"
    assert by_name["MF-05.min_haircut"]["set_by"] is None  # the default, never amended
    [trigger] = [e for e in p["events"] if e["trigger"]]
    assert (trigger["event_id"], trigger["type"]) == ("mf-day-0018", "PriceObserved")
    text = as_text(p)
    for part in ("What the rule requires", "The arithmetic", "short by HKD 1,500,000.00 - HKD 1,480,000.00",
                 "since 2026-03-01 00:00:00 HKT, set by amendment amend-1 at position 1 (notice SFC notice 2026/7)",
                 "<- triggered the finding"):
        assert part in text


def test_an_amendment_effective_after_the_event_is_not_shown_as_in_force(store: Store) -> None:
    later = NOTICE.replace(b'"effective_from": "2026-03-01T00:00:00+08:00"', b'"effective_from": "2026-03-09T00:00:00+08:00"')
    ingest(store, [later, *lines_of("mf-day")])
    [finding] = store.findings(FindingFilter(rule_ids=("MF-07",)))
    by_name = {q["name"]: q for q in plain(explanation(store, finding.finding_id))["parameters"]}
    assert by_name["MF-07.margin_call_within_minutes"]["set_by"] is None


def test_a_perpetual_finding_writes_out_equity_against_the_requirements(store: Store) -> None:
    ingest(store, lines_of("perp-day"))
    rows = [f for f in store.findings(FindingFilter(rule_ids=("PERP-06", "PERP-04")))]
    assert rows
    p = plain(explanation(store, rows[0].finding_id))
    assert any(" equity = margin balance " in line for line in p["arithmetic"])
    assert any("maintenance requirement HKD " in line for line in p["arithmetic"])


def test_the_cli_explains_in_words_by_default_and_in_json_on_request(sqlite_url: str) -> None:
    from tests.conftest import SCENARIOS
    from tests.evidence.test_evidence_cli import regledger

    assert regledger("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", sqlite_url).returncode == 0
    finding_id = json.loads(regledger("findings", "--rule", "MF-07", "--format", "json", "--db", sqlite_url).stdout)[0]["finding_id"]
    words = regledger("explain", finding_id, "--db", sqlite_url)
    assert words.returncode == 0 and words.stdout.startswith(f"Finding {finding_id}: MF-07 Timely margin call (high)\n")
    assert "  C1: short by HKD 1,500,000.00 - HKD 1,480,000.00 = HKD 20,000.00\n" in words.stdout
    exact = json.loads(regledger("explain", finding_id, "--format", "json", "--db", sqlite_url).stdout)
    assert exact["judged_state"]["clients"][0]["lending_value"] == "1480000"

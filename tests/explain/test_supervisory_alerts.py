"""``explain`` on the regulator's supervisory alerts (SUP-01..SUP-04): what the follower saw,
the position or finding concerned, the settings that decided it (the lag threshold, the
four-eyes severities) and what the regulator should do next, through the same command and
JSON as every other finding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ops.cli import app
from ops.wiring import open_store
from policies.supervisory import case_alert, chain_alert, feed_alert, finding_alert
from projections.sql import Sql
from projections.store.base import FindingFilter
from projections.supervise.follower import record_alerts
from tests.audit.helpers import ingest, lines_of

AT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def explained(url: str, finding_id: str, output: str) -> str:
    done = CliRunner().invoke(app, ["explain", finding_id, "--db", url, "--format", output], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture
def regulator(store_url: str) -> dict[str, str]:
    """A regulator's store with the mf-day scenario verified into it and one alert of each kind."""
    store = open_store(store_url, create=True)
    try:
        ingest(store, lines_of("mf-day"))
        ours = next(iter(store.findings(FindingFilter())))
        theirs = {"finding_id": ours.finding_id, "rule_id": ours.rule_id, "event_id": ours.event_id,
                  "subject": ours.subject, "occurred_at": ours.occurred_at, "detected_at": ours.detected_at,
                  "position": ours.position}
        alerts = {
            "edited": chain_alert("acme", "edited", 5, "", AT),
            "gap": chain_alert("acme", "gap", 39, "", AT, {"verified_tip": 38}),
            "lacks": finding_alert("acme", "lacks", theirs),
            "four_eyes": case_alert("acme", "one-officer", 12, ours.finding_id, "alice", AT, frozenset({"high", "critical"})),
            "silent": feed_alert("acme", AT, AT + timedelta(seconds=300), 38, "silent", 120.0),
        }
        assert record_alerts(Sql(store), "acme", list(alerts.values())) == len(alerts)
    finally:
        store.close()
    return {"url": store_url, "ours": ours.finding_id, **{k: a.finding_id for k, a in alerts.items()}}


def test_a_tampered_row_is_explained_with_the_position_the_verified_row_and_what_to_ask_the_firm(
        regulator: dict[str, str]) -> None:
    x = json.loads(explained(regulator["url"], regulator["edited"], "json"))
    assert x["finding"]["rule_id"] == "SUP-01" and x["rule"]["title"] == "Firm's ledger not whole"
    s = x["supervision"]
    assert (s["firm"], s["kind"], s["concerned"]["position"]) == ("acme", "edited", 5)
    assert s["concerned"]["regulator_copy"] == "holds the verified row at position 5"
    assert [e["position"] for e in x["evidence_events"]] == [5] and x["triggering_event"]["position"] == 5
    assert "position 5 as it was first recorded" in s["next_steps"][0]

    text = explained(regulator["url"], regulator["edited"], "text")
    assert text.startswith(f"Finding {regulator['edited']}: SUP-01 Firm's ledger not whole (critical)")
    for said in ("What the regulator's follower saw", "kind: edited", "ledger position 5: the row was changed",
                 "What the regulator should do next", "not a rule of the rulebook"):
        assert said in text, said


def test_a_gap_names_where_the_regulators_copy_ends(regulator: dict[str, str]) -> None:
    x = json.loads(explained(regulator["url"], regulator["gap"], "json"))
    assert x["supervision"]["concerned"]["regulator_copy"] == "ends at position 38: it holds no row at position 39"
    assert x["evidence_events"] == [] and x["triggering_event"] is None
    assert "stops before position 39" in x["supervision"]["next_steps"][0]


def test_a_finding_the_firm_lacks_names_the_finding_and_how_to_explain_the_regulators_own(
        regulator: dict[str, str]) -> None:
    x = json.loads(explained(regulator["url"], regulator["lacks"], "json"))
    concerned = x["supervision"]["concerned"]["finding"]
    assert concerned["finding_id"] == regulator["ours"] and concerned["held_by_the_regulator"]
    assert f"regledger explain {regulator['ours']}" in x["supervision"]["next_steps"][0]


def test_the_settings_that_decided_an_alert_are_its_parameters_in_force(regulator: dict[str, str]) -> None:
    silent = explained(regulator["url"], regulator["silent"], "text")
    assert "SUP-04.silent_after_s = 120, since the regulator's setting (regledger supervise run --silent-after-s)" in silent
    assert "pg_stat_subscription" in silent
    x = json.loads(explained(regulator["url"], regulator["silent"], "json"))
    assert x["parameters_in_force"] == {"silent_after_s": "120"}
    assert x["supervision"]["seen"]["silent_s"] == 300
    four_eyes = json.loads(explained(regulator["url"], regulator["four_eyes"], "json"))
    assert four_eyes["parameters_in_force"] == {"four_eyes_severities": ["critical", "high"]}
    assert four_eyes["triggering_event"]["position"] == 12  # the row at the action's position in the copy
    assert "four-eyes record of the case of finding" in four_eyes["supervision"]["next_steps"][0]

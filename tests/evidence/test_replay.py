"""What-if replay: the findings rulebook v1 gives on the public scenarios with amended
parameters, the exact difference from those recorded, windows in business and ledger time,
byte-identical output, and one-line errors for a bad --set."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from domain.errors import InvalidRequest
from ops.commands.replay import parse_override, parse_overrides
from ops.render import finding_json
from ops.wiring import build_monitor
from projections.evidence.replay import ReplayWindow, as_row, diff, recorded_findings, replay
from projections.store import open_store
from projections.store.base import Store
from tests.conftest import SCENARIO_NAMES, SCENARIOS
from tests.evidence.tamper import T0, fill

HAIRCUT_70 = {("MF-05", "min_haircut"): "0.7"}
HK = "+08:00"


def triples(rows: list[dict[str, object]]) -> collections.Counter[tuple[object, object, object]]:
    return collections.Counter((r["rule_id"], r["event_id"], r["subject"]) for r in rows)


def ingested(store: Store, name: str = "mf-day") -> Store:
    fill(store, name)
    build_monitor(store).catch_up()
    return store


def test_a_min_haircut_of_70_percent_gives_what_the_rulebook_gives_on_mf_day(store: Store) -> None:
    done = replay(ingested(store), overrides=HAIRCUT_70)
    rows = [finding_json(as_row(f, seq)) for seq, f in enumerate(done.findings, 1)]
    # By hand from rulebook.md: haircuts 0.6 (P1 BTC) and 0.65 (P2 ETH) are now below the
    # minimum; P3 is SOL (ineligible: MF-04 only); with h = 0.7, C1's lending value at 447,000
    # is 1,341,000 < 1,500,000 drawn, so C1 is short one event earlier (mf-day-0017) and the
    # hour to 12:00:16 has passed at mf-day-0018 (12:00:17) with no call.
    assert triples(rows) == collections.Counter({
        ("MF-05", "mf-day-0015", "P1"): 1, ("MF-07", "mf-day-0017", "C1"): 1,
        ("MF-05", "mf-day-0028", "P2"): 1, ("MF-01", "mf-day-0029", "L2"): 1,
        ("MF-04", "mf-day-0035", "P3"): 1, ("MF-05", "mf-day-0036", "P4"): 1,
        ("MF-02", "mf-day-0037", "C3"): 1, ("MF-10", "mf-day-0038", "P1"): 1,
    })
    assert {r["parameters"]["min_haircut"] for r in rows if r["rule_id"] == "MF-05"} == {"0.7"}  # type: ignore[index]


def test_the_diff_lists_exactly_what_the_amended_haircut_adds_and_removes(store: Store) -> None:
    ingested(store)
    changes = diff(store, replay(store, overrides=HAIRCUT_70))
    assert [(r.rule_id, r.event_id, r.subject) for r in changes.added] == [
        ("MF-05", "mf-day-0015", "P1"), ("MF-07", "mf-day-0017", "C1"), ("MF-05", "mf-day-0028", "P2"),
    ]
    assert [(r.rule_id, r.event_id, r.subject) for r in changes.removed] == [("MF-07", "mf-day-0018", "C1")]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_a_replay_without_options_gives_exactly_the_recorded_findings(store: Store, name: str) -> None:
    ingested(store, name)
    store.recorder.insert_events([StoredEvent("case-1", 1, "domain.cases:Case.Opened", b"{}")])
    done = replay(store)
    assert [finding_json(as_row(f, 1)) for f in done.findings] == [finding_json(r) for r in recorded_findings(store)]
    assert diff(store, done).added == diff(store, done).removed == []


def test_as_of_keeps_the_events_that_occurred_by_then_in_ledger_order(store: Store) -> None:
    ingested(store)
    at_one = datetime.fromisoformat(f"2026-03-02T13:00:00{HK}")
    assert replay(store, ReplayWindow(as_of=at_one)).findings == []  # C1's hour is not over by then
    done = replay(store, ReplayWindow(as_of=at_one), HAIRCUT_70)
    assert [(f.rule_id, f.event_id, f.detected_at.isoformat()) for f in done.findings] == [
        ("MF-05", "mf-day-0015", f"2026-03-02T09:00:14{HK}"),
        ("MF-07", "mf-day-0017", f"2026-03-02T12:00:17{HK}"),
    ]
    assert (done.events, done.replayed(18), done.replayed(19)) == (18, True, False)


def test_known_at_keeps_what_the_ledger_had_recorded_by_then(store: Store) -> None:
    ingested(store)  # recorded in batches of ten, one second apart from T0
    done = replay(store, ReplayWindow(known_at=T0 + timedelta(seconds=1)))
    assert (done.through, done.events) == (20, 20)
    assert [(f.rule_id, f.event_id) for f in done.findings] == [("MF-07", "mf-day-0018")]
    assert replay(store, ReplayWindow(known_at=T0 - timedelta(seconds=1))).findings == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MF-05.min_haircut", "--set 'MF-05.min_haircut': write RULE_ID.parameter=value, e.g. MF-05.min_haircut=0.7"),
        ("MF-99.x=1", "--set 'MF-99.x=1': no rule 'MF-99' in the rulebook"),
        ("MF-05.haircut=0.7", "--set 'MF-05.haircut=0.7': rule MF-05 has no parameter 'haircut' (it has: min_haircut)"),
        ("MF-05.min_haircut=1.5", "--set 'MF-05.min_haircut=1.5': MF-05 min_haircut is a rate: a rate must be between 0 and 1, not 1.5"),
        ("MF-07.margin_call_within_minutes=0", "--set 'MF-07.margin_call_within_minutes=0': MF-07 margin_call_within_minutes is a positive_int: must be a whole number from 1 to 1000000000"),
    ],
)
def test_a_bad_set_is_one_clear_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_override(text)
    assert str(refused.value) == message


def test_sets_parse_to_the_overrides_the_engine_takes() -> None:
    assert parse_overrides(["MF-05.min_haircut=0.7", "MF-04.eligible_assets=BTC,ETH,SOL"]) == {
        ("MF-05", "min_haircut"): "0.7", ("MF-04", "eligible_assets"): ["BTC", "ETH", "SOL"],
    }
    with pytest.raises(InvalidRequest, match="MF-05.min_haircut is given twice"):
        parse_overrides(["MF-05.min_haircut=0.7", "MF-05.min_haircut=0.8"])


# Tables fit the terminal (COLUMNS): a wide one, so that ids are read whole, never folded; the
# CLI's case actions act as the configured officer, a known one.
CLI_ENV = {"COLUMNS": "200", "REGLEDGER_OPERATOR": "officer-1", "REGLEDGER_OFFICERS": "officer-1"}


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ops", *args], capture_output=True, timeout=300, check=False,
                          env={**os.environ, **CLI_ENV})


def test_the_command_prints_the_findings_shape_byte_for_byte_and_the_same_twice(store_url: str) -> None:
    assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", store_url).returncode == 0
    plain = cli("replay", "--db", store_url, "--format", "json")
    # the same bytes as `findings` gives, but for the alert queue's case columns (a replay is a
    # hypothetical ledger: it has findings, not cases)
    listed = json.loads(cli("findings", "--db", store_url, "--format", "json").stdout)
    case_columns = ("case_status", "assignee", "age_s")
    assert all(set(case_columns) <= f.keys() for f in listed)
    without_cases = [{k: v for k, v in f.items() if k not in case_columns} for f in listed]
    assert plain.stdout == (json.dumps(without_cases, ensure_ascii=False) + "\n").encode()
    amended = cli("replay", "--db", store_url, "--format", "json", "--set", "MF-05.min_haircut=0.7")
    assert amended.returncode == 0 and amended.stdout == cli(
        "replay", "--db", store_url, "--format", "json", "--set", "MF-05.min_haircut=0.7"
    ).stdout
    changes = cli("replay", "--db", store_url, "--format", "json", "--set", "MF-05.min_haircut=0.7", "--diff")
    body = json.loads(changes.stdout)
    assert body["by_rule"] == [
        {"rule_id": "MF-05", "added": 2, "removed": 0}, {"rule_id": "MF-07", "added": 1, "removed": 1},
    ]
    assert (list(body), triples(body["added"]), triples(body["removed"])) == (
        ["by_rule", "added", "removed"],
        collections.Counter({("MF-05", "mf-day-0015", "P1"): 1, ("MF-07", "mf-day-0017", "C1"): 1, ("MF-05", "mf-day-0028", "P2"): 1}),
        collections.Counter({("MF-07", "mf-day-0018", "C1"): 1}),
    )
    bad = cli("replay", "--db", store_url, "--set", "MF-05.min_haircut=seventy")
    assert (bad.returncode, bad.stdout) == (2, b"")
    assert bad.stderr.decode().count("\n") == 1 and b"MF-05 min_haircut is a rate" in bad.stderr


def test_the_diff_table_summarises_by_rule_before_the_rows(sqlite_url: str) -> None:
    assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", sqlite_url).returncode == 0
    table = cli("replay", "--db", sqlite_url, "--set", "MF-05.min_haircut=0.7", "--diff").stdout.decode()
    assert table.startswith("3 findings added, 1 removed\n")
    summary, rows = table.split("\u2518", 1)  # the summary table ends at its first bottom-right corner
    cells = [line.replace("\u2502", " ").split() for line in summary.splitlines()]
    assert [c for c in cells if c and c[0].startswith("MF-")] == [["MF-05", "2", "0"], ["MF-07", "1", "1"]]
    assert "mf-day-0015" in rows and "mf-day-0015" not in summary


def test_case_actions_after_the_last_event_are_not_monitor_lag_but_unprocessed_events_are(
    sqlite_url: str, tmp_path: Path,
) -> None:
    assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", sqlite_url).returncode == 0
    finding = json.loads(cli("findings", "--db", sqlite_url, "--format", "json").stdout)[0]["finding_id"]
    assert cli("case", "ack", finding, "--actor", "officer-1", "--db", sqlite_url).returncode == 0
    after_case = cli("replay", "--db", sqlite_url, "--diff")
    assert after_case.returncode == 0 and b"regledger monitor" not in after_case.stderr
    store = open_store(sqlite_url)
    try:
        fill(store, "mm-day")  # appended to the ledger, the monitor not run
    finally:
        store.close()
    lagging = cli("replay", "--db", sqlite_url, "--diff")
    assert b"the live monitor has processed positions up to" in lagging.stderr

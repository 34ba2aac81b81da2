"""The officers' commands as a user runs them: ``audit``, ``state``, ``explain``, ``case``
and ``quarantine show/resubmit``, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SCENARIOS
from tests.test_cli import regledger

MF_DAY = str(SCENARIOS / "mf-day.jsonl")


def ok(*args: str, db: str, stdin: bytes | None = None) -> str:
    done = regledger(*args, db=db, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_audit_state_and_explain_answer_from_the_record(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    trail = json.loads(ok("audit", "--subject", "C1", "--type", "VAFinancingDrawn", "--type", "VAFinancingRepaid", "--format", "json", db=store_url))
    assert [(e["event_id"], e["type"], e["data"]["amount"]) for e in trail] == [
        ("mf-day-0016", "VAFinancingDrawn", "1500000"), ("mf-day-0020", "VAFinancingRepaid", "100000"),
    ]
    page = json.loads(ok("audit", "--subject", "C1", "--after", "16", "--limit", "2", "--format", "json", db=store_url))
    assert [e["position"] for e in page] == [19, 20]
    csv_text = ok("audit", "--subject", "P1", "--format", "csv", db=store_url)
    assert csv_text.splitlines()[0] == "position,event_id,type,occurred_at,recorded_at,source,data"
    assert len(csv_text.splitlines()) == 3
    before = json.loads(ok("state", "C1", "--as-of", "2026-03-02T11:30:00+08:00", db=store_url))
    after = json.loads(ok("state", "C1", "--as-of", "2026-03-02T12:30:00+08:00", "--format", "json", db=store_url))
    assert [(s["debt"], s["lending_value"], s["short"]) for s in (before, after)] == [
        ("1500000", "1788000", False), ("1500000", "1480000", True),
    ]
    [finding] = json.loads(ok("findings", "--rule", "MF-07", "--format", "json", db=store_url))
    explained = json.loads(ok("explain", finding["finding_id"], db=store_url))
    assert explained["finding"]["finding_id"] == finding["finding_id"]
    assert explained["case"] == {"status": "open", "assignee": None, "resolution": None, "actions": []}
    assert {e["event_id"] for e in explained["evidence_events"]} >= {"mf-day-0015", "mf-day-0016", "mf-day-0018"}


def test_unknown_targets_and_bad_arguments_are_one_line_and_exit_code_2(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    for args, message in [
        (("state", "NOBODY"), "no client 'NOBODY' in the ledger as of that time"),
        (("state", "--contract", "X-PERP"), "no contract 'X-PERP' in the ledger as of that time"),
        (("state",), "name exactly one of: CLIENT_ID, --contract ID, --market-maker ID"),
        (("state", "C1", "--as-of", "2026-03-02T12:30:00"), "needs a UTC offset"),
        (("explain", "F-nope"), "no finding 'F-nope'"),
        (("case", "ack", "F-nope", "--actor", "alice"), "no finding 'F-nope'"),
        (("quarantine", "show", "99"), "no quarantined line 99"),
    ]:
        done = regledger(*args, db=store_url)
        assert (done.returncode, done.stderr.count("\n")) == (2, 1), (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr


def test_the_case_workflow_from_the_command_line(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    [finding] = json.loads(ok("findings", "--rule", "MF-07", "--format", "json", db=store_url))
    fid = finding["finding_id"]
    assert ok("case", "ack", fid, "--actor", "alice", db=store_url).startswith(f"case of {fid}: acknowledged")
    refused = regledger("case", "resolve", fid, "--actor", "alice", db=store_url)
    assert refused.returncode == 2
    assert refused.stderr == "regledger: a resolution needs a code: one of remediated, false_positive, accepted_risk, reported_to_sfc\n"
    resolved = json.loads(ok("case", "resolve", fid, "--actor", "bob", "--code", "reported_to_sfc", "--format", "json", db=store_url))
    assert {k: resolved[k] for k in ("status", "resolution", "updated_by", "version")} == {
        "status": "resolved", "resolution": "reported_to_sfc", "updated_by": "bob", "version": 3,
    }
    listed = json.loads(ok("findings", "--case-status", "resolved", "--format", "json", db=store_url))
    assert [f["finding_id"] for f in listed] == [fid]
    case_columns = ("case_status", "assignee", "age_s")  # the queue's view of the case, beside the finding
    assert {k: v for k, v in listed[0].items() if k not in case_columns} == {
        k: v for k, v in finding.items() if k not in case_columns}  # resolving never edits the finding
    assert (finding["case_status"], listed[0]["case_status"]) == ("open", "resolved")
    shown = json.loads(ok("case", "show", fid, "--format", "json", db=store_url))
    assert [(a["action"], a["actor"]) for a in shown["actions"]] == [
        ("CaseOpened", "alice"), ("CaseAcknowledged", "alice"), ("CaseResolved", "bob"),
    ]
    assert "monitor at position 41" in ok("monitor", db=store_url)
    assert len(json.loads(ok("findings", "--format", "json", db=store_url))) == 6


def test_a_quarantined_line_is_shown_and_resubmitted_corrected(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00", "data": {"asset": "HKD", "asset_kind": "cash"}}\n')
    assert regledger("ingest", str(bad), db=store_url).returncode == 1
    shown = json.loads(ok("quarantine", "show", "1", "--format", "json", db=store_url))
    assert {k: shown[k] for k in ("id", "line", "event_id", "resubmitted_as")} == {
        "id": 1, "line": 1, "event_id": "x1", "resubmitted_as": None,
    }
    assert [r["field"] for r in shown["reasons"]] == ["occurred_at", "data.asset_kind"]
    still_bad = b'{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00", "data": {"asset": "HKD", "asset_kind": "cash"}}'
    again = regledger("quarantine", "resubmit", "1", "--file", "-", "--format", "json", stdin=still_bad, db=store_url)
    assert again.returncode == 1 and "data.asset_kind" in again.stderr
    assert json.loads(again.stdout) == {"quarantine_id": 1, "accepted": 0, "duplicates": 0, "rejected": 1, "resubmitted_as": None}
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00", "data": {"asset": "HKD", "asset_kind": "fiat"}}\n')
    done = json.loads(ok("quarantine", "resubmit", "1", "--file", str(fixed), "--format", "json", db=store_url))
    assert done == {"quarantine_id": 1, "accepted": 1, "duplicates": 0, "rejected": 0, "resubmitted_as": "x1"}
    listed = json.loads(ok("quarantine", "list", "--format", "json", db=store_url))
    assert [(q["id"], q["resubmitted_as"]) for q in listed] == [(1, "x1"), (2, None)]
    assert [e["event_id"] for e in json.loads(ok("audit", "--subject", "HKD", "--format", "json", db=store_url))] == ["x1"]
    twice = regledger("quarantine", "resubmit", "1", "--file", str(fixed), db=store_url)
    assert twice.returncode == 2 and "already resubmitted as x1" in twice.stderr

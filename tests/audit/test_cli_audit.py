"""The officers' commands as a user runs them: ``audit``, ``state``, ``explain``, ``case``
and ``quarantine show/resubmit``, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SCENARIOS
from tests.test_cli import regledger

MF_DAY = str(SCENARIOS / "mf-day.jsonl")


def ok(*args: str, db: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    done = regledger(*args, db=db, stdin=stdin, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def officer(name: str) -> dict[str, str]:
    """The environment of an account whose CLI operator is ``name``."""
    return {"REGLEDGER_OPERATOR": name, "REGLEDGER_OFFICERS": "alice,bob"}


ALICE, BOB = officer("alice"), officer("bob")
WIDE = {"COLUMNS": "200"}  # tables fit the terminal: a wide one, so the words read here are not folded


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
    explained = json.loads(ok("explain", finding["finding_id"], "--format", "json", db=store_url))
    assert explained["finding"]["finding_id"] == finding["finding_id"]
    assert explained["case"] == {"status": "open", "assignee": None, "resolution": None, "requested_by": None,
                                 "investigation_id": None, "investigation_findings": [], "actions": []}
    assert {e["event_id"] for e in explained["evidence_events"]} >= {"mf-day-0015", "mf-day-0016", "mf-day-0018"}


def test_unknown_targets_and_bad_arguments_are_one_line_and_exit_code_2(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    for args, message in [
        (("state", "NOBODY"), "no client 'NOBODY' in the ledger as of that time"),
        (("state", "--contract", "X-PERP"), "no contract 'X-PERP' in the ledger as of that time"),
        (("state",), "name exactly one of: CLIENT_ID, --contract ID, --market-maker ID"),
        (("state", "C1", "--as-of", "2026-03-02T12:30:00"), "needs a UTC offset"),
        (("explain", "F-nope"), "no finding 'F-nope'"),
        (("case", "ack", "F-nope"), "no finding 'F-nope'"),
        (("quarantine", "show", "99"), "no quarantined line Q-000099"),
    ]:
        done = regledger(*args, db=store_url, env=ALICE)
        assert (done.returncode, done.stderr.count("\n")) == (2, 1), (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr


def test_the_case_workflow_from_the_command_line_with_four_eyes_closing(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    [finding] = json.loads(ok("findings", "--rule", "MF-07", "--format", "json", db=store_url))
    fid = finding["finding_id"]  # MF-07 is high: closing it takes two officers
    assert ok("case", "ack", fid, db=store_url, env=ALICE).startswith(f"case of {fid}: acknowledged")
    refused = regledger("case", "resolve", fid, db=store_url, env=ALICE)
    assert refused.returncode == 2
    assert refused.stderr == "regledger: a resolution needs a code: one of remediated, false_positive, accepted_risk, reported_to_sfc\n"
    asked = ok("case", "resolve", fid, "--code", "reported_to_sfc", db=store_url, env=ALICE)
    assert asked == f"case of {fid}: pending_approval (asked by alice); version 3\n"
    own = regledger("case", "approve", fid, db=store_url, env=ALICE)
    assert own.stderr == "regledger: alice asked for this resolution and may not approve it: a second, different officer must\n"
    resolved = json.loads(ok("case", "approve", fid, "--note", "SFC reference 123", "--format", "json", db=store_url, env=BOB))
    assert {k: resolved[k] for k in ("status", "resolution", "updated_by", "version")} == {
        "status": "resolved", "resolution": "reported_to_sfc", "updated_by": "bob", "version": 4,
    }
    listed = json.loads(ok("findings", "--case-status", "resolved", "--format", "json", db=store_url))
    assert [f["finding_id"] for f in listed] == [fid]
    case_columns = ("case_status", "assignee", "age_s")  # the queue's view of the case, beside the finding
    assert {k: v for k, v in listed[0].items() if k not in case_columns} == {
        k: v for k, v in finding.items() if k not in case_columns}  # resolving never edits the finding
    assert (finding["case_status"], listed[0]["case_status"]) == ("open", "resolved")
    shown = json.loads(ok("case", "show", fid, "--format", "json", db=store_url))
    assert [(a["action"], a["actor"], a["actor_source"]) for a in shown["actions"]] == [
        ("CaseOpened", "alice", "cli-setting"), ("CaseAcknowledged", "alice", "cli-setting"),
        ("CaseResolutionRequested", "alice", "cli-setting"), ("CaseResolutionApproved", "bob", "cli-setting"),
    ]
    text = ok("case", "show", fid, db=store_url, env=WIDE)
    assert "status resolved (reported_to_sfc)" in text and "CaseResolutionApproved" in text and "SFC reference 123" in text
    assert "monitor at position 42" in ok("monitor", db=store_url)
    assert len(json.loads(ok("findings", "--format", "json", db=store_url))) == 6


def test_the_command_line_acts_only_as_its_configured_operator(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    [finding] = json.loads(ok("findings", "--rule", "MF-07", "--format", "json", db=store_url))
    fid = finding["finding_id"]
    for env, args, message in [
        ({"REGLEDGER_OFFICERS": "alice"}, (), "act as REGLEDGER_OPERATOR, which is not set"),
        (ALICE, ("--actor", "bob"), "--actor 'bob' is not REGLEDGER_OPERATOR ('alice')"),
        (officer("mallory"), (), "actor 'mallory' is not a known officer (known: alice, bob)"),
    ]:
        done = regledger("case", "ack", fid, *args, db=store_url, env=env)
        assert (done.returncode, done.stderr.count("\n")) == (2, 1) and message in done.stderr, done.stderr
    assert ok("case", "ack", fid, "--actor", "alice", db=store_url, env=ALICE).startswith(f"case of {fid}: acknowledged")
    done = regledger("case", "assign", fid, "--to", "mallory", db=store_url, env=ALICE)
    assert "assignee 'mallory' is not a known officer" in done.stderr
    assert json.loads(ok("case", "show", fid, "--format", "json", db=store_url))["actions"][-1]["action"] == "CaseAcknowledged"


def test_escalating_and_grouping_from_the_command_line_show_on_each_case(store_url: str) -> None:
    ok("ingest", MF_DAY, db=store_url)
    ids = [f["finding_id"] for f in json.loads(ok("findings", "--format", "json", db=store_url))[:2]]
    assert "escalated" in ok("case", "escalate", ids[0], "--reason", "needs the MLRO", db=store_url, env=ALICE)
    grouped = ok("case", "group", *ids, "--investigation", "INV-7", "--reason", "one client", db=store_url, env=BOB)
    assert grouped.count("in investigation INV-7") == 2
    shown = json.loads(ok("case", "show", ids[1], "--format", "json", db=store_url))
    assert (shown["investigation_id"], shown["investigation_findings"]) == ("INV-7", sorted(ids))
    assert shown["actions"][-1]["reason"] == "one client"
    first = json.loads(ok("case", "show", ids[0], "--format", "json", db=store_url))
    assert first["status"] == "escalated"
    assert [a.get("reason") for a in first["actions"]][1:] == ["needs the MLRO", "one client"]


def test_a_quarantined_line_is_shown_and_resubmitted_corrected(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00", "data": {"asset": "HKD", "asset_kind": "cash"}}\n')
    assert regledger("ingest", str(bad), db=store_url).returncode == 1
    shown = json.loads(ok("quarantine", "show", "1", "--format", "json", db=store_url))
    assert {k: shown[k] for k in ("id", "line", "event_id", "resubmitted_as")} == {
        "id": "Q-000001", "line": 1, "event_id": "x1", "resubmitted_as": None,
    }
    assert [r["field"] for r in shown["reasons"]] == ["occurred_at", "data.asset_kind"]
    still_bad = b'{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00", "data": {"asset": "HKD", "asset_kind": "cash"}}'
    again = regledger("quarantine", "resubmit", "1", "--file", "-", "--format", "json", stdin=still_bad, db=store_url)
    assert again.returncode == 1 and "data.asset_kind" in again.stderr
    assert json.loads(again.stdout) == {"id": "Q-000001", "quarantine_id": 1, "accepted": 0, "duplicates": 0, "rejected": 1, "resubmitted_as": None}
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"event_id": "x1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00", "data": {"asset": "HKD", "asset_kind": "fiat"}}\n')
    done = json.loads(ok("quarantine", "resubmit", "1", "--file", str(fixed), "--format", "json", db=store_url))
    assert done == {"id": "Q-000001", "quarantine_id": 1, "accepted": 1, "duplicates": 0, "rejected": 0, "resubmitted_as": "x1"}
    listed = json.loads(ok("quarantine", "list", "--format", "json", db=store_url))
    assert [(q["id"], q["resubmitted_as"]) for q in listed] == [("Q-000001", "x1"), ("Q-000002", None)]
    assert [e["event_id"] for e in json.loads(ok("audit", "--subject", "HKD", "--format", "json", db=store_url))] == ["x1"]
    twice = regledger("quarantine", "resubmit", "1", "--file", str(fixed), db=store_url)
    assert twice.returncode == 2 and "already resubmitted as x1" in twice.stderr


def test_a_quarantined_line_is_dismissed_by_a_link_and_verify_names_a_row_deleted_past_the_triggers(
    store_url: str, tmp_path: Path
) -> None:
    from tests.evidence.tamper import Dba

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x1"}\n{not json\n{"event_id": "x3"}\n')
    assert regledger("ingest", str(bad), db=store_url).returncode == 1
    one = tmp_path / "one.json"
    one.write_text('{"event_id": "x2"}\n')
    done = json.loads(ok("quarantine", "dismiss", "2", "--actor", "alice", "--reason", "a truncated test line",
                         "--format", "json", db=store_url))
    assert {k: done[k] for k in ("quarantine_id", "status", "kind", "actor", "reason", "link_id")} == {
        "quarantine_id": 2, "status": "dismissed", "kind": "dismissed", "actor": "alice",
        "reason": "a truncated test line", "link_id": 1,
    }
    listed = json.loads(ok("quarantine", "list", "--format", "json", db=store_url))
    assert [(q["id"], q["status"], q["resubmitted_as"]) for q in listed] == [
        ("Q-000001", "open", None), ("Q-000002", "dismissed", None), ("Q-000003", "open", None),
    ]
    assert "dismissed by alice at " in ok("quarantine", "show", "2", db=store_url)
    table = ok("quarantine", "list", db=store_url, env=WIDE)
    assert "status" in table and "dismissed" in table
    assert ok("quarantine", "list", "--format", "csv", db=store_url).splitlines()[0].endswith(",raw,status,count,caused_by")
    for args, message in [
        (("quarantine", "dismiss", "2", "--actor", "bob", "--reason", "again"), "already dismissed by alice"),
        (("quarantine", "dismiss", "9", "--actor", "bob", "--reason", "x"), "no quarantined line Q-000009"),
        (("quarantine", "dismiss", "1", "--actor", "bob", "--reason", "  "), "reason: must not be blank"),
        (("quarantine", "resubmit", "2", "--file", str(one)), "already dismissed by alice"),
    ]:
        refused = regledger(*args, db=store_url)
        assert (refused.returncode, refused.stderr.count("\n")) == (2, 1), (args, refused.stderr)
        assert message in refused.stderr and "Traceback" not in refused.stderr
    intact = regledger("verify", "--format", "json", db=store_url)
    assert intact.returncode == 0 and json.loads(intact.stdout)["quarantine"]["rows"] == 3
    Dba(store_url).run(("DELETE FROM quarantine WHERE id = 2", ()))
    tampered = regledger("verify", "--format", "json", db=store_url)
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["quarantine"]["first_bad"] == {"table": "quarantine", "id": 2}
    text = regledger("verify", db=store_url)
    assert text.returncode == 1 and "QUARANTINE TAMPERED: quarantine row 2: missing" in text.stdout

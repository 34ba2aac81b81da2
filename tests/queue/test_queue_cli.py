"""``regledger findings`` as the alert queue on the command line (issue 18): cli.md's JSON keys
and detection order kept, new keys added, and the queue's filters, sorts and refusals."""

from __future__ import annotations

import json
import sys

import pytest

from ops.cli import main
from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from projections.store import open_store
from tests.conftest import SCENARIOS

CLI_MD_KEYS = {"finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at",
               "message", "parameters"}


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["regledger", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, out.err


def test_findings_keeps_cli_md_and_adds_the_case_columns(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    store = open_store(sqlite_url, create=True)
    IngestPipeline(store).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]), 1000)
    store.close()
    capsys.readouterr()  # the ingest's log lines
    code, out, _ = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--format", "json")
    listed = json.loads(out)
    assert code == 0 and [f["subject"] for f in listed] == ["C1", "L2", "P3", "P4", "C3", "P1"]  # detection order
    assert all(CLI_MD_KEYS | {"case_status", "assignee", "age_s"} <= f.keys() for f in listed)
    code, out, _ = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--format", "json", "--subject", "C1",
                       "--sort", "newest", "--since", "2026-03-02", "--until", "2026-03-02")
    assert [f["subject"] for f in json.loads(out)] == ["P1", "C1"]
    code, out, _ = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--format", "json", "--severity", "critical")
    assert [f["subject"] for f in json.loads(out)] == ["L2", "P1"]
    code, _, err = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--rule", "mf-07")
    assert code == 2 and "--rule: unknown 'mf-07' (did you mean MF-07?)" in err
    code, _, err = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--since", "last week")
    assert code == 2 and "--since: 'last week' is not a date" in err
    code, _, err = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--assignee", "me")
    assert code == 2 and "REGLEDGER_OPERATOR" in err
    ids = [f["finding_id"] for f in listed[:2]]
    monkeypatch.setenv("REGLEDGER_OFFICERS", "lead,alice")  # the CLI acts as a known, configured officer
    monkeypatch.setenv("REGLEDGER_OPERATOR", "lead")
    code, out, _ = run(capsys, monkeypatch, "case", "assign", *ids, "--actor", "lead", "--to", "alice", "--db", sqlite_url)
    assert code == 0 and out.count("assigned to alice") == 2
    monkeypatch.setenv("REGLEDGER_OPERATOR", "alice")
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run(capsys, monkeypatch, "findings", "--db", sqlite_url, "--assignee", "me")
    assert code == 0 and "findings 1-2 of 2" in out and out.count("alice") == 2
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = run(capsys, monkeypatch, "case", "ack", *ids, "F-none", "--actor", "alice", "--db", sqlite_url)
    assert code == 1 and out.count(": acknowledged") == 2 and "F-none: not done: no finding 'F-none'" in out

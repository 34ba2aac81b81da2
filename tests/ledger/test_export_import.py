"""Export and import: the migration path from SQLite to PostgreSQL (and back)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from projections.evidence.drift import stored_rows
from projections.rebuild import READ_MODELS
from projections.store import open_store
from projections.store.base import FindingFilter
from tests.conftest import SCENARIOS, fresh_store_url

MOVES = [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
    pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres),
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", *args], capture_output=True, text=True, timeout=300, check=False)


def ledger_and_findings(url: str) -> tuple[list[tuple[int, str, int, str, bytes, str, bytes]], list[tuple[str, int]]]:
    store = open_store(url)
    try:
        entries = [(e.position, e.event_id, e.version, e.type, e.state, e.recorded_at.isoformat(), e.chain_hash)
                   for e in store.read_entries(0, 10**6)]
        return entries, [(f.finding_id, f.position) for f in store.findings(FindingFilter())]
    finally:
        store.close()


@pytest.mark.parametrize(("source", "target"), MOVES)
def test_an_export_imports_into_an_empty_store_with_identical_ledger_and_findings(
    source: str, target: str, tmp_path: Path
) -> None:
    with fresh_store_url(source, tmp_path / "a") as a, fresh_store_url(target, tmp_path / "b") as b:
        for name in ("mf-day", "perp-day", "mm-day"):
            # the later days list HKD and BTC again: those lines are rejected, the rest kept
            assert cli("ingest", str(SCENARIOS / f"{name}.jsonl"), "--db", a).returncode in (0, 1)
        export = tmp_path / "ledger.jsonl"
        done = cli("export", "--db", a, "--out", str(export))
        assert done.returncode == 0, done.stderr
        done = cli("import", str(export), "--db", b)
        assert done.returncode == 0, done.stderr
        assert ledger_and_findings(b) == ledger_and_findings(a)
        # the rebuilt registry validates what comes next exactly as the source would
        assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", b, "--format", "json").stdout.strip().endswith(
            '{"accepted": 0, "duplicates": 38, "rejected": 0}')


def test_an_export_with_an_altered_row_is_refused_and_imports_nothing_after_it(tmp_path: Path) -> None:
    with fresh_store_url("sqlite", tmp_path / "a") as a, fresh_store_url("sqlite", tmp_path / "b") as b:
        cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", a)
        export = tmp_path / "ledger.jsonl"
        cli("export", "--db", a, "--out", str(export))
        lines = export.read_text().splitlines()
        lines[19] = lines[19].replace("100000", "100001")
        export.write_text("\n".join(lines) + "\n")
        done = cli("import", str(export), "--db", b)
        assert done.returncode == 2
        assert "position 20" in done.stderr and "Traceback" not in done.stderr
        store = open_store(b)
        try:
            assert store.tip().position == 0  # the bad row was the 20th: its batch never landed
        finally:
            store.close()


def test_import_refuses_a_store_that_already_holds_events(tmp_path: Path) -> None:
    with fresh_store_url("sqlite", tmp_path / "a") as a:
        cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", a)
        export = tmp_path / "ledger.jsonl"
        cli("export", "--db", a, "--out", str(export))
        done = cli("import", str(export), "--db", a)
        assert done.returncode == 2 and "empty store" in done.stderr


def read_models(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every read model's rows as ``verify --projections`` compares them (findings without
    their ``seq``, instants as instants whatever the store)."""
    store = open_store(url)
    try:
        return {t.name: stored_rows(store, t) for m in READ_MODELS for t in m.tables}
    finally:
        store.close()


def case_actions(url: str) -> None:
    found = json.loads(cli("findings", "--db", url, "--format", "json").stdout)
    first, second, third = (f["finding_id"] for f in found[:3])
    for action in (
        ("ack", first, "--note", "looking"), ("assign", first, "--to", "bob"),
        ("comment", first, "--text", "asked the desk"),
        ("resolve", second, "--code", "false_positive"), ("reopen", second, "--reason", "not a test account"),
        ("resolve", third, "--code", "remediated"), ("ack", second),
    ):
        done = cli("case", action[0], action[1], "--actor", "alice", "--db", url, *action[2:])
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("source", "target"), MOVES)
def test_export_import_and_back_keeps_every_read_model_including_case_statuses(
    source: str, target: str, tmp_path: Path
) -> None:
    with (fresh_store_url(source, tmp_path / "a") as a, fresh_store_url(target, tmp_path / "b") as b,
          fresh_store_url(source, tmp_path / "c") as c):
        for name in ("mf-day", "perp-day", "mm-day"):
            assert cli("ingest", str(SCENARIOS / f"{name}.jsonl"), "--db", a).returncode in (0, 1)
        case_actions(a)
        original = read_models(a)
        statuses = {row[0]: row[2] for row in original["finding_cases"]}
        assert sorted(statuses.values()) == ["acknowledged", "acknowledged", "resolved"]
        for source_url, target_url in ((a, b), (b, c)):
            export = tmp_path / "ledger.jsonl"
            assert cli("export", "--db", source_url, "--out", str(export)).returncode == 0
            done = cli("import", str(export), "--db", target_url)
            assert done.returncode == 0, done.stderr
            assert read_models(target_url) == original
            verified = cli("verify", "--projections", "--db", target_url, "--format", "json")
            assert (verified.returncode, json.loads(verified.stdout)["projections"]["difference"]) == (0, None)
        acknowledged = json.loads(cli("findings", "--db", c, "--case-status", "acknowledged", "--format", "json").stdout)
        assert len(acknowledged) == 2

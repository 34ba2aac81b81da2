"""Export and import: the migration path from SQLite to PostgreSQL (and back)."""

from __future__ import annotations

import json
import os
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


def cli(*args: str, operator: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI; case actions act as ``operator`` (REGLEDGER_OPERATOR), a known officer."""
    env = None if operator is None else {
        **os.environ, "REGLEDGER_OPERATOR": operator, "REGLEDGER_OFFICERS": "alice,bob"}
    return subprocess.run([sys.executable, "-m", "ops", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=env)


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


def quarantine_of(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every stored field of the quarantine's rows and links, times as instants."""
    from projections.sql import Sql

    store = open_store(url)
    try:
        sql = Sql(store)
        rows = [(*r[:2], sql.instant(r[2]), *r[3:7], bytes(r[7]), bytes(r[8])) for r in sql.rows(
            "SELECT id, previous_id, received_at, origin, line_no, event_id, reasons, raw, chain_hash"
            " FROM quarantine ORDER BY id")]
        links = [(*r[:8], sql.instant(r[8]), bytes(r[9])) for r in sql.rows(
            "SELECT id, previous_id, quarantine_id, kind, event_id, related_id, actor, reason, recorded_at,"
            " chain_hash FROM quarantine_links ORDER BY id")]
        return rows, links
    finally:
        store.close()


def case_actions(url: str) -> None:
    found = json.loads(cli("findings", "--db", url, "--format", "json").stdout)
    first, second, third = (f["finding_id"] for f in found[:3])
    four_eyes = {f["finding_id"] for f in found[:3] if f["severity"] in ("critical", "high")}
    for operator, *action in (
        ("alice", "ack", first, "--note", "looking"), ("alice", "assign", first, "--to", "bob"),
        ("alice", "comment", first, "--text", "asked the desk"),
        ("alice", "resolve", second, "--code", "false_positive"), ("bob", "approve", second),
        ("alice", "reopen", second, "--reason", "not a test account"),
        ("alice", "resolve", third, "--code", "remediated"), ("bob", "approve", third), ("alice", "ack", second),
    ):
        if action[0] == "approve" and action[1] not in four_eyes:
            continue  # resolved by one officer: nothing awaits a second
        done = cli("case", action[0], action[1], "--db", url, *action[2:], operator=operator)
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


BAD_LINES = (
    '{"event_id": "q1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00", "data": {"asset": "ADA", "asset_kind": "virtual_asset"}}\n'
    "{not json \xff\n"  # not UTF-8 once encoded below: raw travels as base64
    '{"event_id": "q3"}\n'
)


@pytest.mark.postgres
def test_the_quarantine_travels_sqlite_to_postgresql_to_sqlite_equal_and_verifiable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(BAD_LINES.encode("latin-1"))
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"event_id": "q1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00",'
                     ' "data": {"asset": "ADA", "asset_kind": "virtual_asset"}}\n')
    consequence = tmp_path / "consequence.jsonl"
    consequence.write_text(
        '{"event_id": "on-9", "type": "ClientOnboarded", "occurred_at": "2026-03-02T09:00:00+08:00", "data":'
        ' {"client_id": "C9", "client_type": "individual", "investor_class": "nobody", "pi_assessment": null,'
        ' "market_maker_id": null}}\n'
        '{"event_id": "rd-9", "type": "RiskDisclosureAcknowledged", "occurred_at": "2026-03-02T09:01:00+08:00",'
        ' "data": {"client_id": "C9", "product": "perpetuals", "version": "2026.1"}}\n'
    )
    with (fresh_store_url("sqlite", tmp_path / "a") as a, fresh_store_url("postgresql", tmp_path / "b") as b,
          fresh_store_url("sqlite", tmp_path / "c") as c):
        assert cli("ingest", str(SCENARIOS / "mf-day.jsonl"), str(bad), "--db", a).returncode == 1
        assert cli("ingest", str(bad), "--db", a).returncode == 1  # each line seen again: 3 links, no rows
        assert cli("ingest", str(consequence), "--db", a).returncode == 1  # 2 rows, one caused_by the other
        assert cli("quarantine", "resubmit", "1", "--file", str(fixed), "--actor", "bob", "--db", a).returncode == 0
        assert cli("quarantine", "dismiss", "Q-000002", "--actor", "alice", "--reason", "garbage", "--db", a).returncode == 0
        source = quarantine_of(a)
        assert (len(source[0]), len(source[1])) == (5, 6)
        for here, there in ((a, b), (b, c)):
            export = tmp_path / f"export-{len(here)}-{len(there)}.jsonl"
            done = cli("export", "--db", here, "--out", str(export))
            assert done.returncode == 0 and "40 events and 11 quarantine rows and links" in done.stderr, done.stderr
            lines = export.read_text().splitlines()
            ledger_lines = [line for line in lines if '"record"' not in line]
            assert len(ledger_lines) == 40 and lines[:40] == ledger_lines  # the ledger first (its last: the dismissal)
            done = cli("import", str(export), "--db", there)
            assert done.returncode == 0, done.stderr
            assert "5 quarantined lines with 6 links" in done.stdout
            assert quarantine_of(there) == source
            assert ledger_and_findings(there) == ledger_and_findings(a)
            verified = cli("verify", "--db", there, "--format", "json")
            assert verified.returncode == 0, verified.stdout
            assert '"quarantine": {"intact": true, "rows": 5, "links": 6' in verified.stdout.replace("\n", "")
        listed = cli("quarantine", "list", "--format", "json", "--db", c)
        assert [(q["id"], q["status"], q["resubmitted_as"], q["count"], q["caused_by"])
                for q in json.loads(listed.stdout)] == [
            ("Q-000001", "resubmitted", "q1", 2, []), ("Q-000002", "dismissed", None, 2, []),
            ("Q-000003", "open", None, 2, []), ("Q-000004", "open", None, 1, []), ("Q-000005", "open", None, 1, ["Q-000004"]),
        ]


def test_an_export_with_an_altered_quarantine_row_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(BAD_LINES.encode("latin-1"))
    with fresh_store_url("sqlite", tmp_path / "a") as a, fresh_store_url("sqlite", tmp_path / "b") as b:
        assert cli("ingest", str(bad), "--db", a).returncode == 1
        export = tmp_path / "export.jsonl"
        assert cli("export", "--db", a, "--out", str(export)).returncode == 0
        lines = export.read_text().splitlines()
        assert [line.startswith('{"record":"quarantine",') for line in lines] == [True] * 3
        lines[1] = lines[1].replace('"origin":"', '"origin":"forged-')
        export.write_text("\n".join(lines) + "\n")
        done = cli("import", str(export), "--db", b)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "quarantine row 2: the stored chain hash does not match" in done.stderr
        lines[1] = lines[1].replace('"raw_base64":"', '"raw_base64":"!!')
        export.write_text("\n".join(lines) + "\n")
        garbled = cli("import", str(export), "--db", tmp_path.joinpath("c.db").as_uri().replace("file://", "sqlite:///"))
        assert garbled.returncode == 2 and "export line 2 is not an exported quarantine row" in garbled.stderr

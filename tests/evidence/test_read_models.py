"""Every table of the store is either a read model, with a rebuild from the log, or named as
not one; every read model on the list equals its rebuild on a clean store, and tampering
with any of them is named by ``verify --projections`` (model, table, key, stored vs rebuilt),
on both stores."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.cases import Cases, FindingRef
from domain.errors import InvalidRequest
from ops.simulate import SimConfig, write_stream
from ops.wiring import build_audit_index, build_monitor
from projections.cases import case_recorder
from projections.evidence.drift import check_projections, stored_rows
from projections.queue import catch_up_owners
from projections.rebuild import NOT_READ_MODELS, READ_MODELS, read_model_tables, replace_read_models
from projections.sql import Sql
from projections.store import open_store, postgres, sqlite
from projections.store.base import FindingFilter, Store
from tests.conftest import SCENARIOS
from tests.evidence.tamper import Dba, fill

OFFICE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", *args], capture_output=True, text=True, timeout=300, check=False)


def schema_tables(statements: tuple[str, ...]) -> set[str]:
    return {m.group(1) for s in statements if (m := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", s))}


def live_tables(store: Store) -> set[str]:
    if store.kind == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    return {r[0] for r in Sql(store).rows(query)}


def test_every_table_of_both_schemas_is_a_read_model_or_named_as_not_one() -> None:
    read_models = [t.name for m in READ_MODELS for t in m.tables]
    assert len(read_models) == len(set(read_models)), "a table in two read models"
    assert not set(read_models) & set(NOT_READ_MODELS), "a table both a read model and not one"
    for statements in (sqlite.SCHEMA, postgres.SCHEMA):
        unclassified = schema_tables(statements) - set(read_models) - set(NOT_READ_MODELS)
        assert unclassified == set(), f"tables with no rebuild from the log and no reason why: {unclassified}"


def test_every_table_a_store_really_holds_is_classified(store: Store) -> None:
    classified = read_model_tables() | set(NOT_READ_MODELS)
    assert live_tables(store) - classified == set()
    # and the list names no table the store lacks (a renamed table would be compared with nothing)
    assert read_model_tables() <= live_tables(store)


def test_the_classification_check_catches_a_new_table() -> None:
    extra = (*sqlite.SCHEMA, "CREATE TABLE IF NOT EXISTS shiny_new_view (k TEXT)")
    assert "shiny_new_view" in schema_tables(extra) - read_model_tables() - set(NOT_READ_MODELS)


def officers(store: Store) -> Callable[[int], Cases]:
    return lambda minutes: Cases(case_recorder(store), clock=lambda: OFFICE + timedelta(minutes=minutes))


def busy_store(store: Store) -> list[str]:
    """Three scenario days (one Hong Kong midnight crossed: one snapshot), the monitor and the
    audit index caught up, and case actions of every kind; the finding ids."""
    for name in ("mf-day", "perp-day", "mm-day"):
        fill(store, name)
    build_monitor(store).catch_up()
    found = store.findings(FindingFilter())
    refs = [FindingRef.of(f) for f in found]
    cases = officers(store)
    cases(0).acknowledge(refs[0], "alice", "looking")
    cases(1).assign(refs[0], "alice", "bob")
    cases(2).comment(refs[0], "bob", "asked the desk")
    for minute, ref in ((3, refs[1]), (6, refs[2])):
        code = "false_positive" if ref is refs[1] else "remediated"
        if cases(minute).resolve(ref, "alice", code).status == "pending_approval":
            cases(minute + 1).approve(ref, "bob", "checked")  # four-eyes closing
        if ref is refs[1]:
            cases(minute + 2).reopen(ref, "carol", "not a test account")
    build_audit_index(store).catch_up()
    catch_up_owners(store)  # as ``regledger monitor`` and ingest do: the findings filed by owner
    return [f.finding_id for f in found]


def test_a_busy_store_matches_a_rebuild_of_every_read_model(store: Store) -> None:
    busy_store(store)
    drift = check_projections(store)
    assert drift.difference is None
    rows = {c.model: c.rows for c in drift.checked}
    assert rows["case statuses"] == 2 * 3 and rows  # three cases: finding_cases and case_workflow["registry"] > 0 and rows["audit index"] > 0
    assert Sql(store).rows("SELECT COUNT(*) FROM monitor_snapshots") == [(1,)]


Tampering = Callable[[Store, list[str]], tuple[str, Any]]


def flip_case_status(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "UPDATE finding_cases SET status = 'open', resolution = NULL WHERE finding_id = ?", (ids[2],)


def delete_case_status(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "DELETE FROM finding_cases WHERE finding_id = ?", (ids[0],)


def delete_finding(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "DELETE FROM findings WHERE finding_id = ?", (ids[3],)


def edit_audit_event(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "UPDATE audit_events SET type = 'AssetListed' WHERE position = 20", ()


def delete_audit_subject(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "DELETE FROM audit_subjects WHERE position = 7", ()


def edit_audit_owner(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "UPDATE audit_owners SET owners = '[\"nobody\"]' WHERE kind = (SELECT MIN(kind) FROM audit_owners)", ()


def alter_snapshot(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "UPDATE monitor_snapshots SET record_count = record_count + 1", ()


def edit_registry(store: Store, ids: list[str]) -> tuple[str, Any]:
    return "UPDATE ledger_entities SET state = '{}' WHERE kind = (SELECT MIN(kind) FROM ledger_entities)", ()


@pytest.mark.parametrize(("tamper", "model", "table"), [
    (flip_case_status, "case statuses", "finding_cases"),
    (delete_case_status, "case statuses", "finding_cases"),
    (delete_finding, "monitor", "findings"),
    (edit_audit_event, "audit index", "audit_events"),
    (delete_audit_subject, "audit index", "audit_subjects"),
    (edit_audit_owner, "audit index", "audit_owners"),
    (alter_snapshot, "monitor", "monitor_snapshots"),
    (edit_registry, "registry", "ledger_entities"),
])
def test_tampering_with_a_read_model_is_named_with_its_key_and_both_values(
    store: Store, store_url: str, tamper: Tampering, model: str, table: str
) -> None:
    ids = busy_store(store)
    Dba(store_url).run(tamper(store, ids))
    drift = check_projections(store)
    assert drift.difference is not None, "tampering went unnoticed"
    found = drift.difference
    assert (found.model, found.table) == (model, table)
    assert found.stored != found.rebuilt
    assert str(found).startswith(f"{model}: {table} row ")


def test_the_named_difference_of_a_flipped_status_gives_both_values(store: Store, store_url: str) -> None:
    ids = busy_store(store)
    Dba(store_url).run(flip_case_status(store, ids))
    found = check_projections(store).difference
    assert found is not None
    assert (found.key, found.stored, found.rebuilt) == (
        {"finding_id": ids[2]}, {"status": "open", "resolution": None},
        {"status": "resolved", "resolution": "remediated"},
    )


def test_findings_not_yet_filed_by_owner_are_behind_not_drift_but_a_filed_findings_lost_row_is(
    store: Store, store_url: str,
) -> None:
    fill(store)
    build_monitor(store).catch_up()
    build_audit_index(store).catch_up()
    assert store.findings(FindingFilter())
    assert check_projections(store).intact  # raised, not yet filed: behind, as a lagging monitor is
    catch_up_owners(store)
    assert check_projections(store).intact
    Dba(store_url).run(("DELETE FROM finding_owners WHERE owner = 'C1'", ()))
    difference = check_projections(store).difference
    assert difference is not None and (difference.model, difference.stored) == ("finding owners", None)
    assert difference.key["owner"] == "C1"


def test_rebuild_in_place_repairs_every_tampered_read_model(store: Store, store_url: str) -> None:
    ids = busy_store(store)
    healthy = {t.name: stored_rows(store, t) for m in READ_MODELS for t in m.tables}
    tamperings = (flip_case_status, delete_case_status, delete_finding, edit_audit_event,
                  delete_audit_subject, edit_audit_owner, alter_snapshot, edit_registry)
    Dba(store_url).run(*(tamper(store, ids) for tamper in tamperings))
    assert not check_projections(store).intact
    replace_read_models(store)
    assert check_projections(store).intact
    assert {t.name: stored_rows(store, t) for m in READ_MODELS for t in m.tables} == healthy


def test_a_monitor_running_beside_a_rebuild_in_place_records_nothing_twice(store: Store) -> None:
    fill(store)
    beside = build_monitor(store)
    beside.catch_up(until=20)
    replace_read_models(store)  # the monitor is rebuilt to the tip (38) under it
    assert beside.catch_up().events == 0  # overtaken: it restored from the store, nothing left
    fill(store, "perp-day")  # more events; the monitor beside takes them
    assert beside.catch_up().events > 0
    assert check_projections(store).intact


def test_the_rebuild_command_repairs_what_verify_names(store_url: str) -> None:
    for name in ("mf-day", "perp-day"):
        cli("ingest", str(SCENARIOS / f"{name}.jsonl"), "--db", store_url)
    Dba(store_url).run(("DELETE FROM audit_subjects WHERE position = 7", ()), ("DELETE FROM findings", ()))
    drifted = cli("verify", "--projections", "--db", store_url)
    assert drifted.returncode == 1 and "PROJECTION DRIFT in monitor: findings row finding_id=F-" in drifted.stdout
    rebuilt = cli("rebuild", "--db", store_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("rebuilt from the log: registry at position ")
    assert cli("verify", "--projections", "--db", store_url).returncode == 0


def test_verify_beside_a_running_ingest_sees_no_drift(store_url: str, tmp_path: Path) -> None:
    """The stored models are read in one snapshot, so an ingest (and its monitor and audit
    index) moving on meanwhile is never taken for drift."""
    stream = tmp_path / "sim.jsonl"
    write_stream(SimConfig(clients=20, days=2, seed=3, violations=0.05), stream)
    running = subprocess.Popen([sys.executable, "-m", "ops", "ingest", str(stream), "--db", store_url,
                                "--batch-size", "50"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checks = []
    try:
        while running.poll() is None or not checks:
            try:
                store = open_store(store_url)
            except InvalidRequest:  # no ledger yet
                continue
            try:
                drift = check_projections(store)
            finally:
                store.close()
            assert drift.difference is None, str(drift.difference)
            checks.append({c.model: c.position for c in drift.checked})
    finally:
        assert running.wait(timeout=600) == 0
    assert len({tuple(c.values()) for c in checks}) >= 2, "every check saw the same store: none ran beside the ingest"

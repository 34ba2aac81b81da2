"""Reads from a hot standby (``--read-db``) equal reads from the primary once it caught up,
and its lag is reported by ``regledger status`` and ``/v1/health`` (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ops.api.app import create_app
from ops.cli import app
from ops.wiring import open_read_store, open_store
from projections.replica import current_lsn, lag, primary_of, wait_for_replay
from tests.conftest import SCENARIOS
from tests.supervise.clusters import Cluster
from tests.supervise.conftest import new_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REPLAY_WAIT_S = 20.0


def cli(*args: str) -> Any:
    done = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert done.exit_code in (0, 3), done.output
    return json.loads(done.output)


def caught_up(primary_url: str, standby_url: str) -> None:
    routed = open_read_store(primary_url, standby_url)
    try:
        assert wait_for_replay(routed, current_lsn(primary_of(routed)), REPLAY_WAIT_S)
    finally:
        routed.close()


def without_age(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "age_s"} for row in rows]


def test_reads_from_the_standby_equal_reads_from_the_primary_and_lag_is_reported(
    firm_primary: Cluster, firm_standby: Cluster, tmp_path: Path
) -> None:
    primary_url = new_database(firm_primary, "firm")
    standby_url = primary_url.replace(f":{firm_primary.port}/", f":{firm_standby.port}/")
    for name in ("mf-day", "perp-day"):
        CliRunner().invoke(app, ["ingest", str(SCENARIOS / f"{name}.jsonl"), "--db", primary_url])
    caught_up(primary_url, standby_url)

    for command in (["findings"], ["audit", "--limit", "500"], ["verify"]):
        on_primary = cli(*command, "--db", primary_url, "--format", "json")
        on_standby = cli(*command, "--db", primary_url, "--read-db", standby_url, "--format", "json")
        if command == ["findings"]:
            on_primary, on_standby = without_age(on_primary), without_age(on_standby)
            assert on_primary, "the scenarios raise findings"
        assert on_standby == on_primary, command

    reports = []
    for where, extra in (("primary", []), ("standby", ["--read-db", standby_url])):
        done = CliRunner().invoke(app, ["report", "nightly", "--date", "2026-03-02", "--db", primary_url,
                                        "--out", str(tmp_path / where), *extra], catch_exceptions=False)
        assert done.exit_code in (0, 4), done.output
        reports.append((tmp_path / where / "nightly-2026-03-02" / "report.json").read_bytes())
    assert reports[0] == reports[1]

    status = cli("status", "--db", primary_url, "--read-db", standby_url, "--format", "json")
    replica = status["replica"]
    assert replica["in_recovery"] is True
    assert replica["lag_bytes"] == 0 and replica["lag_positions"] == 0
    assert replica["replica_position"] == status["position"] > 0

    with TestClient(create_app(primary_url, read_database_url=standby_url)) as client:
        health = client.get("/v1/health").json()
    assert health["position"] == status["position"]
    assert health["replica"]["in_recovery"] is True and health["replica"]["primary_position"] == status["position"]


def test_a_standby_behind_reports_its_lag_and_writes_from_reads_go_to_the_primary(
    firm_primary: Cluster, firm_standby: Cluster
) -> None:
    primary_url = new_database(firm_primary, "firm")
    standby_url = primary_url.replace(f":{firm_primary.port}/", f":{firm_standby.port}/")
    CliRunner().invoke(app, ["ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", primary_url, "--no-monitor"])
    caught_up(primary_url, standby_url)
    # The monitor never ran: the standby has no findings yet, and `report`'s catch-up of the
    # monitor has to write, which a standby refuses: routed, it goes to the primary.
    routed = open_read_store(primary_url, standby_url)
    try:
        with routed.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute("SELECT pg_is_in_recovery() AS standby")
            assert curs.fetchone()["standby"] is True
        from ops.wiring import build_monitor

        done = build_monitor(routed).catch_up()
        assert done.events > 0
        primary = open_store(primary_url)
        try:
            assert primary.tracked_position() == done.position
            assert wait_for_replay(routed, current_lsn(primary), REPLAY_WAIT_S)
            assert lag(routed, primary).lag_bytes == 0
        finally:
            primary.close()
    finally:
        routed.close()


def test_a_read_after_a_write_reads_the_primary_when_the_standby_has_not_replayed_it(
    firm_primary: Cluster, firm_standby: Cluster
) -> None:
    from ops.api.replica import ReadRouting

    primary_url = new_database(firm_primary, "firm")
    standby_url = primary_url.replace(f":{firm_primary.port}/", f":{firm_standby.port}/")
    CliRunner().invoke(app, ["ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", primary_url])
    routed = open_read_store(primary_url, standby_url)
    routing = ReadRouting(routed, wait_s=0.5)
    try:
        routing.note_write("alice")
        assert routing.store_for_read("alice") is routed, "replayed within the wait: the standby answers"
        with routed.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute("SELECT pg_wal_replay_pause()")
        try:
            CliRunner().invoke(app, ["ingest", str(SCENARIOS / "perp-day.jsonl"), "--db", primary_url])
            routing.note_write("alice")
            chosen = routing.store_for_read("alice")
            assert chosen is primary_of(routed), "not replayed within the wait: the primary answers"
            assert routing.store_for_read("bob") is routed, "another officer's read neither waits nor reads the primary"
            assert chosen.tip().position > routed.tip().position
            assert lag(routed, primary_of(routed)).lag_bytes > 0
        finally:
            with routed.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
                curs.execute("SELECT pg_wal_replay_resume()")
        assert wait_for_replay(routed, current_lsn(primary_of(routed)), REPLAY_WAIT_S)
        assert routing.store_for_read("alice") is routed
    finally:
        routed.close()

"""A large ingest refreshes the planner's statistics of the ledger and every read model
(PostgreSQL: ``ANALYZE``; SQLite: nothing to do), below the threshold it leaves them alone."""

from __future__ import annotations

import json

import psycopg
import pytest
from typer.testing import CliRunner

from tests.conftest import SCENARIOS

ACCEPTED = json.loads((SCENARIOS / "mf-day.rejects.json").read_text())["accepted"]


def analysed(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL").fetchall()
    return {name for (name,) in rows}


def ingest(url: str, threshold: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    from ops import cli
    from ops.commands import core

    monkeypatch.setattr(core, "STATISTICS_AFTER_EVENTS", threshold)
    result = CliRunner().invoke(cli.app, ["ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", url, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    counts: dict[str, int] = json.loads(result.output.strip().splitlines()[-1])
    return counts


@pytest.mark.postgres
@pytest.mark.parametrize("above", [-1, 0])  # the threshold below the accepted count, and at it
def test_a_large_ingest_analyses_the_ledger_and_the_read_models(postgres_url: str, above: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert ingest(postgres_url, ACCEPTED + above, monkeypatch)["accepted"] == ACCEPTED
    assert {"ledger_events", "audit_events", "audit_subjects", "ledger_entities", "monitor_state",
            "merkle_subtrees", "ledger_days"} <= analysed(postgres_url)


@pytest.mark.postgres
def test_a_small_ingest_leaves_the_statistics_to_autovacuum(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ingest(postgres_url, ACCEPTED + 1, monkeypatch)["accepted"] == ACCEPTED
    assert "ledger_events" not in analysed(postgres_url)


def test_on_sqlite_there_is_nothing_to_refresh(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ingest(f"sqlite:///{tmp_path}/s.db", 1, monkeypatch)["accepted"] > 0

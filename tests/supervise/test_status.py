"""``regledger status`` without a read replica says so, in text and in JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ops.cli import app
from ops.wiring import open_store
from tests.audit.helpers import ingest, lines_of


def test_status_without_a_read_replica_says_there_is_none(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGLEDGER_READ_DATABASE_URL", raising=False)
    store = open_store(store_url, create=True)
    try:
        ingest(store, lines_of("mf-day"))
    finally:
        store.close()
    text = CliRunner().invoke(app, ["status", "--db", store_url], catch_exceptions=False)
    assert text.exit_code == 0
    assert text.output.splitlines() == [
        "ledger at position 38, monitor at position 38",
        "no read replica: none is configured (--read-db or REGLEDGER_READ_DATABASE_URL), every read goes to --db",
    ]
    found = CliRunner().invoke(app, ["status", "--db", store_url, "--format", "json"], catch_exceptions=False)
    assert json.loads(found.output) == {"position": 38, "monitor_position": 38, "replica": None}

"""Ingesting scenario files or single lines at a chosen ledger time, and bringing the monitor
and the audit index up to date, as ``regledger ingest`` does."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.ledger import IngestSummary, InputLine, Ledger
from ops.wiring import build_audit_index, build_monitor
from policies.registry import parameter_catalogue
from projections.store.base import Store
from tests.conftest import SCENARIOS

RECORDED = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # the ledger's clock in these tests
LATER = RECORDED + timedelta(hours=1)


def lines_of(name: str) -> list[bytes]:
    return (SCENARIOS / f"{name}.jsonl").read_bytes().splitlines()


def event(event_id: str, kind: str, occurred_at: str, data: dict[str, Any], source: str = "test") -> bytes:
    return json.dumps(
        {"event_id": event_id, "type": kind, "occurred_at": occurred_at, "source": source, "data": data}
    ).encode()


def ingest(store: Store, lines: Iterable[bytes], recorded_at: datetime = RECORDED) -> IngestSummary:
    ledger = Ledger(store, parameter_catalogue(), clock=lambda: recorded_at)
    batch = [InputLine("test", n, raw) for n, raw in enumerate(lines, 1)]
    summary = ledger.ingest_batch(batch)
    assert summary.rejected == 0, summary.rejections
    build_monitor(store).catch_up()
    build_audit_index(store).catch_up()
    return summary

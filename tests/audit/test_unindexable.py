"""The audit index on an event it cannot take whole: indexed under what it can read, logged at
error level, and the index goes on (never stops for good on a ledger that cannot change)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from structlog.testing import capture_logs

import projections.audit.index as index_module
from ops.wiring import build_audit_index
from projections.audit import AuditQuery, audit_events
from projections.audit.days import UNPLACEABLE
from projections.nightly import Window
from projections.nightly.scan import read_summary, scan, whole_log_scan
from projections.store.base import Store
from tests.ledger.test_stored_form import ingest_day, store_old_forms


def test_an_event_stored_with_a_time_out_of_range_is_indexed_under_its_recorded_time(
    store: Store,
) -> None:
    ingest_day(store)
    store_old_forms(store)
    with capture_logs() as logs:
        build_audit_index(store).catch_up()
    unusable = [e["event_id"] for e in logs
                if e["event"] == "audit_event_time_unusable" and e["log_level"] == "error"]
    assert unusable == ["old-year-1", "old-9999"]
    found = {e.event_id: e for e in audit_events(store, AuditQuery(limit=1000))}
    assert found["old-year-1"].occurred_at.isoformat() == "0001-01-01T00:00:00+08:00"  # as sent
    assert "old-call" in found and "d-051" in found  # and the index went on
    # Counted by day as no day, so that a nightly report reads the whole log (which compares
    # such a time exactly) and gives what it gave before the counts existed.
    summary = read_summary(store)
    assert sum(n for day, _, n, _, _ in summary.days if day == UNPLACEABLE) == 2 and not summary.complete
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        assert scan(store, Window(day)) == whole_log_scan(store, Window(day))


def test_an_event_whose_subjects_cannot_be_read_is_indexed_without_them_and_logged(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index_module.concerns

    def concerns(event_type: str, data: dict[str, Any], owners_of: Any) -> Any:
        if data.get("client_id") == "C2":
            raise KeyError("injected defect")
        return real(event_type, data, owners_of)

    monkeypatch.setattr(index_module, "concerns", concerns)
    ingest_day(store)
    with capture_logs() as logs:
        build_audit_index(store).catch_up()
    failed = [e["event_id"] for e in logs if e["event"] == "audit_event_unindexable"]
    assert failed and all(e["log_level"] == "error" for e in logs if e["event"] == "audit_event_unindexable")
    everything = [e.event_id for e in audit_events(store, AuditQuery(limit=1000))]
    assert len(everything) == 51 and set(failed) <= set(everything)
    assert [e.event_id for e in audit_events(store, AuditQuery(subject="C1", limit=1000))]

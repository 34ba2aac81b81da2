"""The store's ledger recorder, writing the case status read model in the same transaction as
the case events it summarises (``Cases.save(case, case_status=...)``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.cases import CaseSummary
from projections.store.base import Store
from projections.store.postgres import LedgerPostgresRecorder, PostgresStore
from projections.store.sqlite import LedgerSQLiteRecorder, SQLiteStore, to_text

_UPSERT_CONFLICT = (
    " ON CONFLICT (finding_id) DO UPDATE SET"
    " status = excluded.status, assignee = excluded.assignee, resolution = excluded.resolution,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by,"
    " version = excluded.version"
)
_UPSERT_INTO = (
    "INSERT INTO finding_cases (finding_id, case_id, status, assignee, resolution, updated_at,"
    " updated_by, version)"
)
UPSERT_STATUS_SQLITE = _UPSERT_INTO + " VALUES (?,?,?,?,?,?,?,?)" + _UPSERT_CONFLICT
UPSERT_STATUS_POSTGRES = _UPSERT_INTO + " VALUES (%s,%s,%s,%s,%s,%s,%s,%s)" + _UPSERT_CONFLICT


def _status_row(summary: CaseSummary, at: Any) -> tuple[Any, ...]:
    return (
        summary.finding_id, summary.case_id, summary.status, summary.assignee,
        summary.resolution, at, summary.updated_by, summary.version,
    )


class CaseSQLiteRecorder(LedgerSQLiteRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        summary: CaseSummary | None = kwargs.get("case_status")
        if summary is not None:
            c.execute(
                UPSERT_STATUS_SQLITE,
                _status_row(summary, to_text(summary.updated_at)),
            )
        return positions


class CasePostgresRecorder(LedgerPostgresRecorder):
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            entries = [
                (str(s.originator_id), s.originator_version, s.topic, s.state)
                for s in stored_events
            ]
            rows = self.append_rows(curs, entries, kwargs.get("recorded_at") or datetime.now(UTC))
            self._record_status(curs, kwargs.get("case_status"))
            return [row.position for row in rows]

    @staticmethod
    def _record_status(curs: Cursor[DictRow], summary: CaseSummary | None) -> None:
        if summary is not None:
            curs.execute(
                UPSERT_STATUS_POSTGRES,
                _status_row(summary, summary.updated_at),
            )


def case_recorder(store: Store) -> ApplicationRecorder:
    if isinstance(store, SQLiteStore):
        return CaseSQLiteRecorder(store.datastore)
    assert isinstance(store, PostgresStore), f"unknown store {store!r}"
    return CasePostgresRecorder(store.datastore)

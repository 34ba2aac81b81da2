"""The store's ledger recorder, writing the case status read model in the same transaction as
the case events it summarises (``Cases.save(*cases, case_statuses=[...])``).

``finding_cases`` holds what every case has; ``case_workflow`` (a table of its own so that
older stores migrate by CREATE IF NOT EXISTS alone) holds the investigation a case is grouped
in and who asked for a resolution that awaits approval."""

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
_UPSERT_WORKFLOW = (
    "INSERT INTO case_workflow (finding_id, investigation_id, requested_by) VALUES ({p},{p},{p})"
    " ON CONFLICT (finding_id) DO UPDATE SET investigation_id = excluded.investigation_id,"
    " requested_by = excluded.requested_by"
)
UPSERT_WORKFLOW_SQLITE = _UPSERT_WORKFLOW.format(p="?")
UPSERT_WORKFLOW_POSTGRES = _UPSERT_WORKFLOW.format(p="%s")


def status_row(summary: CaseSummary, at: Any) -> tuple[Any, ...]:
    return (
        summary.finding_id, summary.case_id, summary.status, summary.assignee,
        summary.resolution, at, summary.updated_by, summary.version,
    )


def workflow_row(summary: CaseSummary) -> tuple[Any, ...]:
    return (summary.finding_id, summary.investigation_id, summary.requested_by)


class CaseSQLiteRecorder(LedgerSQLiteRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        for summary in kwargs.get("case_statuses", ()):
            c.execute(UPSERT_STATUS_SQLITE, status_row(summary, to_text(summary.updated_at)))
            c.execute(UPSERT_WORKFLOW_SQLITE, workflow_row(summary))
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
            self._record_statuses(curs, kwargs.get("case_statuses", ()))
            return [row.position for row in rows]

    @staticmethod
    def _record_statuses(curs: Cursor[DictRow], summaries: Sequence[CaseSummary]) -> None:
        for summary in summaries:
            curs.execute(UPSERT_STATUS_POSTGRES, status_row(summary, summary.updated_at))
            curs.execute(UPSERT_WORKFLOW_POSTGRES, workflow_row(summary))


def case_recorder(store: Store) -> ApplicationRecorder:
    if isinstance(store, SQLiteStore):
        return CaseSQLiteRecorder(store.datastore)
    assert isinstance(store, PostgresStore), f"unknown store {store!r}"
    return CasePostgresRecorder(store.datastore)

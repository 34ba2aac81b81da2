"""The store's ledger recorder, writing the case status read model in the same transaction as
the case events it summarises (``Cases.save(*cases, case_statuses=[...])``).

``finding_cases`` holds what every case has; ``case_workflow`` (a table of its own so that
older stores migrate by CREATE IF NOT EXISTS alone) holds the investigation a case is grouped
in and who asked for a resolution that awaits approval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from domain.cases import CaseSummary
from projections.store.base import Store
from projections.store.cursors import Cursor
from projections.store.portable import SqlStore

UPSERT_STATUS = (
    "INSERT INTO finding_cases (finding_id, case_id, status, assignee, resolution, updated_at,"
    " updated_by, version) VALUES (?,?,?,?,?,?,?,?)"
    " ON CONFLICT (finding_id) DO UPDATE SET"
    " status = excluded.status, assignee = excluded.assignee, resolution = excluded.resolution,"
    " updated_at = excluded.updated_at, updated_by = excluded.updated_by,"
    " version = excluded.version"
)
UPSERT_WORKFLOW = (
    "INSERT INTO case_workflow (finding_id, investigation_id, requested_by) VALUES (?,?,?)"
    " ON CONFLICT (finding_id) DO UPDATE SET investigation_id = excluded.investigation_id,"
    " requested_by = excluded.requested_by"
)


def status_row(summary: CaseSummary, at: Any) -> tuple[Any, ...]:
    return (
        summary.finding_id, summary.case_id, summary.status, summary.assignee,
        summary.resolution, at, summary.updated_by, summary.version,
    )


def workflow_row(summary: CaseSummary) -> tuple[Any, ...]:
    return (summary.finding_id, summary.investigation_id, summary.requested_by)


def record_statuses(c: Cursor, events: Sequence[StoredEvent], options: Mapping[str, Any]) -> None:
    """After the case events' rows: each summary's status and workflow rows."""
    for summary in options.get("case_statuses", ()):
        c.execute(UPSERT_STATUS, status_row(summary, c.time(summary.updated_at)))
        c.execute(UPSERT_WORKFLOW, workflow_row(summary))


def case_recorder(store: Store) -> ApplicationRecorder:
    assert isinstance(store, SqlStore), f"unknown store {store!r}"
    recorder: ApplicationRecorder = store.ledger_recorder(also=record_statuses)
    return recorder

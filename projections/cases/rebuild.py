"""The case status read model (``finding_cases`` and ``case_workflow``) rebuilt from the log
alone.

Reading (issue 17): a case's status is derived from its case events on the ledger and from
nothing else. Each case is folded by the aggregate's own ``apply`` methods (``domain.cases``),
so the rebuilt rows are exactly the ones ``Cases.act`` wrote when the last action was saved:
status, assignee, resolution, the time and actor of the last action, the case version, the
investigation it is grouped in and who asked for a resolution awaiting approval.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.cases import Case, Cases, CaseSummary, is_case_topic
from projections.cases.recorders import (
    UPSERT_STATUS,
    UPSERT_WORKFLOW,
    case_recorder,
    status_row,
    workflow_row,
)
from projections.sql import Sql
from projections.store.base import Store, entries_through
from projections.store.cursors import Cursor


def case_summaries(store: Store, through: int) -> list[CaseSummary]:
    """Every case's summary after the ledger's positions up to ``through``, by finding id."""
    mapper = Cases(case_recorder(store)).mapper
    cases: dict[Any, Case] = {}
    for e in entries_through(store, through):
        if is_case_topic(e.type):
            event = mapper.to_domain_event(StoredEvent(e.event_id, e.version, e.type, e.state))
            assert isinstance(event, Case.Event)
            folded = event.mutate(cases.get(event.originator_id))
            assert isinstance(folded, Case)
            cases[event.originator_id] = folded
    return sorted((CaseSummary.of(case) for case in cases.values()), key=lambda s: s.finding_id)


def rebuild_case_statuses(store: Store, through: int) -> None:
    """Write the status of every case as of ``through`` into an empty read model."""
    sql = Sql(store)
    with sql.writing() as cursor:
        _write(sql, cursor, case_summaries(store, through))


def replace_case_statuses(store: Store) -> None:
    """Every status rebuilt from the log in place, under the ledger's lock: no case action
    lands between reading the case events and writing their statuses."""
    sql = Sql(store)
    with sql.writing(ledger_lock=True) as cursor:
        cursor.execute("SELECT MAX(notification_id) FROM ledger_events")
        row = cursor.fetchone()
        summaries = case_summaries(store, int(row[0] or 0) if row else 0)
        cursor.execute("DELETE FROM finding_cases")
        cursor.execute("DELETE FROM case_workflow")
        _write(sql, cursor, summaries)


def _write(sql: Sql, cursor: Cursor, summaries: list[CaseSummary]) -> None:
    cursor.executemany(UPSERT_STATUS, [status_row(s, sql.time(s.updated_at)) for s in summaries])
    cursor.executemany(UPSERT_WORKFLOW, [workflow_row(s) for s in summaries])

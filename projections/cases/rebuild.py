"""The case status read model rebuilt from the log alone.

Reading (issue 17): a case's status is derived from its case events on the ledger and from
nothing else. Each case is folded by the aggregate's own ``apply`` methods (``domain.cases``),
so the rebuilt row is exactly the one ``Cases.act`` wrote when the last action was saved:
status, assignee, resolution, the time and actor of the last action, and the case version.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.cases import Case, Cases, CaseSummary, is_case_topic
from projections.cases.recorders import UPSERT_STATUS_SQLITE, case_recorder
from projections.sql import Sql
from projections.store.base import Store, entries_through


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
    """Write the status of every case as of ``through`` into an empty ``finding_cases``."""
    sql = Sql(store)
    with sql.writing() as cursor:
        cursor.executemany(UPSERT_STATUS_SQLITE, _rows(sql, case_summaries(store, through)))


def replace_case_statuses(store: Store) -> None:
    """Every status rebuilt from the log in place, under the ledger's lock: no case action
    lands between reading the case events and writing their statuses."""
    sql = Sql(store)
    with sql.writing(ledger_lock=True) as cursor:
        cursor.execute("SELECT MAX(notification_id) FROM ledger_events")
        row = cursor.fetchone()
        summaries = case_summaries(store, int(row[0] or 0) if row else 0)
        cursor.execute("DELETE FROM finding_cases")
        cursor.executemany(UPSERT_STATUS_SQLITE, _rows(sql, summaries))


def _rows(sql: Sql, summaries: list[CaseSummary]) -> list[tuple[Any, ...]]:
    return [
        (s.finding_id, s.case_id, s.status, s.assignee, s.resolution, sql.time(s.updated_at),
         s.updated_by, s.version)
        for s in summaries
    ]

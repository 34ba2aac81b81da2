"""The store's ledger recorder for quarantine dismissals: the ledger event and its
``dismissed`` link row commit in one transaction, or neither does (``domain.quarantine_decisions``).

Locks are taken in the order every writer takes them: the ledger's, then the links'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteCursor

from domain.errors import InvalidRequest, NotFound
from domain.quarantine import DISMISSED, entry_label, status_of
from domain.quarantine_decisions import Dismissal
from projections.store import quarantine_log
from projections.store.base import Store
from projections.store.cursors import Cursor, PortablePostgres, PortableSQLite
from projections.store.postgres import LedgerPostgresRecorder, PostgresStore
from projections.store.quarantine_log import LINKS
from projections.store.sqlite import LedgerSQLiteRecorder, SQLiteStore


def link_dismissal(c: Cursor, dismissal: Dismissal, events: Sequence[StoredEvent]) -> None:
    """The ``dismissed`` link naming the event just appended; refused (rolling the event back
    with it) when the line is unknown or settled already."""
    c.lock(LINKS)
    label = entry_label(dismissal.quarantine_id)
    if quarantine_log.record(c, dismissal.quarantine_id) is None:
        raise NotFound(f"no quarantined line {label}")
    status, settled = status_of(quarantine_log.links_between(c, dismissal.quarantine_id, dismissal.quarantine_id))
    if settled is not None:
        raise InvalidRequest(f"quarantined line {label} was already {status}")
    [event] = events
    quarantine_log.append_link(c, dismissal.quarantine_id, DISMISSED, actor=dismissal.actor,
                               recorded_at=dismissal.at, event_id=str(event.originator_id), reason=dismissal.reason)


class DecisionSQLiteRecorder(LedgerSQLiteRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        link_dismissal(PortableSQLite(c), kwargs["dismissal"], stored_events)
        return positions


class DecisionPostgresRecorder(LedgerPostgresRecorder):
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            entries = [(str(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events]
            rows = self.append_rows(curs, entries, kwargs.get("recorded_at") or datetime.now(UTC))
            link_dismissal(PortablePostgres(curs), kwargs["dismissal"], stored_events)
            return [row.position for row in rows]


def decision_recorder(store: Store) -> ApplicationRecorder:
    if isinstance(store, SQLiteStore):
        return DecisionSQLiteRecorder(store.datastore)
    assert isinstance(store, PostgresStore), f"unknown store {store!r}"
    return DecisionPostgresRecorder(store.datastore)

"""The audit index's tables, written once for both stores: one write transaction per page (rows
and tracking together), and the owners lookup. A store writes the rows in bulk its own way
(``SqlStore.bulk_insert``: binary ``COPY`` on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from projections.audit import days as ledger_days
from projections.sql import Sql
from projections.store import eventsourcing_compat as compat
from projections.store.base import Store
from projections.store.cursors import Cursor
from projections.store.portable import Columns, SqlStore

AUDIT_APPLICATION = "audit"
AUDIT_LOCK_KEY = 0x72656761756469  # "regaudi": one audit writer at a time on PostgreSQL
AUDIT_TABLES = (
    "audit_events", "audit_subjects", "audit_owners", ledger_days.DAYS_TABLE, ledger_days.FUND_TABLE,
    ledger_days.CLOCK_TABLE,
)

EVENT_COLUMNS: Columns = (
    ("position", "integer"), ("event_id", "text"), ("type", "text"), ("source", "text"),
    ("occurred_at", "instant"), ("recorded_at", "instant"),
)
SUBJECT_COLUMNS: Columns = (
    ("subject", "text"), ("position", "integer"), ("type", "text"), ("source", "text"), ("occurred_at", "instant"),
)
OWNER_COLUMNS: Columns = (("kind", "text"), ("id", "text"), ("owners", "text"))
SELECT_OWNERS = "SELECT o.kind, o.id, o.owners FROM audit_owners o"
# Bounded on both stores: a longer list can turn PostgreSQL's index lookups into a scan.
OWNER_KEYS_PER_QUERY_MAX = 500

EventRow = tuple[int, str, str, str, datetime, datetime]  # position, id, type, source, occurred, recorded
SubjectRow = tuple[str, int]  # subject, position (the rest is its event's)
OwnerRow = tuple[str, str, tuple[str, ...]]  # kind, id, owners


class AuditWriter:
    def __init__(self, sql: Sql, cursor: Cursor, tracking: Any):
        self.sql, self.cursor, self.tracking = sql, cursor, tracking

    def tracked_position(self) -> int:
        return compat.max_tracking_id(self.tracking, self.cursor.raw, AUDIT_APPLICATION)

    def record(
        self, events: Sequence[EventRow], subjects: Sequence[SubjectRow],
        owners: Sequence[OwnerRow], position: int, days: ledger_days.DayRows | None = None,
    ) -> None:
        # Each event is indexed once (the tracking check) and each (kind, id) created once, so
        # the rows never conflict where a store copies them in bulk. A subject row repeats its
        # event's type, source and time, converted for the store once per event (on SQLite a
        # conversion costs about 2 us, and an event has about four subjects).
        t, insert = self.cursor.time, self.sql.store.bulk_insert
        event_rows = [(p, i, ty, s, t(o), t(r)) for p, i, ty, s, o, r in events]
        of_event = {row[0]: row[2:5] for row in event_rows}
        insert(self.cursor, "audit_events", EVENT_COLUMNS, event_rows)
        insert(self.cursor, "audit_subjects", SUBJECT_COLUMNS, [(subject, p, *of_event[p]) for subject, p in subjects])
        insert(
            self.cursor, "audit_owners", OWNER_COLUMNS,
            [(kind, natural_id, json.dumps(list(o))) for kind, natural_id, o in owners], suffix=" ON CONFLICT DO NOTHING",
        )
        if days is not None:
            ledger_days.write(self.cursor, days)
        compat.insert_tracking(self.tracking, self.cursor.raw, AUDIT_APPLICATION, position)

    def load_owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, ...]]:
        return load_owners(self.sql, self.cursor, keys)


def load_owners(
    sql: Sql, cursor: Cursor, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    rows = sql.store.rows_with_pairs(cursor, SELECT_OWNERS, ("o.kind", "o.id"), keys, OWNER_KEYS_PER_QUERY_MAX)
    return {(k, i): tuple(json.loads(o)) for k, i, o in rows}


class AuditStorage:
    def __init__(self, store: Store):
        assert isinstance(store, SqlStore), f"unknown store {store!r}"
        self.store = store
        self.sql = Sql(store)

    def tracked_position(self) -> int:
        return self.store.tracked_position(AUDIT_APPLICATION)

    def refresh_statistics(self) -> None:
        self.store.refresh_statistics(AUDIT_TABLES)

    @contextmanager
    def writer(self) -> Iterator[AuditWriter]:
        with self.sql.writing(AUDIT_LOCK_KEY) as cursor:
            yield AuditWriter(self.sql, cursor, self.store.tracking)

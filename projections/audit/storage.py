"""The audit index's tables on each store: one write transaction per page (rows and tracking
together), and the owners lookup."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from psycopg.sql import SQL

from projections.sql import Sql
from projections.store import eventsourcing_compat as compat
from projections.store.base import Store
from projections.store.portable import SqlStore

COPY_EVENTS = SQL(
    "COPY audit_events (position, event_id, type, source, occurred_at, recorded_at)"
    " FROM STDIN (FORMAT BINARY)"
)
COPY_SUBJECTS = SQL(
    "COPY audit_subjects (subject, position, type, source, occurred_at) FROM STDIN (FORMAT BINARY)"
)
COPY_OWNERS = SQL("COPY audit_owners (kind, id, owners) FROM STDIN (FORMAT BINARY)")
AUDIT_APPLICATION = "audit"
AUDIT_LOCK_KEY = 0x72656761756469  # "regaudi": one audit writer at a time on PostgreSQL
OWNER_KEYS_PER_QUERY_MAX = 500

EventRow = tuple[int, str, str, str, datetime, datetime]  # position, id, type, source, occurred, recorded
SubjectRow = tuple[str, int, str, str, datetime]  # subject, position, type, source, occurred
OwnerRow = tuple[str, str, tuple[str, ...]]  # kind, id, owners


class AuditWriter:
    def __init__(self, sql: Sql, cursor: Any, tracking: Any):
        self.sql, self.cursor, self.tracking = sql, cursor, tracking

    def tracked_position(self) -> int:
        return compat.max_tracking_id(self.tracking, self.cursor.raw, AUDIT_APPLICATION)

    def record(
        self, events: Sequence[EventRow], subjects: Sequence[SubjectRow],
        owners: Sequence[OwnerRow], position: int,
    ) -> None:
        if self.sql.kind == "postgresql":
            self._record_postgres(events, subjects, owners)
        else:
            self._record_sqlite(events, subjects, owners)
        compat.insert_tracking(self.tracking, self.cursor.raw, AUDIT_APPLICATION, position)

    def _record_sqlite(
        self, events: Sequence[EventRow], subjects: Sequence[SubjectRow], owners: Sequence[OwnerRow]
    ) -> None:
        t = self.sql.time
        self.cursor.executemany(
            "INSERT INTO audit_events (position, event_id, type, source, occurred_at, recorded_at)"
            " VALUES (?,?,?,?,?,?)",
            [(p, i, ty, s, t(o), t(r)) for p, i, ty, s, o, r in events],
        )
        self.cursor.executemany(
            "INSERT INTO audit_subjects (subject, position, type, source, occurred_at)"
            " VALUES (?,?,?,?,?)",
            [(subject, p, ty, s, t(o)) for subject, p, ty, s, o in subjects],
        )
        self.cursor.executemany(
            "INSERT INTO audit_owners (kind, id, owners) VALUES (?,?,?) ON CONFLICT DO NOTHING",
            [(kind, natural_id, json.dumps(list(o))) for kind, natural_id, o in owners],
        )

    def _record_postgres(
        self, events: Sequence[EventRow], subjects: Sequence[SubjectRow], owners: Sequence[OwnerRow]
    ) -> None:
        # Binary COPY: each (kind, id) is created once and each event indexed once (the
        # tracking check above), so plain appends never conflict.
        curs = Sql.raw_cursor(self.cursor)
        for statement, types, rows in (
            (COPY_EVENTS, ("int8", "text", "text", "text", "timestamptz", "timestamptz"), events),
            (COPY_SUBJECTS, ("text", "int8", "text", "text", "timestamptz"), subjects),
            (COPY_OWNERS, ("text", "text", "text"),
             [(kind, natural_id, json.dumps(list(o))) for kind, natural_id, o in owners]),
        ):
            if rows:
                with curs.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)

    def load_owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, ...]]:
        return load_owners(self.sql, self.cursor, keys)


SELECT_OWNERS = {
    "sqlite": "SELECT o.kind, o.id, o.owners FROM audit_owners o JOIN json_each(?) j"
    " ON o.kind = json_extract(j.value, '$[0]') AND o.id = json_extract(j.value, '$[1]')",
    "postgresql": "SELECT o.kind, o.id, o.owners FROM audit_owners o"
    " JOIN unnest(?::text[], ?::text[]) AS k(kind, id) ON o.kind = k.kind AND o.id = k.id",
}


def load_owners(
    sql: Sql, cursor: Any, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    ordered = list(keys)
    for start in range(0, len(ordered), OWNER_KEYS_PER_QUERY_MAX):
        chunk = ordered[start : start + OWNER_KEYS_PER_QUERY_MAX]
        if sql.kind == "sqlite":
            params: list[Any] = [json.dumps([list(key) for key in chunk])]
        else:
            params = [[k for k, _ in chunk], [i for _, i in chunk]]
        cursor.execute(SELECT_OWNERS[sql.kind], params)
        found.update(((k, i), tuple(json.loads(o))) for k, i, o in cursor.fetchall())
    return found


class AuditStorage:
    def __init__(self, store: Store):
        assert isinstance(store, SqlStore), f"unknown store {store!r}"
        self.store = store
        self.sql = Sql(store)

    def tracked_position(self) -> int:
        return self.store.tracked_position(AUDIT_APPLICATION)

    def refresh_statistics(self) -> None:
        if self.sql.kind == "postgresql":
            with self.sql.writing() as cursor:
                cursor.execute("ANALYZE audit_events, audit_subjects, audit_owners")

    @contextmanager
    def writer(self) -> Iterator[AuditWriter]:
        with self.sql.writing(AUDIT_LOCK_KEY) as cursor:
            yield AuditWriter(self.sql, cursor, self.store.tracking)

"""The embedded store: one SQLite file in WAL mode, written in ``BEGIN IMMEDIATE`` transactions.

Writers are serialised by SQLite's own write lock, so the ledger tip read inside a write
transaction is stable until commit: positions are gap-free and the hash chain cannot fork.
What is written once for both stores is in ``portable``; here is what SQLite does its own way:
its types, triggers, transactions, and lists bound as JSON (``json_each``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)

from domain.errors import StoreUnavailable
from projections.store.base import LEDGER_TABLE, ChainedRow
from projections.store.cursors import Cursor, PortableSQLite, from_text, to_text
from projections.store.portable import (
    AlsoRecord,
    ChainedRecorder,
    Clock,
    Dialect,
    SqlStore,
    no_clock,
)
from projections.store.schema import Types, ledger_table, tracking_table

__all__ = ["LedgerSQLiteRecorder", "SQLiteStore", "from_text", "to_text", "write_transaction"]

SQLITE_LOCK_TIMEOUT_S = 30
OPEN_ATTEMPTS_MAX, OPEN_RETRY_S = 20, 0.05
KEYS_PER_STATEMENT_MAX = 500  # a JSON list parameter

TYPES = Types(
    text="TEXT", integer="INTEGER", blob="BLOB", instant="TEXT",
    serial_key="INTEGER PRIMARY KEY AUTOINCREMENT", without_rowid=" WITHOUT ROWID", raw_index="",
)
DIALECT = Dialect(
    TYPES, casts={"text": "", "instant": "", "texts": ""}, in_texts="IN (SELECT value FROM json_each(?))",
    texts_per_statement_max=KEYS_PER_STATEMENT_MAX, unlimited=-1,
    table_exists="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    quarantine_columns="SELECT name FROM pragma_table_info('quarantine')",
)

LEDGER_DDL = (
    ledger_table(TYPES, unique_position=" UNIQUE"),
    "CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON ledger_events"
    " BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON ledger_events"
    " BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END",
    # INSERT OR REPLACE deletes the row it replaces without firing the delete trigger
    # (recursive triggers are off): refuse any insert that meets a stored key first.
    "CREATE TRIGGER IF NOT EXISTS ledger_events_no_replace BEFORE INSERT ON ledger_events"
    " WHEN EXISTS (SELECT 1 FROM ledger_events WHERE notification_id = NEW.notification_id)"
    " OR EXISTS (SELECT 1 FROM ledger_events WHERE originator_id = NEW.originator_id"
    " AND originator_version = NEW.originator_version)"
    " BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only: that position or event is stored'); END",
)
TRACKING_DDL = (tracking_table(TYPES, "tracking"), "INSERT OR IGNORE INTO tracking VALUES ('__migration__', 1)")
# Created after an older store's quarantine was chained (the upgrade updates its rows).
RECORD_TRIGGERS_DDL = tuple(
    statement
    for table in ("quarantine", "quarantine_links")
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table}"  # noqa: S608  # constants
        f" WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only: that id is stored'); END",
    )
)

INSERT_LEDGER = (
    "INSERT INTO ledger_events (originator_id, originator_version, topic, state,"
    " notification_id, recorded_at, chain_hash) VALUES (?,?,?,?,?,?,?)"
)
SELECT_NOTIFICATIONS = (
    "SELECT notification_id, originator_id, originator_version, topic, state FROM ledger_events"
    " WHERE notification_id >= ? AND notification_id <= ?"
    " AND (? IS NULL OR topic IN (SELECT value FROM json_each(?))) ORDER BY notification_id LIMIT ?"
)


@contextmanager
def write_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """``BEGIN IMMEDIATE``: take the write lock first, so a read inside never goes stale."""
    with datastore.get_connection(commit=True) as conn:
        c = conn.cursor()
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()
        finally:
            # Closed by its own thread: a cursor left to the garbage collector is reset by
            # whichever thread collects it, which then waits for this connection's mutex,
            # held by a writer of this store busy-waiting for that thread's write lock.
            c.sqlite_cursor.close()


class LedgerSQLiteRecorder(ChainedRecorder, SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder on the chained ledger (``ChainedRecorder``)."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = LEDGER_TABLE, *,
        clock: Clock = no_clock, also: AlsoRecord | None = None,
    ):
        assert events_table_name == LEDGER_TABLE, "the ledger table name is fixed"
        super().__init__(datastore, events_table_name)
        self.clock, self.also = clock, also
        self.select_max_notification_id_statement = "SELECT MAX(notification_id) FROM ledger_events"

    def construct_create_table_statements(self) -> list[str]:
        return list(LEDGER_DDL)

    @contextmanager
    def appending(self) -> Iterator[Cursor]:
        with write_transaction(self.datastore) as c:
            yield PortableSQLite(c)

    def lock_ledger(self, c: Cursor) -> None:
        """Nothing to do: every SQLite write transaction is ``BEGIN IMMEDIATE``."""

    def insert_rows(self, c: Cursor, rows: Sequence[ChainedRow]) -> None:
        text = {moment: to_text(moment) for moment in {r.recorded_at for r in rows}}  # few
        params = [(r.event_id, r.version, r.type, r.state, r.position, text[r.recorded_at], r.chain_hash) for r in rows]
        try:
            c.raw.executemany(INSERT_LEDGER, params)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(e) from e

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None, topics: Sequence[str] = (),
        *, inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """eventsourcing's own reads ``rowid``; here positions are the notification ids."""
        low = 0 if start is None else (start if inclusive_of_start else start + 1)
        listed = json.dumps(list(topics)) if topics else None
        params = (low, stop if stop is not None else 2**62, listed, listed, limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_NOTIFICATIONS, params)
            return [
                Notification(
                    id=row["notification_id"], originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"], topic=row["topic"], state=row["state"],
                )
                for row in c.fetchall()
            ]


class SQLiteStore(SqlStore):
    kind: Literal["sqlite", "postgresql"] = "sqlite"
    dialect = DIALECT
    ledger_ddl, tracking_ddl, record_triggers = LEDGER_DDL, TRACKING_DDL, RECORD_TRIGGERS_DDL

    def __init__(self, path: str, *, clock: Clock = no_clock):
        self.path = path
        self.clock = clock
        self.datastore = self._open(path)
        self.recorder = self.ledger_recorder()
        self.tracking = SQLiteTrackingRecorder(self.datastore)

    @staticmethod
    def _open(path: str) -> SQLiteDatastore:
        # Switching a new file to WAL needs a moment alone with it, and SQLite's busy timeout
        # does not cover that: several processes opening a new file at once retry briefly.
        for attempt in range(OPEN_ATTEMPTS_MAX):
            try:
                datastore = SQLiteDatastore(path, lock_timeout=SQLITE_LOCK_TIMEOUT_S, originator_id_type="text")
                with datastore.transaction(commit=False) as c:
                    c.execute("SELECT 1")
                return datastore
            except Exception as e:  # sqlite3 and eventsourcing wrap differently; all mean "cannot open"
                if "locked" in str(e) and attempt + 1 < OPEN_ATTEMPTS_MAX:
                    time.sleep(OPEN_RETRY_S * (attempt + 1))
                    continue
                raise StoreUnavailable(f"cannot open SQLite database {path!r}: {e}") from e
        raise AssertionError("unreachable")

    def ledger_recorder(self, also: AlsoRecord | None = None) -> LedgerSQLiteRecorder:
        return LedgerSQLiteRecorder(self.datastore, clock=self.clock, also=also)

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Cursor]:
        """(SQLite's deferred transactions in WAL mode always read one snapshot.)"""
        with self.datastore.transaction(commit=False) as c:
            yield PortableSQLite(c)

    @contextmanager
    def writing(self, lock_key: int | None = None, *, ledger_lock: bool = False) -> Iterator[Cursor]:
        """``BEGIN IMMEDIATE`` serialises every writer: no lock to take besides."""
        with write_transaction(self.datastore) as c:
            yield PortableSQLite(c)

    def text_list(self, values: Sequence[str]) -> Any:
        return json.dumps(list(values))

    def load_entities_with(self, c: Cursor, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        pairs = [list(k) for k in keys]
        for start in range(0, len(pairs), KEYS_PER_STATEMENT_MAX):
            c.raw.execute(
                "SELECT e.kind, e.key, e.state FROM ledger_entities e"
                " JOIN json_each(?) j ON e.kind = json_extract(j.value, '$[0]')"
                " AND e.key = json_extract(j.value, '$[1]')",
                (json.dumps(pairs[start : start + KEYS_PER_STATEMENT_MAX]),),
            )
            found.update(((row[0], row[1]), row[2]) for row in c.raw.fetchall())
        return found

    def close(self) -> None:
        self.datastore.close()


SCHEMA: tuple[str, ...] = SQLiteStore.schema()
SCHEMA_FINGERPRINT = SQLiteStore.fingerprint()

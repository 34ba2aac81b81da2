"""The embedded store: one SQLite file in WAL mode, written in ``BEGIN IMMEDIATE`` transactions.

Writers are serialised by SQLite's own write lock, so the ledger tip read inside a write
transaction is stable until commit: positions are gap-free and the hash chain cannot fork.
What is written once for both stores is in ``portable``; here is what SQLite does its own way:
its types, triggers, transactions, and lists bound as JSON (``json_each``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
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
from projections.store.base import LEDGER_TABLE, ChainedRow, ReopenSpec
from projections.store.cursors import Cursor, PortableSQLite, from_text, to_text
from projections.store.portable import (
    LEDGER_COLUMNS,
    ChainedRecorder,
    Clock,
    Dialect,
    SqlStore,
    insert_statement,
    json_list,
    json_pairs,
    ledger_params,
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
    in_pairs="JOIN json_each(?) j ON {0} = json_extract(j.value, '$[0]') AND {1} = json_extract(j.value, '$[1]')",
    list_param=json_list, pair_params=json_pairs, time_param=to_text, cursor=PortableSQLite,
    snapshot="",  # a deferred transaction in WAL mode always reads one snapshot
    texts_per_statement_max=KEYS_PER_STATEMENT_MAX, unlimited=-1,
    table_exists="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    quarantine_columns="SELECT name FROM pragma_table_info('quarantine')",
)

def append_only(table: str, stored: str, what: str) -> tuple[str, ...]:
    """Triggers refusing to update or delete a row of ``table``, and to insert one that meets a
    row the condition ``stored`` finds: INSERT OR REPLACE deletes the row it replaces without
    firing the delete trigger (recursive triggers are off)."""
    refuse = f"BEGIN SELECT RAISE(ABORT, '{table} is append-only"
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} {refuse}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} {refuse}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} WHEN {stored}"
        f" {refuse}: {what} is stored'); END",
    )


LEDGER_DDL = (
    ledger_table(TYPES, unique_position=" UNIQUE"),
    *append_only(
        "ledger_events", "EXISTS (SELECT 1 FROM ledger_events WHERE notification_id = NEW.notification_id)"
        " OR EXISTS (SELECT 1 FROM ledger_events WHERE originator_id = NEW.originator_id"
        " AND originator_version = NEW.originator_version)", "that position or event",
    ),
)
TRACKING_TABLE = "tracking"
TRACKING_DDL = (tracking_table(TYPES, TRACKING_TABLE), "INSERT OR IGNORE INTO tracking VALUES ('__migration__', 1)")
# Created after an older store's quarantine was chained (the upgrade updates its rows).
RECORD_TRIGGERS_DDL = tuple(
    statement
    for table in ("quarantine", "quarantine_links")
    for statement in append_only(table, f"EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)", "that id")  # noqa: S608  # constants
)

INSERT_LEDGER = insert_statement(LEDGER_TABLE, LEDGER_COLUMNS)
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

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = LEDGER_TABLE, **options: Any):
        super().__init__(datastore, events_table_name, **options)
        self.select_max_notification_id_statement = "SELECT MAX(notification_id) FROM ledger_events"

    def construct_create_table_statements(self) -> list[str]:
        return list(LEDGER_DDL)

    def lock_ledger(self, c: Cursor) -> None:
        """Nothing to do: every SQLite write transaction is ``BEGIN IMMEDIATE``."""

    def insert_rows(self, c: Cursor, rows: Sequence[ChainedRow]) -> None:
        text = {moment: to_text(moment) for moment in {r.recorded_at for r in rows}}  # few
        params = [ledger_params(r, text[r.recorded_at]) for r in rows]
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
    dialect, recorder_class = DIALECT, LedgerSQLiteRecorder
    ledger_ddl, tracking_ddl, record_triggers = LEDGER_DDL, TRACKING_DDL, RECORD_TRIGGERS_DDL
    tracking_table = TRACKING_TABLE

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

    @contextmanager
    def writing(self, lock_key: int | None = None, *, ledger_lock: bool = False) -> Iterator[Cursor]:
        """``BEGIN IMMEDIATE`` serialises every writer: no lock to take besides."""
        with write_transaction(self.datastore) as c:
            yield PortableSQLite(c)

    def reopen_spec(self) -> ReopenSpec | None:
        return None if self.path == ":memory:" else ReopenSpec("sqlite", SQLiteStore, os.path.abspath(self.path))


SCHEMA: tuple[str, ...] = SQLiteStore.schema()

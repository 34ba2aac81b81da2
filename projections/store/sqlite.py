"""The embedded store: one SQLite file in WAL mode, written in ``BEGIN IMMEDIATE`` transactions.

Writers are serialised by SQLite's own write lock, so the ledger tip read inside a write
transaction is stable until commit: positions are gap-free and the hash chain cannot fork.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent, Tracking
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)

from domain.errors import StoreUnavailable
from projections.store import quarantine_log
from projections.store.base import (
    LEDGER_TABLE,
    MONITOR_APPLICATION,
    ChainedRow,
    FindingFilter,
    FindingRow,
    MonitorSnapshot,
    NewEntry,
    QuarantinedLine,
    StoredEntry,
    Tip,
    chain_rows,
    queue_ddl,
    schema_fingerprint,
)
from projections.store.cursors import PortableSQLite, from_text, to_text

SQLITE_LOCK_TIMEOUT_S = 30
OPEN_ATTEMPTS_MAX, OPEN_RETRY_S = 20, 0.05


LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS ledger_events ("
    " originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
    " topic TEXT NOT NULL, state BLOB NOT NULL,"
    " notification_id INTEGER NOT NULL UNIQUE, recorded_at TEXT NOT NULL,"
    " chain_hash BLOB NOT NULL,"
    " PRIMARY KEY (originator_id, originator_version))",
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

CORE_DDL = (
    "CREATE TABLE IF NOT EXISTS regledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_entities ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (kind, key)) WITHOUT ROWID",
    # The quarantine and its links (domain.quarantine): records, chained, append-only.
    "CREATE TABLE IF NOT EXISTS quarantine ("
    " id INTEGER PRIMARY KEY, previous_id INTEGER NOT NULL, received_at TEXT NOT NULL,"
    " origin TEXT NOT NULL, line_no INTEGER, event_id TEXT, reasons TEXT NOT NULL,"
    " raw BLOB NOT NULL, chain_hash BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS quarantine_links ("
    " id INTEGER PRIMARY KEY, previous_id INTEGER NOT NULL, quarantine_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, event_id TEXT, related_id INTEGER, actor TEXT NOT NULL, reason TEXT,"
    " recorded_at TEXT NOT NULL, chain_hash BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS quarantine_links_line_idx ON quarantine_links (quarantine_id, id)",
    # The same line refused again is found by its bytes (projections.store.quarantine_log).
    "CREATE INDEX IF NOT EXISTS quarantine_raw_idx ON quarantine (raw)",
    "CREATE TABLE IF NOT EXISTS findings ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, finding_id TEXT NOT NULL UNIQUE,"
    " rule_id TEXT NOT NULL, severity TEXT NOT NULL, event_id TEXT NOT NULL,"
    " subject TEXT NOT NULL, occurred_at TEXT NOT NULL, detected_at TEXT NOT NULL,"
    " position INTEGER NOT NULL, message TEXT NOT NULL, parameters TEXT NOT NULL,"
    " evidence TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS findings_rule_idx ON findings (rule_id, seq)",
    "CREATE INDEX IF NOT EXISTS findings_subject_idx ON findings (subject, seq)",
    "CREATE TABLE IF NOT EXISTS monitor_state ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (kind, key)) WITHOUT ROWID",
    # eventsourcing's single-row tracking table, created here so that start-up is one transaction
    "CREATE TABLE IF NOT EXISTS tracking ("
    " application_name TEXT, notification_id INTEGER,"
    " PRIMARY KEY (application_name)) WITHOUT ROWID",
    "INSERT OR IGNORE INTO tracking VALUES ('__migration__', 1)",
)

# The audit trail's index (projections.audit): each event once with its filterable fields,
# each event under every subject it concerns, and the owners of ids (never changing).
AUDIT_DDL = (
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " position INTEGER PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL,"
    " source TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_events_recorded_idx ON audit_events (recorded_at, position)",
    "CREATE TABLE IF NOT EXISTS audit_subjects ("
    " subject TEXT NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,"
    " source TEXT NOT NULL, occurred_at TEXT NOT NULL,"
    " PRIMARY KEY (subject, position)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS audit_owners ("
    " kind TEXT NOT NULL, id TEXT NOT NULL, owners TEXT NOT NULL,"
    " PRIMARY KEY (kind, id)) WITHOUT ROWID",
)

# The case status read model (domain.cases), written with the case events it summarises.
CASES_DDL = (
    "CREATE TABLE IF NOT EXISTS finding_cases ("
    " finding_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, status TEXT NOT NULL,"
    " assignee TEXT, resolution TEXT, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,"
    " version INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS case_workflow ("
    " finding_id TEXT PRIMARY KEY, investigation_id TEXT, requested_by TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS case_workflow_investigation_idx ON case_workflow (investigation_id)",
)

# The notification outbox (projections.notify): one row per finding and channel, kept across
# rebuilds of the findings (it records what was sent to people, which no rebuild can undo),
# and each channel's position in the findings table.
NOTIFY_DDL = (
    "CREATE TABLE IF NOT EXISTS notify_outbox ("
    " channel TEXT NOT NULL, finding_id TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL, sent_at TEXT, last_error TEXT,"
    " PRIMARY KEY (channel, finding_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS notify_outbox_due_idx ON notify_outbox (sent_at, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS notify_positions ("
    " channel TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID",
)

# The officers' queue (projections.queue, its DDL in base.queue_ddl in this store's types).
QUEUE_DDL = queue_ddl("TEXT", "INTEGER", " WITHOUT ROWID")

# The monitor's state at each Hong Kong midnight (projections.monitor.snapshots): derived,
# written with the monitor's transaction, pruned to the newest few.
SNAPSHOTS_DDL = (
    "CREATE TABLE IF NOT EXISTS monitor_snapshots ("
    " position INTEGER PRIMARY KEY, records BLOB NOT NULL, record_count INTEGER NOT NULL,"
    " state_digest TEXT NOT NULL)",
)

# API tokens (ops/api): only the SHA-256 of a token is kept. A console session
# (projections.sessions) is opened with a token and keeps only the SHA-256 of its own id.
TOKENS_DDL = (
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    " token_hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
    " created_at TEXT NOT NULL, revoked_at TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS console_sessions ("
    " session_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL,"
    " opened_at TEXT NOT NULL, seen_at TEXT NOT NULL, closed_at TEXT) WITHOUT ROWID",
)

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
QUARANTINE_CHAIN_COLUMNS = (
    "ALTER TABLE quarantine ADD COLUMN previous_id INTEGER",
    "ALTER TABLE quarantine ADD COLUMN chain_hash BLOB",
)

# Every table of the store, ledger first. A feature adds its own tuple of additive,
# idempotent DDL (CREATE ... IF NOT EXISTS) and names it here; a store whose recorded
# fingerprint differs from this schema's is migrated on open.
TABLES_DDL = (*LEDGER_DDL, *CORE_DDL, *AUDIT_DDL, *CASES_DDL, *QUEUE_DDL, *TOKENS_DDL, *SNAPSHOTS_DDL, *NOTIFY_DDL)
SCHEMA: tuple[str, ...] = (*TABLES_DDL, *QUARANTINE_CHAIN_COLUMNS, *RECORD_TRIGGERS_DDL)
SCHEMA_FINGERPRINT = schema_fingerprint(SCHEMA)

INSERT_LEDGER = (
    "INSERT INTO ledger_events (originator_id, originator_version, topic, state,"
    " notification_id, recorded_at, chain_hash) VALUES (?,?,?,?,?,?,?)"
)
SELECT_TIP = (
    "SELECT notification_id, recorded_at, chain_hash FROM ledger_events"
    " ORDER BY notification_id DESC LIMIT 1"
)
SELECT_ENTRIES = (
    "SELECT notification_id, originator_id, topic, state, recorded_at, chain_hash, originator_version"
    " FROM ledger_events WHERE notification_id > ? ORDER BY notification_id LIMIT ?"
)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder with explicit gap-free notification ids,
    ``recorded_at`` and a hash chain. Positions are eventsourcing notification ids."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = LEDGER_TABLE):
        assert events_table_name == LEDGER_TABLE, "the ledger table name is fixed"
        super().__init__(datastore, events_table_name)
        self.select_max_notification_id_statement = (
            "SELECT MAX(notification_id) FROM ledger_events"
        )

    def construct_create_table_statements(self) -> list[str]:
        return list(LEDGER_DDL)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with write_transaction(self.datastore) as c:
            return self._insert_events(c, stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        entries = [
            (str(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events
        ]
        rows = self.append_rows(c, entries, kwargs.get("recorded_at") or datetime.now(UTC))
        return [row.position for row in rows]

    def append_rows(
        self, c: SQLiteCursor, entries: Sequence[tuple[str, int, str, bytes]], recorded_at: datetime
    ) -> list[ChainedRow]:
        rows = chain_rows(read_tip(c), entries, recorded_at)
        self.insert_rows(c, rows)
        return rows

    def insert_rows(self, c: SQLiteCursor, rows: Sequence[ChainedRow]) -> None:
        """Insert rows already numbered and hashed (by ``append_rows``, or by an import)."""
        text = {moment: to_text(moment) for moment in {r.recorded_at for r in rows}}  # few
        params = [
            (r.event_id, r.version, r.type, r.state, r.position, text[r.recorded_at], r.chain_hash)
            for r in rows
        ]
        try:
            c.executemany(INSERT_LEDGER, params)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(e) from e

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        low = 0 if start is None else (start if inclusive_of_start else start + 1)
        high = stop if stop is not None else 2**62
        params: list[Any] = [low, high]
        statement = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM ledger_events WHERE notification_id >= ? AND notification_id <= ?"
        )
        if topics:
            statement += " AND topic IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(topics)))
        statement += " ORDER BY notification_id LIMIT ?"
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]


def read_tip(c: SQLiteCursor) -> Tip:
    c.execute(SELECT_TIP)
    row = c.fetchone()
    if row is None:
        return Tip.empty()
    return Tip(row[0], bytes(row[2]), from_text(row[1]))


@contextmanager
def write_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """``BEGIN IMMEDIATE``: take the write lock first, so a read inside never goes stale."""
    with datastore.get_connection(commit=True) as conn:
        c = conn.cursor()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()


class SQLiteLedgerWriter:
    def __init__(self, c: SQLiteCursor, recorder: LedgerSQLiteRecorder):
        self.c = c
        self.recorder = recorder
        self.tip = read_tip(c)

    def existing(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        return self.existing_with(self.c, event_ids)

    @staticmethod
    def existing_with(c: SQLiteCursor, event_ids: Collection[str]) -> Mapping[str, bytes]:
        found: dict[str, bytes] = {}
        ids = list(event_ids)
        for start in range(0, len(ids), 500):
            c.execute(
                "SELECT originator_id, state FROM ledger_events"
                " WHERE originator_version = 1 AND originator_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids[start : start + 500]),),
            )
            found.update((row[0], bytes(row[1])) for row in c.fetchall())
        return found

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        return self.load_entities_with(self.c, keys)

    @staticmethod
    def load_entities_with(
        c: SQLiteCursor, keys: Collection[tuple[str, str]]
    ) -> Mapping[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        pairs = [list(k) for k in keys]
        for start in range(0, len(pairs), 500):
            c.execute(
                "SELECT e.kind, e.key, e.state FROM ledger_entities e"
                " JOIN json_each(?) j ON e.kind = json_extract(j.value, '$[0]')"
                " AND e.key = json_extract(j.value, '$[1]')",
                (json.dumps(pairs[start : start + 500]),),
            )
            found.update(((row[0], row[1]), row[2]) for row in c.fetchall())
        return found

    def append(self, entries: Sequence[NewEntry], recorded_at: datetime) -> list[ChainedRow]:
        rows = self.recorder.append_rows(
            self.c, [(e.event_id, 1, e.type, e.state) for e in entries], recorded_at
        )
        if rows:
            last = rows[-1]
            self.tip = Tip(last.position, last.chain_hash, last.recorded_at)
        return rows

    def import_rows(self, rows: Sequence[ChainedRow]) -> None:
        """Append rows exported from another store, keeping their positions, times and hashes."""
        self.recorder.insert_rows(self.c, rows)
        if rows:
            last = rows[-1]
            self.tip = Tip(last.position, last.chain_hash, last.recorded_at)

    def clear_entities(self) -> None:
        self.c.execute("DELETE FROM ledger_entities")

    def save_entities(self, changes: Sequence[tuple[str, str, str]]) -> None:
        self.c.executemany(
            "INSERT INTO ledger_entities (kind, key, state) VALUES (?,?,?)"
            " ON CONFLICT (kind, key) DO UPDATE SET state = excluded.state",
            changes,
        )

    def quarantine(self, lines: Sequence[QuarantinedLine], received_at: datetime) -> None:
        quarantine_log.append_lines(PortableSQLite(self.c), lines, received_at)


class SQLiteMonitorWriter:
    def __init__(self, c: SQLiteCursor, tracking: SQLiteTrackingRecorder):
        self.c = c
        self.tracking = tracking

    def tracked_position(self) -> int:
        return self.tracking._max_tracking_id(MONITOR_APPLICATION, self.c) or 0

    def record(
        self,
        findings: Sequence[Mapping[str, Any]],
        changes: Sequence[tuple[str, str, str | None]],
        position: int,
    ) -> None:
        self.c.executemany(
            "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject, occurred_at,"
            " detected_at, position, message, parameters, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    f["finding_id"], f["rule_id"], f["severity"], f["event_id"], f["subject"],
                    to_text(f["occurred_at"]), to_text(f["detected_at"]), f["position"],
                    f["message"], f["parameters"], f["evidence"],
                )
                for f in findings
            ],
        )
        upserts = [(k, key, s) for k, key, s in changes if s is not None]
        deletes = [(k, key) for k, key, s in changes if s is None]
        self.c.executemany(
            "INSERT INTO monitor_state (kind, key, state) VALUES (?,?,?)"
            " ON CONFLICT (kind, key) DO UPDATE SET state = excluded.state",
            upserts,
        )
        self.c.executemany("DELETE FROM monitor_state WHERE kind = ? AND key = ?", deletes)
        self.tracking._insert_tracking(self.c, Tracking(MONITOR_APPLICATION, position))

    def add_snapshots(self, snapshots: Sequence[MonitorSnapshot], kept: int) -> None:
        if not snapshots:
            return
        self.c.executemany(
            "INSERT INTO monitor_snapshots (position, records, record_count, state_digest)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (position) DO NOTHING",
            [(s.position, s.records, s.record_count, s.state_digest) for s in snapshots],
        )
        self.c.execute(
            "DELETE FROM monitor_snapshots WHERE position NOT IN"
            " (SELECT position FROM monitor_snapshots ORDER BY position DESC LIMIT ?)",
            (kept,),
        )


class SQLiteStore:
    kind: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self.datastore = self._open(path)
        self.recorder = LedgerSQLiteRecorder(self.datastore)
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

    # --- schema -----------------------------------------------------------------------------
    def migrate(self) -> None:
        with write_transaction(self.datastore) as c:
            for statement in TABLES_DDL:
                c.execute(statement)
            c.execute("PRAGMA table_info(quarantine)")
            columns = {row[1] for row in c.fetchall()}
            quarantine_log.upgrade(PortableSQLite(c), columns, QUARANTINE_CHAIN_COLUMNS, datetime.now(UTC))
            for statement in RECORD_TRIGGERS_DDL:
                c.execute(statement)
            c.execute(
                "INSERT INTO regledger_meta (key, value) VALUES ('schema', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SCHEMA_FINGERPRINT,),
            )

    def is_migrated(self) -> bool:
        """True when the store holds exactly this code's schema."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='regledger_meta'")
            if c.fetchone() is None:
                return False
            c.execute("SELECT value FROM regledger_meta WHERE key = 'schema'")
            row = c.fetchone()
            return row is not None and row[0] == SCHEMA_FINGERPRINT

    # --- transactions -------------------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[SQLiteLedgerWriter]:
        with write_transaction(self.datastore) as c:
            yield SQLiteLedgerWriter(c, self.recorder)

    @contextmanager
    def monitor_writer(self) -> Iterator[SQLiteMonitorWriter]:
        with write_transaction(self.datastore) as c:
            yield SQLiteMonitorWriter(c, self.tracking)

    # --- reads --------------------------------------------------------------------------------
    def tip(self) -> Tip:
        with self.datastore.transaction(commit=False) as c:
            return read_tip(c)

    def read_entries(self, after: int, limit: int) -> list[StoredEntry]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_ENTRIES, (after, limit))
            return [
                StoredEntry(r[0], r[1], r[2], bytes(r[3]), from_text(r[4]), bytes(r[5]), r[6])
                for r in c.fetchall()
            ]

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        with self.datastore.transaction(commit=False) as c:
            return SQLiteLedgerWriter.load_entities_with(c, keys)

    def stored_states(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        with self.datastore.transaction(commit=False) as c:
            return SQLiteLedgerWriter.existing_with(c, event_ids)

    def tracked_position(self, application: str = MONITOR_APPLICATION) -> int:
        return self.tracking.max_tracking_id(application) or 0

    def monitor_records(self) -> Iterator[tuple[str, str, str]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT kind, key, state FROM monitor_state ORDER BY kind, key")
            rows = c.fetchall()
        for row in rows:
            yield row[0], row[1], row[2]

    def monitor_snapshot(self, at_most: int) -> MonitorSnapshot | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT position, records, record_count, state_digest FROM monitor_snapshots"
                " WHERE position <= ? ORDER BY position DESC LIMIT 1",
                (at_most,),
            )
            row = c.fetchone()
        return None if row is None else MonitorSnapshot(row[0], bytes(row[1]), row[2], row[3])

    def findings(self, where: FindingFilter) -> list[FindingRow]:
        # Every filter is a fixed fragment whose value is bound as a parameter; a NULL
        # parameter switches its fragment off.
        statement = (
            "SELECT seq, finding_id, rule_id, severity, event_id, subject, occurred_at,"
            " detected_at, position, message, parameters, evidence FROM findings"
            " WHERE (? IS NULL OR rule_id IN (SELECT value FROM json_each(?)))"
            " AND (? IS NULL OR subject = ?)"
            " AND (? IS NULL OR occurred_at >= ?) AND (? IS NULL OR occurred_at <= ?)"
            " AND (? IS NULL OR COALESCE((SELECT c.status FROM finding_cases c"
            " WHERE c.finding_id = findings.finding_id), 'open') = ?)"
            " ORDER BY seq LIMIT ? OFFSET ?"
        )
        rules = json.dumps(list(where.rule_ids)) if where.rule_ids else None
        since = to_text(where.since) if where.since else None
        until = to_text(where.until) if where.until else None
        params = (
            rules, rules, where.subject, where.subject, since, since, until, until,
            where.case_status, where.case_status,
            -1 if where.limit is None else where.limit, where.offset,
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                FindingRow(
                    r[0], r[1], r[2], r[3], r[4], r[5], from_text(r[6]), from_text(r[7]),
                    r[8], r[9], r[10], r[11],
                )
                for r in c.fetchall()
            ]

    def quarantined(self, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            return quarantine_log.listed(PortableSQLite(c), limit, offset)

    def close(self) -> None:
        self.datastore.close()

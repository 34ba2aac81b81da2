"""The store written once for SQLite and PostgreSQL: every statement and the shape of every
transaction, on the portable cursors of ``projections.store.cursors`` (``?`` placeholders, rows
as tuples, instants converted).

The schema is in ``schema``, the writing side in ``writers``. A store module (``sqlite``,
``postgres``) subclasses ``SqlStore`` and ``writers.ChainedRecorder`` with only what differs:
connection set-up, transactions and locks, list parameters and bulk writes (JSON against
arrays, ``executemany`` against ``COPY``: ``bulk_insert``), the triggers, the type names and how
another process reopens the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from projections.store import eventsourcing_compat as compat
from projections.store import quarantine_log
from projections.store.base import (
    MONITOR_APPLICATION,
    ChainedRow,
    FindingFilter,
    FindingRow,
    MonitorSnapshot,
    ReopenSpec,
    StoredEntry,
    Tip,
    schema_fingerprint,
)
from projections.store.cursors import Cursor, instant
from projections.store.schema import Types, quarantine_chain_columns, tables_ddl
from projections.store.writers import (
    AlsoRecord,
    ChainedRecorder,
    Clock,
    SqlLedgerWriter,
    SqlMonitorWriter,
    no_clock,
    read_tip,
)

__all__ = [
    "AlsoRecord", "ChainedRecorder", "Clock", "Columns", "Dialect", "ReopenSpec", "SqlStore", "array_pairs",
    "insert_statement", "json_list", "json_pairs", "no_clock",
]

MIGRATION_LOCK_KEY = 0x7265676C65646772  # "regledgr": serialises concurrent migrations
MONITOR_LOCK_KEY = 0x7265676C6D6F6E69  # "reglmoni": serialises monitor transactions

SELECT_ENTRIES = (
    "SELECT notification_id, originator_id, topic, state, recorded_at, chain_hash, originator_version"
    " FROM ledger_events WHERE notification_id > ? ORDER BY notification_id LIMIT ?"
)
SELECT_RECORDS = "SELECT kind, key, state FROM monitor_state ORDER BY kind, key"
SELECT_SNAPSHOT = (
    "SELECT position, records, record_count, state_digest FROM monitor_snapshots"
    " WHERE position <= ? ORDER BY position DESC LIMIT 1"
)
# The two tables of (kind, key) -> state records.
UPSERT_RECORDS = {
    table: "INSERT INTO " + table + " (kind, key, state) VALUES (?,?,?)"  # noqa: S608  # constants
    " ON CONFLICT (kind, key) DO UPDATE SET state = excluded.state"
    for table in ("ledger_entities", "monitor_state")
}
DELETE_RECORDS = {table: "DELETE FROM " + table + " WHERE kind = ? AND key = ?" for table in UPSERT_RECORDS}  # noqa: S608  # constants
SELECT_ENTITIES = "SELECT e.kind, e.key, e.state FROM ledger_entities e"
SELECT_FINGERPRINT = "SELECT value FROM regledger_meta WHERE key = 'schema'"
SAVE_FINGERPRINT = (
    "INSERT INTO regledger_meta (key, value) VALUES ('schema', ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


# A table's columns for a bulk insert: (name, type), the type one of ``schema.Types``'
# fields for values (text, integer, blob, instant).
Columns = Sequence[tuple[str, str]]


LEDGER_COLUMNS: Columns = (
    ("originator_id", "text"), ("originator_version", "integer"), ("topic", "text"), ("state", "blob"),
    ("notification_id", "integer"), ("recorded_at", "instant"), ("chain_hash", "blob"),
)


def ledger_params(r: ChainedRow, recorded_at: Any) -> tuple[Any, ...]:
    """A chained row in ``LEDGER_COLUMNS``' order, its instant as the store keeps it."""
    return (r.event_id, r.version, r.type, r.state, r.position, recorded_at, r.chain_hash)


def insert_statement(table: str, columns: Columns, suffix: str = "") -> str:
    names, marks = ", ".join(name for name, _ in columns), ",".join("?" * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({marks}){suffix}"  # noqa: S608  # constants


def json_list(values: Sequence[Any]) -> str:
    """A list as one JSON parameter (SQLite's ``json_each(?)``)."""
    return json.dumps(list(values))


def json_pairs(pairs: Sequence[tuple[str, str]]) -> tuple[str]:
    return (json.dumps([list(pair) for pair in pairs]),)


def array_pairs(pairs: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Pairs as two arrays (PostgreSQL's ``unnest(?, ?)``)."""
    return ([first for first, _ in pairs], [second for _, second in pairs])


@dataclass(frozen=True, slots=True)
class Dialect:
    """What a statement written once needs to know of its store."""

    types: Types
    casts: Mapping[str, str]  # how a parameter of a type is written where the store must be told
    in_texts: str  # "is in the list of texts bound here" (``SqlStore.text_list``)
    in_pairs: str  # a join "({0}, {1}) is in the list of text pairs bound here" (``pair_params``)
    list_param: Callable[[Sequence[Any]], Any]  # a list as one parameter
    pair_params: Callable[[Sequence[tuple[str, str]]], Sequence[Any]]  # pairs as the parameters of in_pairs
    time_param: Callable[[datetime], Any]  # an instant as a parameter
    cursor: Callable[[Any], Cursor]  # the portable cursor over the driver's
    snapshot: str  # what makes a read transaction see one state of the store ("": it does anyway)
    texts_per_statement_max: int  # how many texts one list parameter may hold
    unlimited: int | None  # LIMIT's "no limit"
    table_exists: str  # a row when the table named by the parameter exists
    quarantine_columns: str  # the names of the quarantine table's columns (an older store's differ)

    def existing_statement(self) -> str:
        return "SELECT originator_id, state FROM ledger_events WHERE originator_version = 1 AND originator_id " + self.in_texts  # noqa: S608  # constants

    def findings_statement(self) -> str:
        # Every filter is a fixed fragment whose value is bound as a parameter; a NULL
        # parameter switches its fragment off.
        text, instant_, texts = self.casts["text"], self.casts["instant"], self.casts["texts"]
        return (
            "SELECT seq, finding_id, rule_id, severity, event_id, subject, occurred_at,"  # noqa: S608  # constants
            " detected_at, position, message, parameters, evidence FROM findings"
            f" WHERE (?{texts} IS NULL OR rule_id {self.in_texts})"
            f" AND (?{text} IS NULL OR subject = ?{text})"
            f" AND (?{instant_} IS NULL OR occurred_at >= ?{instant_})"
            f" AND (?{instant_} IS NULL OR occurred_at <= ?{instant_})"
            f" AND (?{text} IS NULL OR COALESCE((SELECT c.status FROM finding_cases c"
            f" WHERE c.finding_id = findings.finding_id), 'open') = ?{text})"
            " ORDER BY seq LIMIT ? OFFSET ?"
        )


class SqlStore:
    """A store: schema, transactions and reads written once over a store module's primitives."""

    kind: Literal["sqlite", "postgresql"]
    dialect: Dialect
    ledger_ddl: tuple[str, ...]  # the ledger table and its append-only triggers
    tracking_ddl: tuple[str, ...]  # eventsourcing's tracking table, made here: start-up is one transaction
    tracking_table: str  # its name
    record_triggers: tuple[str, ...]  # the quarantine's append-only triggers
    recorder_class: Any  # the store's ChainedRecorder
    recorder: Any  # a recorder_class
    datastore: Any  # eventsourcing's datastore
    tracking: compat.TrackingRecorder
    clock: Clock = staticmethod(no_clock)  # a plain callable, never bound

    # --- what a store module provides -------------------------------------------------------
    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Cursor]:
        """One read transaction; with ``snapshot`` every statement in it sees the same state."""
        with self.datastore.transaction(commit=False) as curs:
            if snapshot and self.dialect.snapshot:
                curs.execute(self.dialect.snapshot)
            yield self.dialect.cursor(curs)

    def writing(self, lock_key: int | None = None, *, ledger_lock: bool = False) -> AbstractContextManager[Cursor]:
        """One write transaction, serialised with the other writers holding ``lock_key`` (and
        with the ledger's writers with ``ledger_lock``)."""
        raise NotImplementedError

    def reopen_spec(self) -> ReopenSpec | None:
        """How another process opens this store; None when none can (SQLite ``:memory:``)."""
        raise NotImplementedError

    def bulk_insert(self, c: Cursor, table: str, columns: Columns, rows: Sequence[Sequence[Any]], *, suffix: str = "") -> None:
        """Insert ``rows`` (instants already as ``c.time`` gives them), ``suffix`` ending the
        row-by-row statement (``ON CONFLICT DO NOTHING``). A store may write them in bulk its own
        way (``COPY``): callers pass only rows that cannot conflict there."""
        c.executemany(insert_statement(table, columns, suffix), rows)

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """After a bulk load, for a planner that needs it told (SQLite's is left as it is)."""

    def upsert_records(self, c: Cursor, table: str, states: Mapping[tuple[str, str], str]) -> None:
        """Set the state of each (kind, key) of ``table`` (ledger_entities, monitor_state); a
        store may do it in bulk its own way."""
        c.executemany(UPSERT_RECORDS[table], [(kind, key, state) for (kind, key), state in states.items()])

    def delete_records(self, c: Cursor, table: str, keys: Sequence[tuple[str, str]]) -> None:
        c.executemany(DELETE_RECORDS[table], keys)

    def ledger_recorder(self, also: AlsoRecord | None = None) -> Any:
        """A ledger recorder on this store that runs ``also`` in each append's transaction."""
        return self.recorder_class(self.datastore, clock=self.clock, also=also, writing=self.writing)

    def close(self) -> None:
        self.datastore.close()

    def rows_with_pairs(
        self, c: Cursor, select: str, columns: tuple[str, str], pairs: Collection[tuple[str, str]],
        pairs_per_statement_max: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """The rows of ``select`` whose ``columns`` are one of ``pairs`` (``Dialect.in_pairs``),
        in statements of bounded lists (of the dialect's bound, or a lower one that keeps a plan)."""
        statement, found = f"{select} {self.dialect.in_pairs.format(*columns)}", []
        ordered, dialect_max = list(pairs), self.dialect.texts_per_statement_max
        step = min(pairs_per_statement_max or dialect_max, dialect_max)
        for start in range(0, len(ordered), step):
            c.execute(statement, self.dialect.pair_params(ordered[start : start + step]))
            found.extend(c.fetchall())
        return found

    def load_entities_with(self, c: Cursor, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        return {(r[0], r[1]): r[2] for r in self.rows_with_pairs(c, SELECT_ENTITIES, ("e.kind", "e.key"), keys)}

    # --- the schema ---------------------------------------------------------------------------
    @classmethod
    def schema(cls) -> tuple[str, ...]:
        """Every statement of the schema: its fingerprint identifies it."""
        return (*cls.tables_ddl(), *quarantine_chain_columns(cls.dialect.types), *cls.record_triggers)

    @classmethod
    def tables_ddl(cls) -> tuple[str, ...]:
        return tables_ddl(cls.dialect.types, cls.ledger_ddl, cls.tracking_ddl)

    @classmethod
    def fingerprint(cls) -> str:
        return schema_fingerprint(cls.schema())

    def migrate(self) -> None:
        from projections.audit.days import CLOCK_TABLE, DAYS_TABLE, mark_unsummarised, seed_clock
        from projections.audit.storage import AUDIT_APPLICATION

        with self.writing(MIGRATION_LOCK_KEY) as c:
            c.execute(self.dialect.table_exists, (DAYS_TABLE,))
            days_added = c.fetchone() is None
            c.execute(self.dialect.table_exists, (CLOCK_TABLE,))
            clock_added = c.fetchone() is None
            for statement in self.tables_ddl():
                c.execute(statement)
            if clock_added:  # one pass over the audit index, once: what it holds so far
                seed_clock(c)
            if days_added:  # an audit index built before the table: it counts none of its events
                c.execute(self.select_tracked, (AUDIT_APPLICATION,))
                row = c.fetchone()
                mark_unsummarised(c, int(row[0] or 0) if row else 0)
            c.execute(self.dialect.quarantine_columns)
            columns = {row[0] for row in c.fetchall()}
            quarantine_log.upgrade(c, columns, quarantine_chain_columns(self.dialect.types), self.clock)
            for statement in self.record_triggers:
                c.execute(statement)
            c.execute(SAVE_FINGERPRINT, (self.fingerprint(),))

    def is_migrated(self) -> bool:
        """True when the store holds exactly this code's schema."""
        with self.reading() as c:
            c.execute(self.dialect.table_exists, ("regledger_meta",))
            if c.fetchone() is None:
                return False
            c.execute(SELECT_FINGERPRINT)
            row = c.fetchone()
            return row is not None and row[0] == self.fingerprint()

    @property
    def select_tracked(self) -> str:
        """A projection's position (its application name the parameter), read in a transaction."""
        return f"SELECT MAX(notification_id) FROM {self.tracking_table} WHERE application_name = ?"  # noqa: S608  # constants

    @property
    def forget_tracked(self) -> str:
        return f"DELETE FROM {self.tracking_table} WHERE application_name = ?"  # noqa: S608  # constants

    # --- transactions -------------------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[SqlLedgerWriter]:
        with self.writing() as c:
            yield SqlLedgerWriter(c, self)

    @contextmanager
    def monitor_writer(self) -> Iterator[SqlMonitorWriter]:
        # One monitor at a time: a second one waits for the lock, then sees the first one's
        # position. (A lock on the tracking row would lock nothing before the first is written.)
        with self.writing(MONITOR_LOCK_KEY) as c:
            yield SqlMonitorWriter(c, self)

    # --- reads --------------------------------------------------------------------------------
    def tip(self) -> Tip:
        with self.reading() as c:
            return read_tip(c)

    def read_entries(self, after: int, limit: int) -> list[StoredEntry]:
        with self.reading() as c:
            c.execute(SELECT_ENTRIES, (after, limit))
            return [
                StoredEntry(r[0], r[1], r[2], bytes(r[3]), instant(r[4]), bytes(r[5]), r[6]) for r in c.fetchall()
            ]

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        with self.reading() as c:
            return self.load_entities_with(c, keys)

    def stored_states(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        with self.reading() as c:
            return self.existing_with(c, event_ids)

    def tracked_position(self, application: str = MONITOR_APPLICATION) -> int:
        return self.tracking.max_tracking_id(application) or 0

    def monitor_records(self) -> Iterator[tuple[str, str, str]]:
        with self.reading() as c:
            c.execute(SELECT_RECORDS)
            rows = c.fetchall()
        for row in rows:
            yield row[0], row[1], row[2]

    def monitor_snapshot(self, at_most: int) -> MonitorSnapshot | None:
        with self.reading() as c:
            c.execute(SELECT_SNAPSHOT, (at_most,))
            row = c.fetchone()
        return None if row is None else MonitorSnapshot(row[0], bytes(row[1]), row[2], row[3])

    def text_list(self, values: Sequence[str]) -> Any:
        """A list of texts as one parameter (``Dialect.in_texts``)."""
        return self.dialect.list_param(values)

    def existing_with(self, c: Cursor, event_ids: Collection[str]) -> Mapping[str, bytes]:
        """The stored state of each event id already in the ledger."""
        found: dict[str, bytes] = {}
        ids, step = list(event_ids), self.dialect.texts_per_statement_max
        for start in range(0, len(ids), step):
            c.execute(self.dialect.existing_statement(), (self.text_list(ids[start : start + step]),))
            found.update((row[0], bytes(row[1])) for row in c.fetchall())
        return found

    def findings(self, where: FindingFilter) -> list[FindingRow]:
        with self.reading() as c:
            rules = self.text_list(list(where.rule_ids)) if where.rule_ids else None
            since, until = c.time(where.since), c.time(where.until)
            limit = self.dialect.unlimited if where.limit is None else where.limit
            c.execute(self.dialect.findings_statement(), (
                rules, rules, where.subject, where.subject, since, since, until, until,
                where.case_status, where.case_status, limit, where.offset,
            ))
            return [
                FindingRow(r[0], r[1], r[2], r[3], r[4], r[5], instant(r[6]), instant(r[7]), r[8], r[9], r[10], r[11])
                for r in c.fetchall()
            ]

    def quarantined(self, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.reading() as c:
            return quarantine_log.listed(c, limit, offset)

"""The production store: PostgreSQL through psycopg 3 and its pool (eventsourcing's datastore).

Every ledger write takes eventsourcing's ``LOCK TABLE ... IN EXCLUSIVE MODE`` first, so the
tip read inside the transaction is stable until commit: positions are gap-free, commit order
is position order, and the hash chain cannot fork. Schema changes run under an advisory lock,
so several workers starting at once do not race on DDL. What is written once for both stores
is in ``portable``; here is what PostgreSQL does its own way: its types and triggers, advisory
locks, binary ``COPY`` and ``NOTIFY``, and lists bound as binary arrays.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresTrackingRecorder,
)
from psycopg.sql import SQL, Composed, Identifier

from domain.errors import StoreUnavailable
from projections.store import eventsourcing_compat as compat
from projections.store.base import LEDGER_TABLE, ChainedRow, ReopenSpec
from projections.store.cursors import Cursor, PortablePostgres
from projections.store.portable import (
    LEDGER_COLUMNS,
    MIGRATION_LOCK_KEY,
    MONITOR_LOCK_KEY,
    ChainedRecorder,
    Clock,
    Columns,
    Dialect,
    SqlStore,
    array_pairs,
    ledger_params,
    no_clock,
)
from projections.store.schema import Types, ledger_table, tracking_table

__all__ = ["MIGRATION_LOCK_KEY", "MONITOR_LOCK_KEY", "LedgerPostgresRecorder", "PostgresStore"]

LOCK_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 5.0
TRACKING_TABLE = "notification_tracking"

TYPES = Types(
    text="text", integer="bigint", blob="bytea", instant="timestamptz",
    serial_key="bigserial PRIMARY KEY", without_rowid="", raw_index="USING hash ",  # a B-tree entry cannot hold 4 KiB
)
# Lists travel as binary arrays (``%b``): psycopg's text-format array dumper escapes each
# element in Python and cost more than the statements themselves.
DIALECT = Dialect(
    TYPES, casts={"text": "::text", "instant": "::timestamptz", "texts": "::text[]"},
    in_texts="= ANY(%b::text[])", texts_per_statement_max=100_000, unlimited=None,
    # Pairs as text arrays: bound binary, the audit owners' lookup measured 4-6 % slower.
    in_pairs="JOIN unnest(?::text[], ?::text[]) AS j(kind, key) ON {0} = j.kind AND {1} = j.key",
    list_param=list, pair_params=array_pairs, time_param=lambda moment: moment, cursor=PortablePostgres,
    snapshot="SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    table_exists="SELECT 1 WHERE to_regclass(?) IS NOT NULL",
    quarantine_columns="SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = 'quarantine'",
)

LEDGER_DDL = (
    ledger_table(TYPES, unique_position=""),
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_events_notification_id_idx"
    " ON ledger_events (notification_id)",
    "CREATE OR REPLACE FUNCTION regledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    "CREATE OR REPLACE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE"
    " ON ledger_events FOR EACH ROW EXECUTE FUNCTION regledger_refuse_change()",
    "CREATE OR REPLACE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE"
    " ON ledger_events FOR EACH STATEMENT EXECUTE FUNCTION regledger_refuse_change()",
)
TRACKING_DDL = (
    tracking_table(TYPES, TRACKING_TABLE),
    "INSERT INTO notification_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING",
)
# Created after an older store's quarantine was chained (the upgrade updates its rows). An
# INSERT ... ON CONFLICT DO UPDATE fires the update trigger, so it is refused too.
RECORD_TRIGGERS_DDL = tuple(
    statement
    for table in ("quarantine", "quarantine_links")
    for statement in (
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE"
        f" ON {table} FOR EACH ROW EXECUTE FUNCTION regledger_refuse_change()",
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION regledger_refuse_change()",
    )
)

COPY_TYPES = {"text": "text", "integer": "int8", "blob": "bytea", "instant": "timestamptz"}


@functools.cache
def copy_statement(table: str, columns: tuple[tuple[str, str], ...]) -> tuple[Composed, list[str]]:
    names = SQL(", ").join(Identifier(name) for name, _ in columns)
    statement = SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(Identifier(table), names)
    return statement, [COPY_TYPES[kind] for _, kind in columns]


def copy_rows(curs: Any, table: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
    """Binary ``COPY``: the fast path of a bulk insert, for rows that cannot conflict."""
    statement, types = copy_statement(table, tuple(columns))
    with curs.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


class LedgerPostgresRecorder(ChainedRecorder, PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder on the chained ledger (``ChainedRecorder``),
    written with binary ``COPY``."""

    def __init__(self, datastore: PostgresDatastore, **options: Any):
        super().__init__(datastore, **options)
        self.sql_create_statements = [SQL(s) for s in LEDGER_DDL]  # type: ignore[misc]  # literal DDL

    def lock_ledger(self, c: Cursor) -> None:
        compat.lock_events_table(self, c.raw)

    def insert_rows(self, c: Cursor, rows: Sequence[ChainedRow]) -> None:
        if not rows:
            return
        compat.notify_subscribers(self, c.raw)
        try:
            copy_rows(c.raw, LEDGER_TABLE, LEDGER_COLUMNS, (ledger_params(r, r.recorded_at) for r in rows))
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(str(e)) from e


def ensure_database(conninfo: Mapping[str, Any]) -> None:
    """Create the database named in the URL when it does not exist yet (first write)."""
    admin = {**conninfo, "dbname": "postgres", "connect_timeout": int(CONNECT_TIMEOUT_S)}
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (conninfo["dbname"],)).fetchone()
        if exists is None:
            # Another worker may create it first.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(SQL("CREATE DATABASE {}").format(Identifier(conninfo["dbname"])))


class PostgresStore(SqlStore):
    kind: Literal["sqlite", "postgresql"] = "postgresql"
    dialect, recorder_class = DIALECT, LedgerPostgresRecorder
    ledger_ddl, tracking_ddl, record_triggers = LEDGER_DDL, TRACKING_DDL, RECORD_TRIGGERS_DDL
    tracking_table = TRACKING_TABLE

    def __init__(self, url: str, *, create: bool = False, pool_size: int = 2, clock: Clock = no_clock):
        params: dict[str, Any] = dict(psycopg.conninfo.conninfo_to_dict(url))
        params.setdefault("dbname", params.get("user") or "postgres")
        params.setdefault("user", "postgres")
        self.conninfo = params
        self.clock = clock
        try:
            if create:
                ensure_database(params)
            psycopg.connect(**params, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoreUnavailable(f"cannot reach PostgreSQL: {reason}") from e
        self.datastore = PostgresDatastore(
            dbname=str(params["dbname"]), host=str(params.get("host", "")), port=str(params.get("port", "5432")),
            user=str(params["user"]), password=str(params.get("password", "")),
            connect_timeout=CONNECT_TIMEOUT_S, pool_size=pool_size, max_overflow=2, lock_timeout=LOCK_TIMEOUT_S,
            originator_id_type="text", pre_ping=True,
        )
        self.recorder = self.ledger_recorder()
        self.tracking = PostgresTrackingRecorder(self.datastore, tracking_table_name=TRACKING_TABLE)

    @contextmanager
    def writing(self, lock_key: int | None = None, *, ledger_lock: bool = False) -> Iterator[Cursor]:
        """``lock_key`` takes a transaction advisory lock that serialises the writers of one
        projection, ``ledger_lock`` the ledger's own lock (no append, no case action meanwhile)."""
        with self.datastore.transaction(commit=True) as curs:
            if ledger_lock:
                compat.lock_events_table(self.recorder, curs)
            if lock_key is not None:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
            yield PortablePostgres(curs)

    def reopen_spec(self) -> ReopenSpec | None:
        conninfo = psycopg.conninfo.make_conninfo(**self.conninfo)
        return ReopenSpec("postgresql", PostgresStore, conninfo, {"pool_size": 1})

    def bulk_insert(self, c: Cursor, table: str, columns: Columns, rows: Sequence[Sequence[Any]], *, suffix: str = "") -> None:
        if rows:
            copy_rows(c.raw, table, columns, rows)

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        with self.writing() as c:
            c.raw.execute(SQL("ANALYZE {}").format(SQL(", ").join(Identifier(table) for table in tables)))

    def upsert_records(self, c: Cursor, table: str, states: Mapping[tuple[str, str], str]) -> None:
        if states:
            c.raw.execute(
                SQL("INSERT INTO {} (kind, key, state) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
                    " ON CONFLICT (kind, key) DO UPDATE SET state = EXCLUDED.state").format(Identifier(table)),
                ([k for k, _ in states], [i for _, i in states], list(states.values())),
            )

    def delete_records(self, c: Cursor, table: str, keys: Sequence[tuple[str, str]]) -> None:
        if keys:
            c.raw.execute(
                SQL("DELETE FROM {} m USING unnest(%b::text[], %b::text[]) AS d(kind, key)"
                    " WHERE m.kind = d.kind AND m.key = d.key").format(Identifier(table)),
                ([k for k, _ in keys], [i for _, i in keys]),
            )


SCHEMA: tuple[str, ...] = PostgresStore.schema()

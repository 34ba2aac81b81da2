"""The production store: PostgreSQL through psycopg 3 and its pool (eventsourcing's datastore).

Every ledger write takes eventsourcing's ``LOCK TABLE ... IN EXCLUSIVE MODE`` first, so the
tip read inside the transaction is stable until commit: positions are gap-free, commit order
is position order, and the hash chain cannot fork. Schema changes run under an advisory lock,
so several workers starting at once do not race on DDL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresTrackingRecorder,
)
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

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
from projections.store.cursors import PortablePostgres

MIGRATION_LOCK_KEY = 0x7265676C65646772  # "regledgr": serialises concurrent migrations
MONITOR_LOCK_KEY = 0x7265676C6D6F6E69  # "reglmoni": serialises monitor transactions
LOCK_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 5.0
TRACKING_TABLE = "notification_tracking"

LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS ledger_events ("
    " originator_id text NOT NULL, originator_version bigint NOT NULL,"
    " topic text NOT NULL, state bytea NOT NULL,"
    " notification_id bigint NOT NULL, recorded_at timestamptz NOT NULL,"
    " chain_hash bytea NOT NULL,"
    " PRIMARY KEY (originator_id, originator_version))",
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_events_notification_id_idx"
    " ON ledger_events (notification_id)",
    "CREATE OR REPLACE FUNCTION regledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    "CREATE OR REPLACE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE"
    " ON ledger_events FOR EACH ROW EXECUTE FUNCTION regledger_refuse_change()",
    "CREATE OR REPLACE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE"
    " ON ledger_events FOR EACH STATEMENT EXECUTE FUNCTION regledger_refuse_change()",
)

CORE_DDL = (
    "CREATE TABLE IF NOT EXISTS regledger_meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_entities ("
    " kind text NOT NULL, key text NOT NULL, state text NOT NULL, PRIMARY KEY (kind, key))",
    # The quarantine and its links (domain.quarantine): records, chained, append-only.
    "CREATE TABLE IF NOT EXISTS quarantine ("
    " id bigint PRIMARY KEY, previous_id bigint NOT NULL, received_at timestamptz NOT NULL,"
    " origin text NOT NULL, line_no bigint, event_id text, reasons text NOT NULL,"
    " raw bytea NOT NULL, chain_hash bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS quarantine_links ("
    " id bigint PRIMARY KEY, previous_id bigint NOT NULL, quarantine_id bigint NOT NULL,"
    " kind text NOT NULL, event_id text, related_id bigint, actor text NOT NULL, reason text,"
    " recorded_at timestamptz NOT NULL, chain_hash bytea NOT NULL)",
    "CREATE INDEX IF NOT EXISTS quarantine_links_line_idx ON quarantine_links (quarantine_id, id)",
    # The same line refused again is found by its bytes (projections.store.quarantine_log);
    # hashed, since a B-tree entry cannot hold a 4 KiB line.
    "CREATE INDEX IF NOT EXISTS quarantine_raw_idx ON quarantine USING hash (raw)",
    "CREATE TABLE IF NOT EXISTS findings ("
    " seq bigserial PRIMARY KEY, finding_id text NOT NULL UNIQUE,"
    " rule_id text NOT NULL, severity text NOT NULL, event_id text NOT NULL,"
    " subject text NOT NULL, occurred_at timestamptz NOT NULL,"
    " detected_at timestamptz NOT NULL, position bigint NOT NULL, message text NOT NULL,"
    " parameters text NOT NULL, evidence text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS findings_rule_idx ON findings (rule_id, seq)",
    "CREATE INDEX IF NOT EXISTS findings_subject_idx ON findings (subject, seq)",
    "CREATE TABLE IF NOT EXISTS monitor_state ("
    " kind text NOT NULL, key text NOT NULL, state text NOT NULL, PRIMARY KEY (kind, key))",
    # eventsourcing's single-row tracking table, created here so that start-up is one transaction
    "CREATE TABLE IF NOT EXISTS notification_tracking ("
    " application_name text, notification_id bigint, PRIMARY KEY (application_name))",
    "INSERT INTO notification_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING",
)

# The audit trail's index (projections.audit): each event once with its filterable fields,
# each event under every subject it concerns, and the owners of ids (never changing).
AUDIT_DDL = (
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " position bigint PRIMARY KEY, event_id text NOT NULL, type text NOT NULL,"
    " source text NOT NULL, occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_events_recorded_idx ON audit_events (recorded_at, position)",
    "CREATE TABLE IF NOT EXISTS audit_subjects ("
    " subject text NOT NULL, position bigint NOT NULL, type text NOT NULL,"
    " source text NOT NULL, occurred_at timestamptz NOT NULL, PRIMARY KEY (subject, position))",
    "CREATE TABLE IF NOT EXISTS audit_owners ("
    " kind text NOT NULL, id text NOT NULL, owners text NOT NULL, PRIMARY KEY (kind, id))",
)

# The case status read model (domain.cases), written with the case events it summarises.
CASES_DDL = (
    "CREATE TABLE IF NOT EXISTS finding_cases ("
    " finding_id text PRIMARY KEY, case_id text NOT NULL, status text NOT NULL,"
    " assignee text, resolution text, updated_at timestamptz NOT NULL,"
    " updated_by text NOT NULL, version bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS case_workflow ("
    " finding_id text PRIMARY KEY, investigation_id text, requested_by text)",
    "CREATE INDEX IF NOT EXISTS case_workflow_investigation_idx ON case_workflow (investigation_id)",
)

# The notification outbox (projections.notify): one row per finding and channel, kept across
# rebuilds of the findings (it records what was sent to people, which no rebuild can undo),
# and each channel's position in the findings table.
NOTIFY_DDL = (
    "CREATE TABLE IF NOT EXISTS notify_outbox ("
    " channel text NOT NULL, finding_id text NOT NULL, seq bigint NOT NULL, payload text NOT NULL,"
    " attempts bigint NOT NULL, next_attempt_at timestamptz NOT NULL, sent_at timestamptz, last_error text,"
    " PRIMARY KEY (channel, finding_id))",
    "CREATE INDEX IF NOT EXISTS notify_outbox_due_idx ON notify_outbox (sent_at, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS notify_positions ("
    " channel text PRIMARY KEY, seq bigint NOT NULL)",
)

# The officers' queue (projections.queue, its DDL in base.queue_ddl in this store's types).
QUEUE_DDL = queue_ddl("text", "bigint", "")

# The monitor's state at each Hong Kong midnight (projections.monitor.snapshots): derived,
# written with the monitor's transaction, pruned to the newest few.
SNAPSHOTS_DDL = (
    "CREATE TABLE IF NOT EXISTS monitor_snapshots ("
    " position BIGINT PRIMARY KEY, records BYTEA NOT NULL, record_count INTEGER NOT NULL,"
    " state_digest TEXT NOT NULL)",
)

# API tokens (ops/api): only the SHA-256 of a token is kept. A console session
# (projections.sessions) is opened with a token and keeps only the SHA-256 of its own id.
TOKENS_DDL = (
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    " token_hash text PRIMARY KEY, name text NOT NULL UNIQUE, role text NOT NULL,"
    " created_at timestamptz NOT NULL, revoked_at timestamptz)",
    "CREATE TABLE IF NOT EXISTS console_sessions ("
    " session_hash text PRIMARY KEY, token_hash text NOT NULL,"
    " opened_at timestamptz NOT NULL, seen_at timestamptz NOT NULL, closed_at timestamptz)",
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
QUARANTINE_CHAIN_COLUMNS = (
    "ALTER TABLE quarantine ADD COLUMN previous_id bigint",
    "ALTER TABLE quarantine ADD COLUMN chain_hash bytea",
)

# Every table of the store, ledger first. A feature adds its own tuple of additive,
# idempotent DDL (CREATE ... IF NOT EXISTS) and names it here; a store whose recorded
# fingerprint differs from this schema's is migrated on open.
TABLES_DDL = (*LEDGER_DDL, *CORE_DDL, *AUDIT_DDL, *CASES_DDL, *QUEUE_DDL, *TOKENS_DDL, *SNAPSHOTS_DDL, *NOTIFY_DDL)
SCHEMA: tuple[str, ...] = (*TABLES_DDL, *QUARANTINE_CHAIN_COLUMNS, *RECORD_TRIGGERS_DDL)
SCHEMA_FINGERPRINT = schema_fingerprint(SCHEMA)

COPY_LEDGER = SQL(
    "COPY ledger_events (originator_id, originator_version, topic, state,"
    " notification_id, recorded_at, chain_hash) FROM STDIN (FORMAT BINARY)"
)
COPY_TYPES = ("text", "int8", "text", "bytea", "int8", "timestamptz", "bytea")
SELECT_TIP = SQL(
    "SELECT notification_id, recorded_at, chain_hash FROM ledger_events"
    " ORDER BY notification_id DESC LIMIT 1"
)


def read_tip(curs: Cursor[DictRow]) -> Tip:
    curs.execute(SELECT_TIP)
    row = curs.fetchone()
    if row is None:
        return Tip.empty()
    return Tip(row["notification_id"], bytes(row["chain_hash"]), row["recorded_at"])


# Lists travel as binary arrays (``%b``): psycopg's text-format array dumper escapes each
# element in Python and cost more than the statements themselves.


def existing_with(curs: Cursor[DictRow], event_ids: Collection[str]) -> Mapping[str, bytes]:
    curs.execute(
        "SELECT originator_id, state FROM ledger_events"
        " WHERE originator_id = ANY(%b::text[]) AND originator_version = 1",
        (list(event_ids),),
    )
    return {row["originator_id"]: bytes(row["state"]) for row in curs.fetchall()}


def load_entities_with(
    curs: Cursor[DictRow], keys: Collection[tuple[str, str]]
) -> Mapping[tuple[str, str], str]:
    curs.execute(
        "SELECT e.kind, e.key, e.state FROM ledger_entities e"
        " JOIN unnest(%b::text[], %b::text[]) AS k(kind, key)"
        " ON e.kind = k.kind AND e.key = k.key",
        ([k for k, _ in keys], [i for _, i in keys]),
    )
    return {(row["kind"], row["key"]): row["state"] for row in curs.fetchall()}


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder with explicit gap-free notification ids,
    ``recorded_at`` and a hash chain, written with binary ``COPY``."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = LEDGER_TABLE):
        assert events_table_name == LEDGER_TABLE, "the ledger table name is fixed"
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements = [SQL(s) for s in LEDGER_DDL]  # type: ignore[misc]  # literal DDL

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as curs:
            entries = [
                (str(s.originator_id), s.originator_version, s.topic, s.state)
                for s in stored_events
            ]
            rows = self.append_rows(curs, entries, kwargs.get("recorded_at") or datetime.now(UTC))
            return [row.position for row in rows]

    def append_rows(
        self,
        curs: Cursor[DictRow],
        entries: Sequence[tuple[str, int, str, bytes]],
        recorded_at: datetime,
    ) -> list[ChainedRow]:
        self._lock_table(curs)
        rows = chain_rows(read_tip(curs), entries, recorded_at)
        self.insert_rows(curs, rows)
        return rows

    def insert_rows(self, curs: Cursor[DictRow], rows: Sequence[ChainedRow]) -> None:
        """Insert rows already numbered and hashed (by ``append_rows``, or by an import)."""
        if not rows:
            return
        self._notify_channel(curs)
        try:
            with curs.copy(COPY_LEDGER) as copy:
                copy.set_types(COPY_TYPES)
                for r in rows:
                    copy.write_row(
                        (r.event_id, r.version, r.type, r.state, r.position, r.recorded_at, r.chain_hash)
                    )
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(str(e)) from e


class PostgresLedgerWriter:
    def __init__(self, curs: Cursor[DictRow], recorder: LedgerPostgresRecorder):
        self.curs = curs
        self.recorder = recorder
        recorder._lock_table(curs)
        self.tip = read_tip(curs)

    def existing(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        return existing_with(self.curs, event_ids)

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        return load_entities_with(self.curs, keys)

    def append(self, entries: Sequence[NewEntry], recorded_at: datetime) -> list[ChainedRow]:
        rows = self.recorder.append_rows(
            self.curs, [(e.event_id, 1, e.type, e.state) for e in entries], recorded_at
        )
        if rows:
            last = rows[-1]
            self.tip = Tip(last.position, last.chain_hash, last.recorded_at)
        return rows

    def import_rows(self, rows: Sequence[ChainedRow]) -> None:
        """Append rows exported from another store, keeping their positions, times and hashes."""
        self.recorder.insert_rows(self.curs, rows)
        if rows:
            last = rows[-1]
            self.tip = Tip(last.position, last.chain_hash, last.recorded_at)

    def clear_entities(self) -> None:
        self.curs.execute("DELETE FROM ledger_entities")

    def save_entities(self, changes: Sequence[tuple[str, str, str]]) -> None:
        latest = {(kind, key): state for kind, key, state in changes}
        if not latest:
            return
        self.curs.execute(
            "INSERT INTO ledger_entities (kind, key, state)"
            " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
            " ON CONFLICT (kind, key) DO UPDATE SET state = EXCLUDED.state",
            ([k for k, _ in latest], [i for _, i in latest], list(latest.values())),
        )

    def quarantine(self, lines: Sequence[QuarantinedLine], received_at: datetime) -> None:
        quarantine_log.append_lines(PortablePostgres(self.curs), lines, received_at)


class PostgresMonitorWriter:
    def __init__(self, curs: Cursor[DictRow], tracking: PostgresTrackingRecorder):
        self.curs = curs
        self.tracking = tracking
        # One monitor at a time: a second one waits here, then sees the first one's position.
        # (A lock on the tracking row would lock nothing before the first one is written.)
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (MONITOR_LOCK_KEY,))

    def tracked_position(self) -> int:
        return self.tracking._max_tracking_id(MONITOR_APPLICATION, self.curs) or 0

    def record(
        self,
        findings: Sequence[Mapping[str, Any]],
        changes: Sequence[tuple[str, str, str | None]],
        position: int,
    ) -> None:
        if findings:
            self.curs.executemany(
                "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject,"
                " occurred_at, detected_at, position, message, parameters, evidence)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        f["finding_id"], f["rule_id"], f["severity"], f["event_id"], f["subject"],
                        f["occurred_at"], f["detected_at"], f["position"], f["message"],
                        f["parameters"], f["evidence"],
                    )
                    for f in findings
                ],
            )
        latest = {(kind, key): state for kind, key, state in changes}
        upserts = {k: s for k, s in latest.items() if s is not None}
        deletes = [k for k, s in latest.items() if s is None]
        if upserts:
            self.curs.execute(
                "INSERT INTO monitor_state (kind, key, state)"
                " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
                " ON CONFLICT (kind, key) DO UPDATE SET state = EXCLUDED.state",
                ([k for k, _ in upserts], [i for _, i in upserts], list(upserts.values())),
            )
        if deletes:
            self.curs.execute(
                "DELETE FROM monitor_state m USING unnest(%b::text[], %b::text[]) AS d(kind, key)"
                " WHERE m.kind = d.kind AND m.key = d.key",
                ([k for k, _ in deletes], [i for _, i in deletes]),
            )
        self.tracking._insert_tracking(self.curs, Tracking(MONITOR_APPLICATION, position))

    def add_snapshots(self, snapshots: Sequence[MonitorSnapshot], kept: int) -> None:
        if not snapshots:
            return
        self.curs.executemany(
            "INSERT INTO monitor_snapshots (position, records, record_count, state_digest)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (position) DO NOTHING",
            [(s.position, s.records, s.record_count, s.state_digest) for s in snapshots],
        )
        self.curs.execute(
            "DELETE FROM monitor_snapshots WHERE position NOT IN"
            " (SELECT position FROM monitor_snapshots ORDER BY position DESC LIMIT %s)",
            (kept,),
        )


def ensure_database(conninfo: Mapping[str, Any]) -> None:
    """Create the database named in the URL when it does not exist yet (first write)."""
    admin = {**conninfo, "dbname": "postgres", "connect_timeout": int(CONNECT_TIMEOUT_S)}
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (conninfo["dbname"],)
        ).fetchone()
        if exists is None:
            # Another worker may create it first.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(SQL("CREATE DATABASE {}").format(Identifier(conninfo["dbname"])))


class PostgresStore:
    kind: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, url: str, *, create: bool = False, pool_size: int = 2):
        params: dict[str, Any] = dict(psycopg.conninfo.conninfo_to_dict(url))
        params.setdefault("dbname", params.get("user") or "postgres")
        params.setdefault("user", "postgres")
        self.conninfo = params
        try:
            if create:
                ensure_database(params)
            psycopg.connect(**params, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoreUnavailable(f"cannot reach PostgreSQL: {reason}") from e
        self.datastore = PostgresDatastore(
            dbname=str(params["dbname"]),
            host=str(params.get("host", "")),
            port=str(params.get("port", "5432")),
            user=str(params["user"]),
            password=str(params.get("password", "")),
            connect_timeout=CONNECT_TIMEOUT_S,
            pool_size=pool_size,
            max_overflow=2,
            lock_timeout=LOCK_TIMEOUT_S,
            originator_id_type="text",
            pre_ping=True,
        )
        self.recorder = LedgerPostgresRecorder(self.datastore)
        self.tracking = PostgresTrackingRecorder(self.datastore, tracking_table_name=TRACKING_TABLE)

    # --- schema -----------------------------------------------------------------------------
    def migrate(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            for statement in TABLES_DDL:
                curs.execute(statement)
            curs.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'quarantine'"
            )
            columns = {row["column_name"] for row in curs.fetchall()}
            quarantine_log.upgrade(PortablePostgres(curs), columns, QUARANTINE_CHAIN_COLUMNS, datetime.now(UTC))
            for statement in RECORD_TRIGGERS_DDL:
                curs.execute(statement)
            curs.execute(
                "INSERT INTO regledger_meta VALUES ('schema', %s)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (SCHEMA_FINGERPRINT,),
            )

    def is_migrated(self) -> bool:
        """True when the store holds exactly this code's schema."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT to_regclass('regledger_meta') IS NOT NULL AS present")
            row = curs.fetchone()
            if not (row and row["present"]):
                return False
            curs.execute("SELECT value FROM regledger_meta WHERE key = 'schema'")
            found = curs.fetchone()
            return found is not None and found["value"] == SCHEMA_FINGERPRINT

    # --- transactions -------------------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[PostgresLedgerWriter]:
        with self.datastore.transaction(commit=True) as curs:
            yield PostgresLedgerWriter(curs, self.recorder)

    @contextmanager
    def monitor_writer(self) -> Iterator[PostgresMonitorWriter]:
        with self.datastore.transaction(commit=True) as curs:
            yield PostgresMonitorWriter(curs, self.tracking)

    # --- reads --------------------------------------------------------------------------------
    def tip(self) -> Tip:
        with self.datastore.transaction(commit=False) as curs:
            return read_tip(curs)

    def read_entries(self, after: int, limit: int) -> list[StoredEntry]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT notification_id, originator_id, topic, state, recorded_at, chain_hash,"
                " originator_version"
                " FROM ledger_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                (after, limit),
            )
            return [
                StoredEntry(
                    r["notification_id"], r["originator_id"], r["topic"], bytes(r["state"]),
                    r["recorded_at"], bytes(r["chain_hash"]), r["originator_version"],
                )
                for r in curs.fetchall()
            ]

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        with self.datastore.transaction(commit=False) as curs:
            return load_entities_with(curs, keys)

    def stored_states(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        with self.datastore.transaction(commit=False) as curs:
            return existing_with(curs, event_ids)

    def tracked_position(self, application: str = MONITOR_APPLICATION) -> int:
        return self.tracking.max_tracking_id(application) or 0

    def monitor_records(self) -> Iterator[tuple[str, str, str]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT kind, key, state FROM monitor_state ORDER BY kind, key")
            rows = curs.fetchall()
        for row in rows:
            yield row["kind"], row["key"], row["state"]

    def monitor_snapshot(self, at_most: int) -> MonitorSnapshot | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT position, records, record_count, state_digest FROM monitor_snapshots"
                " WHERE position <= %s ORDER BY position DESC LIMIT 1",
                (at_most,),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return MonitorSnapshot(row["position"], bytes(row["records"]), row["record_count"], row["state_digest"])

    def findings(self, where: FindingFilter) -> list[FindingRow]:
        # Every filter is a fixed fragment whose value is bound as a parameter; a NULL
        # parameter switches its fragment off.
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT seq, finding_id, rule_id, severity, event_id, subject, occurred_at,"
                " detected_at, position, message, parameters, evidence FROM findings"
                " WHERE (%(rules)s::text[] IS NULL OR rule_id = ANY(%(rules)s::text[]))"
                " AND (%(subject)s::text IS NULL OR subject = %(subject)s::text)"
                " AND (%(since)s::timestamptz IS NULL OR occurred_at >= %(since)s::timestamptz)"
                " AND (%(until)s::timestamptz IS NULL OR occurred_at <= %(until)s::timestamptz)"
                " AND (%(case_status)s::text IS NULL OR COALESCE((SELECT c.status FROM"
                " finding_cases c WHERE c.finding_id = findings.finding_id), 'open')"
                " = %(case_status)s::text)"
                " ORDER BY seq LIMIT %(limit)s OFFSET %(offset)s",
                {
                    "rules": list(where.rule_ids) or None,
                    "subject": where.subject,
                    "since": where.since,
                    "until": where.until,
                    "case_status": where.case_status,
                    "limit": where.limit,
                    "offset": where.offset,
                },
            )
            return [
                FindingRow(
                    r["seq"], r["finding_id"], r["rule_id"], r["severity"], r["event_id"],
                    r["subject"], r["occurred_at"], r["detected_at"], r["position"],
                    r["message"], r["parameters"], r["evidence"],
                )
                for r in curs.fetchall()
            ]

    def quarantined(self, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            return quarantine_log.listed(PortablePostgres(curs), limit, offset)

    def close(self) -> None:
        self.datastore.close()

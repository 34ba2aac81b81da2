"""The regulator's side of one firm: its feed database holds the firm's published tables as
logical replication applies them (``public``), and in schema ``supervision`` a journal of
every change the feed made to rows already there, plus what the follower has checked.

The journal is filled by triggers enabled ALWAYS, so that they fire for the replication
apply worker too (ordinary triggers do not): an UPDATE, DELETE or TRUNCATE a DBA ran on the
firm's primary reaches the regulator as such, never as a silently rewritten copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier, Literal

from domain.errors import InvalidRequest
from projections.supervise.publication import PUBLICATION

FIRM_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
JOURNAL_ROWS_PER_CYCLE_MAX = 5_000
# More than a pass reads, so that a backlog of entries consumed before pruning existed shrinks.
JOURNAL_PRUNE_ROWS_PER_CYCLE_MAX = 2 * JOURNAL_ROWS_PER_CYCLE_MAX
LEDGER_ROWS_PER_CYCLE_MAX = 5_000

# The published tables as the subscriber holds them: the publisher's columns and primary keys,
# no other constraint (a constraint the firm's table lacks would stop replication at the first
# row that breaks it, and tampered rows are exactly what must arrive).
REPLICA_DDL = (
    "CREATE TABLE IF NOT EXISTS public.ledger_events ("
    " originator_id text NOT NULL, originator_version bigint NOT NULL, topic text NOT NULL,"
    " state bytea NOT NULL, notification_id bigint NOT NULL, recorded_at timestamptz NOT NULL,"
    " chain_hash bytea NOT NULL, PRIMARY KEY (originator_id, originator_version))",
    "CREATE INDEX IF NOT EXISTS ledger_events_position_idx ON public.ledger_events (notification_id)",
    "CREATE TABLE IF NOT EXISTS public.findings ("
    " seq bigint PRIMARY KEY, finding_id text NOT NULL, rule_id text NOT NULL, severity text NOT NULL,"
    " event_id text NOT NULL, subject text NOT NULL, occurred_at timestamptz NOT NULL,"
    " detected_at timestamptz NOT NULL, position bigint NOT NULL, message text NOT NULL,"
    " parameters text NOT NULL, evidence text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS findings_position_idx ON public.findings (position)",
    "CREATE TABLE IF NOT EXISTS public.finding_cases ("
    " finding_id text PRIMARY KEY, case_id text NOT NULL, status text NOT NULL, assignee text,"
    " resolution text, updated_at timestamptz NOT NULL, updated_by text NOT NULL, version bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS public.notification_tracking ("
    " application_name text PRIMARY KEY, notification_id bigint)",
    "CREATE TABLE IF NOT EXISTS public.supervisory_digests ("
    " position bigint PRIMARY KEY, merkle_root bytea NOT NULL, chain_hash bytea NOT NULL,"
    " recorded_at timestamptz NOT NULL, key_id text NOT NULL, signature bytea NOT NULL)",
)
SUPERVISION_DDL = (
    "CREATE SCHEMA IF NOT EXISTS supervision",
    "CREATE TABLE IF NOT EXISTS supervision.journal ("
    " seq bigserial PRIMARY KEY, table_name text NOT NULL, op text NOT NULL, old jsonb, new jsonb)",
    "CREATE TABLE IF NOT EXISTS supervision.progress ("
    " firm text PRIMARY KEY, journal_seq bigint NOT NULL, digests_checked bigint NOT NULL,"
    " compared_upto bigint NOT NULL, cases_checked bigint NOT NULL, unhealthy_since timestamptz)",
    # The apply worker runs with an empty search_path: every name here is qualified.
    "CREATE OR REPLACE FUNCTION supervision.journal_change() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_LEVEL = 'STATEMENT' THEN"
    "   INSERT INTO supervision.journal (table_name, op) VALUES (TG_TABLE_NAME, TG_OP);"
    "  ELSE"
    "   INSERT INTO supervision.journal (table_name, op, old, new) VALUES (TG_TABLE_NAME, TG_OP,"
    "    CASE WHEN TG_OP <> 'INSERT' THEN pg_catalog.to_jsonb(OLD) END,"
    "    CASE WHEN TG_OP <> 'DELETE' THEN pg_catalog.to_jsonb(NEW) END);"
    "  END IF;"
    "  RETURN NULL;"
    " END $$",
)
# New ledger rows and digests are read from their tables in position order; the journal keeps
# what would otherwise go unseen: changes to rows, and new findings (for findings already compared).
JOURNALED = {
    "ledger_events": "UPDATE OR DELETE",
    "supervisory_digests": "UPDATE OR DELETE",
    "findings": "INSERT OR UPDATE OR DELETE",
}


def check_firm(firm: str) -> str:
    if not FIRM_PATTERN.match(firm):
        raise InvalidRequest(f"--firm {firm!r}: 1-40 characters of a-z, 0-9 and _ (it names the subscription)")
    return firm


def subscription_name(firm: str) -> str:
    return f"regledger_{check_firm(firm)}"


def prepare(conn: psycopg.Connection[Any], firm: str) -> None:
    """The replicated tables, the journal and its triggers, and the firm's progress row."""
    with conn.transaction():
        for statement in (*REPLICA_DDL, *SUPERVISION_DDL):
            conn.execute(statement)
        for table, ops in JOURNALED.items():
            for suffix, event, level in (("journal", ops, "ROW"), ("journal_truncate", "TRUNCATE", "STATEMENT")):
                trigger = Identifier(f"{table}_{suffix}")
                conn.execute(SQL(
                    "CREATE OR REPLACE TRIGGER {} AFTER {} ON {} FOR EACH {} EXECUTE FUNCTION supervision.journal_change()"
                ).format(trigger, SQL(event), Identifier("public", table), SQL(level)))
                conn.execute(SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(Identifier("public", table), trigger))
        conn.execute("INSERT INTO supervision.progress VALUES (%s, 0, 0, 0, 0, NULL) ON CONFLICT DO NOTHING", (firm,))


def subscribe(conn: psycopg.Connection[Any], firm: str, source_url: str) -> str:
    """Create the subscription; ``conn`` is in autocommit (CREATE SUBSCRIPTION runs in no transaction)."""
    name = subscription_name(firm)
    prepare(conn, firm)
    if conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", (name,)).fetchone():
        conn.execute(SQL("ALTER SUBSCRIPTION {} ENABLE").format(Identifier(name)))
        return f"subscription {name} exists: enabled"
    conn.execute(SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {}").format(
        Identifier(name), Literal(source_url), Identifier(PUBLICATION)))
    return f"subscription {name} created on publication {PUBLICATION}"


@dataclass(frozen=True, slots=True)
class Progress:
    journal_seq: int
    digests_checked: int
    compared_upto: int
    cases_checked: int
    unhealthy_since: datetime | None


@dataclass(frozen=True, slots=True)
class FeedHealth:
    enabled: bool
    worker_running: bool
    last_message_at: datetime | None
    server_now: datetime


class Feed:
    """One firm's feed database, read by the follower."""

    def __init__(self, url: str, firm: str):
        self.firm = check_firm(firm)
        self.conn: psycopg.Connection[dict[str, Any]] = psycopg.connect(url, row_factory=dict_row, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.conn.execute(sql, params).fetchall()

    def progress(self) -> Progress:
        found = self.rows("SELECT * FROM supervision.progress WHERE firm = %s", (self.firm,))
        if not found:
            raise InvalidRequest(f"no feed of firm {self.firm!r} in this database: run `regledger supervise subscribe` first")
        row = found[0]
        return Progress(row["journal_seq"], row["digests_checked"], row["compared_upto"], row["cases_checked"],
                        row["unhealthy_since"])

    def save(self, progress: Progress) -> None:
        """The follower's progress, and the journal entries it has consumed pruned (at most
        JOURNAL_PRUNE_ROWS_PER_CYCLE_MAX, oldest first) in the same transaction: a crash before
        the commit keeps both, so the next pass reads those entries again and records their
        alerts once (their ids are content-derived); after it, no entry is read again."""
        with self.conn.transaction():
            self.conn.execute(
                "DELETE FROM supervision.journal WHERE seq IN (SELECT seq FROM supervision.journal WHERE seq <= %s"
                " ORDER BY seq LIMIT %s)", (progress.journal_seq, JOURNAL_PRUNE_ROWS_PER_CYCLE_MAX))
            self.conn.execute(
                "UPDATE supervision.progress SET journal_seq = %s, digests_checked = %s, compared_upto = %s,"
                " cases_checked = %s, unhealthy_since = %s WHERE firm = %s",
                (progress.journal_seq, progress.digests_checked, progress.compared_upto, progress.cases_checked,
                 progress.unhealthy_since, self.firm),
            )

    def journal(self, after: int) -> list[dict[str, Any]]:
        return self.rows("SELECT seq, table_name, op, old, new FROM supervision.journal WHERE seq > %s ORDER BY seq LIMIT %s",
                         (after, JOURNAL_ROWS_PER_CYCLE_MAX))

    def ledger_after(self, position: int) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT notification_id AS position, originator_id, originator_version, topic, state, recorded_at, chain_hash"
            " FROM public.ledger_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
            (position, LEDGER_ROWS_PER_CYCLE_MAX))

    def digests(self, after: int, upto: int) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM public.supervisory_digests WHERE position > %s AND position <= %s ORDER BY position",
                         (after, upto))

    def monitor_position(self, application: str) -> int:
        found = self.rows("SELECT notification_id FROM public.notification_tracking WHERE application_name = %s",
                          (application,))
        return int(found[0]["notification_id"] or 0) if found else 0

    def findings(self, after: int, upto: int) -> list[dict[str, Any]]:
        return self.rows("SELECT finding_id, rule_id, event_id, subject, occurred_at, detected_at, position"
                         " FROM public.findings WHERE position > %s AND position <= %s ORDER BY position, finding_id",
                         (after, upto))

    def severity(self, finding_id: str) -> str | None:
        found = self.rows("SELECT severity FROM public.findings WHERE finding_id = %s LIMIT 1", (finding_id,))
        return str(found[0]["severity"]) if found else None

    def has_finding(self, finding_id: str) -> bool:
        return bool(self.rows("SELECT 1 FROM public.findings WHERE finding_id = %s", (finding_id,)))

    def health(self) -> FeedHealth:
        found = self.rows(
            "SELECT s.subenabled AS enabled, st.pid IS NOT NULL AS running, st.last_msg_receipt_time AS last_at,"
            " now() AS server_now FROM pg_subscription s"
            " LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL"
            " WHERE s.subname = %s AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (subscription_name(self.firm),))
        if not found:
            now = self.rows("SELECT now() AS server_now")[0]["server_now"]
            return FeedHealth(False, False, None, now)
        row = found[0]
        return FeedHealth(bool(row["enabled"]), bool(row["running"]), row["last_at"], row["server_now"])

"""The firm's side: the publication of its tables of record, the role that may read them and
nothing else, and the table of signed digests published beside the ledger."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier, Literal

from domain.errors import InvalidRequest

PUBLICATION = "regledger_supervisory"
ROLE = "regledger_supervisor"
# The tables of record: the ledger (cases are events in it), the firm's findings, its case
# statuses, its monitor's position (what its findings cover) and its signed digests.
PUBLISHED_TABLES = ("ledger_events", "findings", "finding_cases", "notification_tracking", "supervisory_digests")

DIGESTS_DDL = (
    "CREATE TABLE IF NOT EXISTS supervisory_digests ("
    " position bigint PRIMARY KEY, merkle_root bytea NOT NULL, chain_hash bytea NOT NULL,"
    " recorded_at timestamptz NOT NULL, key_id text NOT NULL, signature bytea NOT NULL)",
    "CREATE OR REPLACE TRIGGER supervisory_digests_append_only BEFORE UPDATE OR DELETE"
    " ON supervisory_digests FOR EACH ROW EXECUTE FUNCTION regledger_refuse_change()",
    "CREATE OR REPLACE TRIGGER supervisory_digests_no_truncate BEFORE TRUNCATE"
    " ON supervisory_digests FOR EACH STATEMENT EXECUTE FUNCTION regledger_refuse_change()",
)


def publish(conn: psycopg.Connection[Any], password: str | None) -> list[str]:
    """Create (or bring up to date) the publication and the supervisor's role; what was done."""
    done: list[str] = []
    [level] = conn.execute("SHOW wal_level").fetchone() or ("",)
    if level != "logical":
        raise InvalidRequest(f"wal_level is {level!r}: logical replication needs wal_level = logical"
                             " (postgresql.conf, then restart the server)")
    with conn.transaction():
        for statement in DIGESTS_DDL:
            conn.execute(statement)
        tables = SQL(", ").join(Identifier(t) for t in PUBLISHED_TABLES)
        exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (PUBLICATION,)).fetchone()
        if exists:
            conn.execute(SQL("ALTER PUBLICATION {} SET TABLE {}").format(Identifier(PUBLICATION), tables))
            done.append(f"publication {PUBLICATION} brought up to date")
        else:
            conn.execute(SQL("CREATE PUBLICATION {} FOR TABLE {}").format(Identifier(PUBLICATION), tables))
            done.append(f"publication {PUBLICATION} created: {', '.join(PUBLISHED_TABLES)}")
        role = Identifier(ROLE)
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            conn.execute(SQL("CREATE ROLE {} LOGIN REPLICATION").format(role))
            done.append(f"role {ROLE} created (LOGIN REPLICATION)")
        if password is not None:
            conn.execute(SQL("ALTER ROLE {} PASSWORD {}").format(role, Literal(password)))
        [dbname] = conn.execute("SELECT current_database()").fetchone() or ("",)
        conn.execute(SQL("GRANT CONNECT ON DATABASE {} TO {}").format(Identifier(dbname), role))
        conn.execute(SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        # Only the published tables: the initial copy of a subscription reads them with SELECT.
        conn.execute(SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role))
        conn.execute(SQL("GRANT SELECT ON {} TO {}").format(tables, role))
        done.append(f"role {ROLE} may read {', '.join(PUBLISHED_TABLES)} and nothing else")
    return done


def publish_digest(conn: psycopg.Connection[Any], position: int, merkle_root: bytes, chain_hash: bytes,
                   recorded_at: Any, key_id: str, signature: bytes) -> bool:
    """Insert a signed digest; False when one at that position was published already."""
    with conn.transaction():
        found = conn.execute(
            "INSERT INTO supervisory_digests VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (position, merkle_root, chain_hash, recorded_at, key_id, signature),
        )
        return found.rowcount == 1

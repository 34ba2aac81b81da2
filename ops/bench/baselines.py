"""Baselines measured in the same run as regledger itself: plain eventsourcing saves (one
aggregate per ``save()``, and many per call) and the raw bulk write of the same rows."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg.sql import SQL, Identifier


class Fact(Aggregate):
    """The naive model: every envelope becomes a new aggregate holding it."""

    @event("Recorded")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope


def _application(env: dict[str, str]) -> Application:
    class NaiveLedger(Application):
        pass

    return NaiveLedger(env=env)


def eventsourcing_env(url: str) -> dict[str, str]:
    if url.startswith("sqlite:///"):
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": url.removeprefix("sqlite:///")}
    params = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params["dbname"]), "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", 5432)), "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")), "POSTGRES_LOCK_TIMEOUT": "30",
    }


def eventsourcing_save_rate(url: str, envelopes: Sequence[dict[str, Any]], per_save: int) -> float:
    """Events per second saving ``per_save`` new aggregates per ``save()`` call."""
    app = _application(eventsourcing_env(url))
    started = time.perf_counter()
    for start in range(0, len(envelopes), per_save):
        app.save(*(Fact(e) for e in envelopes[start : start + per_save]))
    elapsed = time.perf_counter() - started
    app.close()
    return len(envelopes) / elapsed


def raw_copy_rate(url: str, lines: Sequence[bytes]) -> float:
    """The physical limit on PostgreSQL: binary COPY of the same rows into a bare table."""
    table = Identifier(f"bench_copy_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            SQL("CREATE TABLE {} (id text, version bigint, topic text, state bytea, position bigint)").format(table)
        )
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
            SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(table)
        ) as copy:
            copy.set_types(("text", "int8", "text", "bytea", "int8"))
            for n, line in enumerate(lines, 1):
                copy.write_row((f"e{n}", 1, "T", line, n))
        elapsed = time.perf_counter() - started
        conn.execute(SQL("DROP TABLE {}").format(table))
    return len(lines) / elapsed


def raw_sqlite_rate(path: str, lines: Sequence[bytes]) -> float:
    import sqlite3

    if os.path.exists(path):
        os.remove(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id TEXT, version INTEGER, topic TEXT, state BLOB, position INTEGER UNIQUE, PRIMARY KEY (id, version))")
    started = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO t VALUES (?,?,?,?,?)", ((f"e{n}", 1, "T", line, n) for n, line in enumerate(lines, 1)))
    elapsed = time.perf_counter() - started
    conn.close()
    return len(lines) / elapsed

"""Filling a store with a known ledger, and tampering with it as a DBA could: past the
append-only triggers (every trigger dropped on SQLite, skipped with session_replication_role on
PostgreSQL), in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from domain.chain import chain_hash
from domain.ledger import Ledger
from ops.lines import open_inputs
from policies.registry import parameter_catalogue
from projections.store.base import Store, StoredEntry
from projections.store.sqlite import to_text
from tests.conftest import SCENARIOS

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def ticking_clock() -> Iterator[datetime]:
    """A ledger clock that moves one second per batch: no test depends on the wall clock."""
    moment = T0
    while True:
        yield moment
        moment += timedelta(seconds=1)


def fill(store: Store, name: str = "mf-day", batch_size: int = 10) -> int:
    """Ingest a scenario (a later day's re-listings are rejected); the events accepted."""
    ticks = ticking_clock()
    ledger = Ledger(store, parameter_catalogue(), clock=lambda: next(ticks))
    return ledger.ingest(open_inputs([str(SCENARIOS / f"{name}.jsonl")]), batch_size).accepted


class Dba:
    """Statements written with ``?`` placeholders, run on either store past its triggers."""

    def __init__(self, store_url: str):
        self.url = store_url
        self.kind = "sqlite" if store_url.startswith("sqlite:///") else "postgresql"

    def time(self, moment: datetime) -> Any:
        return to_text(moment) if self.kind == "sqlite" else moment

    def run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
                for (name,) in triggers:
                    conn.execute(f'DROP TRIGGER "{name}"')
                for statement, params in statements:
                    conn.execute(statement, params)
                conn.execute("COMMIT")
            finally:
                conn.close()
            return
        with psycopg.connect(self.url) as pg:
            pg.execute("SET session_replication_role = replica")
            for statement, params in statements:
                pg.execute(statement.replace("?", "%s"), params)  # type: ignore[call-overload]

    def update_hash(self, position: int, new_hash: bytes) -> tuple[str, tuple[Any, ...]]:
        return ("UPDATE ledger_events SET chain_hash = ? WHERE notification_id = ?", (new_hash, position))

    def insert(self, position: int, event_id: str, topic: str, state: bytes, recorded_at: datetime,
               hashed: bytes) -> tuple[str, tuple[Any, ...]]:
        return (
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state,"
            " notification_id, recorded_at, chain_hash) VALUES (?, 1, ?, ?, ?, ?, ?)",
            (event_id, topic, state, position, self.time(recorded_at), hashed),
        )

    def shift(self, from_position: int, by: int) -> list[tuple[str, tuple[Any, ...]]]:
        """Renumber positions >= from_position by ``by``, past the unique index."""
        return [
            ("UPDATE ledger_events SET notification_id = -(notification_id + ?)"
             " WHERE notification_id >= ?", (by, from_position)),
            ("UPDATE ledger_events SET notification_id = -notification_id"
             " WHERE notification_id < 0", ()),
        ]


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def rechain_from(entries: list[StoredEntry], start: int, replaced: dict[int, bytes]) -> list[bytes]:
    """The hashes a forger who rewrites states computes for positions start.. (to the end)."""
    previous = entries[start - 2].chain_hash if start > 1 else bytes(32)
    hashes = []
    for e in entries[start - 1 :]:
        state = replaced.get(e.position, e.state)
        previous = chain_hash(e.position, e.recorded_at, previous, e.event_id, e.version, e.type, state)
        hashes.append(previous)
    return hashes

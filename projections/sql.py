"""A small portable SQL surface over both stores, for the read models that need a few plain
statements: ``?`` placeholders (rewritten to ``%s`` for psycopg), rows as tuples, instants
converted (SQLite keeps fixed-width UTC text, PostgreSQL ``timestamptz``).

Statements written for it must be valid on both: ``ON CONFLICT ... DO UPDATE SET x =
excluded.x``, no ``INSERT OR ...``, no literal ``?`` or ``%``. The store itself is written on
the same surface (``projections.store.portable``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from projections.store.base import Store
from projections.store.cursors import Cursor, instant
from projections.store.portable import SqlStore


class Sql:
    """The portable surface of one store."""

    def __init__(self, store: Store):
        assert isinstance(store, SqlStore), f"unknown store {store!r}"
        self.store = store
        self.kind = store.kind

    def time(self, moment: datetime | None) -> Any:
        """An instant as a statement parameter."""
        return None if moment is None else self.store.dialect.time_param(moment)

    def instant(self, value: Any) -> datetime:
        """An instant as read from a row."""
        return instant(value)

    def blob(self, value: Any) -> bytes:
        return bytes(value)

    def text_list(self, values: Sequence[str]) -> Any:
        """A list parameter: JSON for SQLite's ``json_each(?)``, an array for PostgreSQL."""
        return self.store.dialect.list_param(values)

    def int_list(self, values: Sequence[int]) -> Any:
        return self.store.dialect.list_param(values)

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.reading() as c:
            c.execute(statement, params)
            return c.fetchall()

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Cursor]:
        """One read transaction; with ``snapshot`` every statement in it sees the same state
        of the store (SQLite's deferred transactions in WAL mode always do; on PostgreSQL it
        takes repeatable read)."""
        with self.store.reading(snapshot=snapshot) as c:
            yield c

    @contextmanager
    def writing(self, lock_key: int | None = None, *, ledger_lock: bool = False) -> Iterator[Cursor]:
        """One write transaction. SQLite's ``BEGIN IMMEDIATE`` serialises every writer; on
        PostgreSQL ``lock_key`` takes a transaction advisory lock that serialises the writers
        of one projection, and ``ledger_lock`` the ledger's own lock (no append, no case
        action meanwhile)."""
        with self.store.writing(lock_key, ledger_lock=ledger_lock) as c:
            yield c

    @staticmethod
    def raw_cursor(cursor: Cursor) -> Any:
        """The driver's cursor under a portable one (for recorder calls)."""
        return cursor.raw

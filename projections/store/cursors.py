"""One cursor surface over both drivers, for statements written once for both stores: ``?``
placeholders (rewritten to ``%s`` for psycopg), rows as tuples, instants converted (SQLite keeps
fixed-width UTC text, PostgreSQL ``timestamptz``), and a table lock that serialises writers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier


def to_text(moment: datetime) -> str:
    """Timestamps are stored as fixed-width UTC text so that text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Cursor(Protocol):
    kind: Literal["sqlite", "postgresql"]

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...
    def time(self, moment: datetime | None) -> Any: ...
    def lock(self, table: str) -> None: ...

    @property
    def raw(self) -> Any:
        """The driver's cursor underneath (for the few statements that differ per store)."""
        ...


def instant(value: Any) -> datetime:
    """An instant as read from a row of either store."""
    return from_text(value) if isinstance(value, str) else value


class PortableSQLite:
    kind: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(self, c: Any):
        self.c = c

    @property
    def raw(self) -> Any:
        return self.c

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.c.execute(statement, tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.c.executemany(statement, [tuple(r) for r in rows])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.c.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.c.fetchone()
        return None if row is None else tuple(row)

    def time(self, moment: datetime | None) -> Any:
        return None if moment is None else to_text(moment)

    def lock(self, table: str) -> None:
        """Nothing to do: every SQLite write transaction is ``BEGIN IMMEDIATE``."""


class PortablePostgres:
    kind: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, curs: Any):
        self.curs = curs
        # Rows as tuples straight from the driver, in the same transaction (same connection)
        # as eventsourcing's cursor, which reads rows as dicts.
        self.tuples = curs.connection.cursor(row_factory=tuple_row)

    @property
    def raw(self) -> Any:
        return self.curs

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        # No parameters, no placeholders: a statement may then hold a literal ``%`` (DDL).
        self.tuples.execute(statement.replace("?", "%s"), tuple(params) if params else None)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.tuples.executemany(statement.replace("?", "%s"), [tuple(r) for r in rows])

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.tuples.fetchall()
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.tuples.fetchone()
        return row

    def time(self, moment: datetime | None) -> Any:
        return moment

    def lock(self, table: str) -> None:
        # EXCLUSIVE lets readers read and makes every other writer of the table wait.
        self.curs.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(Identifier(table)))

"""Reading the ledger table for evidence: every row, whatever its topic, in bounded pages.

Unlike ``Store.read_entries`` this reader does not trust the table: a repeated position (a
DBA can drop the unique index) is returned, not skipped at a page boundary, rows below
position 1 are returned, and a ``recorded_at`` that no longer parses still yields a row
(whose hash then fails) instead of an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from psycopg.rows import tuple_row

from domain.chain import format_recorded_at
from domain.errors import NotFound, StoreCorrupted
from domain.evidence.chain_check import Row
from projections.sql import Sql
from projections.store.base import Store
from projections.store.postgres import PostgresStore

LOG_ROWS_PER_PAGE_MAX = 5_000
LOWEST_POSITION = -(2**62)
UNREADABLE_TIME = datetime(1, 1, 1, tzinfo=UTC)

# Pages are ranges of positions, not LIMITs: a narrow range keeps PostgreSQL on the index
# whatever its statistics (a LIMIT over an open range sorted the rest of the table per page).
SELECT_RANGE = (
    "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at,"
    " chain_hash FROM ledger_events WHERE notification_id >= ? AND notification_id <= ?"
    " ORDER BY notification_id, originator_id, originator_version"
)
SELECT_NEXT = "SELECT MIN(notification_id) FROM ledger_events WHERE notification_id > ?"
SELECT_LEAVES = (
    "SELECT notification_id, chain_hash FROM ledger_events"
    " WHERE notification_id > ? AND notification_id <= ? ORDER BY notification_id"
)
SELECT_POSITION = (
    "SELECT notification_id FROM ledger_events WHERE originator_id = ? AND originator_version = ?"
)


class _Times:
    """Stored times to their canonical hash text; a batch shares one, so one entry suffices."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.last: Any = None
        self.value: tuple[datetime, bytes] = (UNREADABLE_TIME, b"")

    def __call__(self, stored: Any) -> tuple[datetime, bytes]:
        if stored != self.last:
            self.last = stored
            try:
                moment = self.sql.instant(stored)
                self.value = (moment, format_recorded_at(moment).encode("ascii"))
            except (ValueError, TypeError, AttributeError, AssertionError):
                self.value = (UNREADABLE_TIME, b"unreadable " + str(stored).encode())
        return self.value


def _fetch(store: Store, sql: Sql, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    if not isinstance(store, PostgresStore):
        return sql.rows(statement, params)
    # Plain tuples in binary format: bytea and timestamptz decode several times faster so.
    # Never a prepared statement: a generic plan cannot see that a page's range is narrow,
    # and sorts the rest of the table for every page (quadratic on a million rows).
    with store.datastore.transaction(commit=False) as curs:
        cursor = curs.connection.cursor(row_factory=tuple_row)
        cursor.execute(statement.replace("?", "%s"), params, binary=True, prepare=False)
        return cursor.fetchall()


def _row(r: tuple[Any, ...], times: _Times) -> Row:
    moment, text = times(r[5])
    return Row(r[0], r[1], r[2], r[3], bytes(r[4]), moment, text, bytes(r[6]))


def iter_rows(
    store: Store, until: int | None = None, page: int = LOG_ROWS_PER_PAGE_MAX, start: int | None = None
) -> Iterator[Row]:
    """Every row with a position up to ``until`` (default: all), in position order, a repeated
    position as often as it is stored, and positions below 1 too (from ``start``, when given)."""
    assert 0 < page <= LOG_ROWS_PER_PAGE_MAX
    sql = Sql(store)
    times = _Times(sql)
    high = 2**62 if until is None else until
    low = _next_position(sql, LOWEST_POSITION if start is None else start - 1)
    while low is not None and low <= high:
        top = min(low + page - 1, high)
        rows = _fetch(store, sql, SELECT_RANGE, (low, top))
        for r in rows:
            yield _row(r, times)
        low = top + 1 if rows and rows[-1][0] == top else _next_position(sql, top)


def _next_position(sql: Sql, after: int) -> int | None:
    [(found,)] = sql.rows(SELECT_NEXT, (after,))
    return None if found is None else int(found)


def iter_leaves(store: Store, size: int, page: int = LOG_ROWS_PER_PAGE_MAX) -> Iterator[bytes]:
    """The chain hashes of positions 1..size, checked to be exactly those positions."""
    assert 0 < page <= LOG_ROWS_PER_PAGE_MAX
    sql, position = Sql(store), 0
    while position < size:
        rows = _fetch(store, sql, SELECT_LEAVES, (position, min(position + page, size)))
        if not rows:
            break
        for found, chain_hash in rows:
            if found != position + 1:
                raise StoreCorrupted(
                    f"the log is not gap-free at position {position + 1}: run `regledger verify`"
                )
            position = found
            yield bytes(chain_hash)
    if position < size:
        raise StoreCorrupted(f"the log ends at position {position}, below {size}: run `regledger verify`")


def position_of(store: Store, event_id: str, version: int = 1) -> int:
    rows = Sql(store).rows(SELECT_POSITION, (event_id, version))
    if not rows:
        raise NotFound(f"no event {event_id!r} in the ledger")
    if len(rows) > 1:
        raise StoreCorrupted(f"event {event_id!r} is stored more than once: run `regledger verify`")
    return int(rows[0][0])


def row_at(store: Store, position: int) -> Row:
    sql = Sql(store)
    found = sql.rows(SELECT_RANGE, (position, position))
    if len(found) != 1:
        raise StoreCorrupted(f"position {position} is not exactly one row: run `regledger verify`")
    return _row(found[0], _Times(sql))

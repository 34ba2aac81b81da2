"""The ledger's upstream events counted by Hong Kong report day, beside the audit index.

A nightly report needs, for its day ``D``: how many events occurred by the cut-off, which of
them occurred during the day (by type), the last position that occurred by the cut-off, the
first that occurred after it, and the insurance fund's movements. Read from the log, that is
a pass over the whole history (O(n): 55 s at a million events, issue 22). Kept here, it is a
few rows per day: ``ledger_days`` (day, type) -> events, first and last position, and
``ledger_fund_events`` naming the position and day of every event that moves the fund
(``InsuranceFundChanged``, with its ``delta`` as sent, and ``LossAllocated``): the report sums
the deltas of the days before its own and decodes only its day's.

``ledger_clock`` keeps one row: the latest ``occurred_at`` of any upstream event the index has
counted, the clock the officers' queue measures a finding's age on. A late, back-dated event
does not turn it back (the last *recorded* event's time would: every later finding then showed
an age of 0).

The rows are written by the audit index in its own write transaction, under its tracking
position, so they are built exactly as far as the index is (a report reads the rest of the log
after that position, as the whole scan did). The day of an instant is the report day whose
window holds it (``report_day``: 00:00 HKT excluded, 24:00 HKT included).

Two rows are not days:
- ``UNPLACEABLE``: an event whose ``occurred_at`` is outside events.md's range (stored by an
  earlier version) and converts to no Hong Kong day; a report then reads the whole log, which
  compares such a time exactly.
- ``NOT_BEFORE``: written when these tables are added to a store whose audit index was already
  built (``mark_unsummarised``): the events up to its ``last_position`` are not counted here,
  so a report reads the whole log until ``regledger rebuild`` rebuilds the audit index (and
  ``verify --projections`` names the difference meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from domain.values import time_in_range

if TYPE_CHECKING:
    from projections.sql import Sql
    from projections.store.base import Store

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
DAYS_TABLE = "ledger_days"
FUND_TABLE = "ledger_fund_events"
CLOCK_TABLE = "ledger_clock"
CLOCK_ROW = "upstream"
FUND_TYPES = frozenset({"InsuranceFundChanged", "LossAllocated"})
UNPLACEABLE = "unplaceable"
NOT_BEFORE = "not-summarised"
_MIDNIGHT = time(0)

# (day, type) -> [events, first position, last position]
DayCounts = dict[tuple[str, str], list[int]]


def report_day(moment: datetime) -> date:
    """The report day an instant belongs to: the day whose cut-off (24:00 HKT) is at or after
    it and whose start (00:00 HKT) is before it."""
    local = moment.astimezone(HONG_KONG)
    day = local.date()
    return day - timedelta(days=1) if local.timetz().replace(tzinfo=None) == _MIDNIGHT else day


def day_key(moment: datetime) -> str:
    """``report_day`` as the table keeps it (ISO text, which sorts as the days do), or
    ``UNPLACEABLE`` for an instant outside events.md's range (no Hong Kong day is sure)."""
    return report_day(moment).isoformat() if time_in_range(moment) else UNPLACEABLE


@dataclass(slots=True)
class DayRows:
    """One page's rows: its events by (day, type), and its fund-moving events."""

    counts: DayCounts = field(default_factory=dict)
    funds: list[tuple[int, str, str | None]] = field(default_factory=list)  # (position, day, delta)
    latest: datetime | None = None  # the page's latest placeable occurred_at

    def add(self, position: int, event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> None:
        day = day_key(occurred_at)
        if day != UNPLACEABLE and (self.latest is None or occurred_at > self.latest):
            self.latest = occurred_at
        found = self.counts.get((day, event_type))
        if found is None:
            self.counts[day, event_type] = [1, position, position]
        else:  # positions arrive in ledger order
            found[0] += 1
            found[2] = position
        if event_type in FUND_TYPES:
            delta = data.get("delta") if event_type == "InsuranceFundChanged" else None
            self.funds.append((position, day, None if delta is None else str(delta)))

    def rows(self) -> list[tuple[str, str, int, int, int]]:
        return [(day, kind, n, first, last) for (day, kind), (n, first, last) in self.counts.items()]


# A page's positions follow every stored one, so a row already there keeps its first position.
UPSERT_DAY = (
    "INSERT INTO ledger_days (day, type, events, first_position, last_position) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (day, type) DO UPDATE SET events = ledger_days.events + excluded.events,"
    " last_position = excluded.last_position"
)
INSERT_FUND = "INSERT INTO ledger_fund_events (position, day, delta) VALUES (?, ?, ?)"
SELECT_DAYS = "SELECT day, type, events, first_position, last_position FROM ledger_days"
# The stored time stays unless the page's is later (instants compare as instants on both stores:
# SQLite keeps fixed-width UTC text).
UPSERT_CLOCK = (
    "INSERT INTO ledger_clock (name, occurred_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET occurred_at ="
    " CASE WHEN excluded.occurred_at > ledger_clock.occurred_at THEN excluded.occurred_at"
    " ELSE ledger_clock.occurred_at END"
)
SELECT_CLOCK = "SELECT occurred_at FROM ledger_clock WHERE name = ?"
# What a store whose audit index predates ``ledger_clock`` is seeded with: its indexed upstream
# events' latest time (the case and decision rows the index also keeps are not upstream).
SEED_CLOCK = (
    "INSERT INTO ledger_clock (name, occurred_at) SELECT ?, latest FROM (SELECT MAX(occurred_at) AS latest"
    " FROM audit_events WHERE source NOT IN (?, ?)) AS indexed WHERE latest IS NOT NULL"
)
SELECT_FUNDS = "SELECT position, day, delta FROM ledger_fund_events ORDER BY position"


def write(cursor: Any, rows: DayRows) -> None:
    """A page's rows, in the audit index's write transaction."""
    if rows.counts:
        cursor.executemany(UPSERT_DAY, rows.rows())
    if rows.funds:
        cursor.executemany(INSERT_FUND, rows.funds)
    if rows.latest is not None:
        cursor.execute(UPSERT_CLOCK, (CLOCK_ROW, cursor.time(rows.latest)))


def mark_unsummarised(cursor: Any, through: int) -> None:
    """These tables were just added to a store whose audit index is built through
    ``through``: say that they do not count the events up to it."""
    if through > 0:
        cursor.execute(UPSERT_DAY, (NOT_BEFORE, "", 0, 1, through))


def latest_time(store: Store) -> datetime | None:
    """``ledger_clock``'s time: the latest ``occurred_at`` of the upstream events indexed, or
    None before the first."""
    from projections.sql import Sql

    sql = Sql(store)
    with sql.reading() as cursor:
        return read_clock(sql, cursor)


def read_clock(sql: Sql, cursor: Any) -> datetime | None:
    """``latest_time`` inside a reading transaction the caller holds."""
    cursor.execute(SELECT_CLOCK, (CLOCK_ROW,))
    row = cursor.fetchone()
    return None if row is None else sql.instant(row[0])


def seed_clock(cursor: Any) -> None:
    """``ledger_clock`` was just added to a store whose audit index may be built: start it at
    the latest time that index holds (an event stored by an earlier version with a time outside
    events.md's range is indexed under its recorded time, so it counts under that one here)."""
    from domain.cases.codec import CASE_EVENT_SOURCE
    from domain.quarantine_decisions import DECISION_EVENT_SOURCE

    cursor.execute(SEED_CLOCK, (CLOCK_ROW, CASE_EVENT_SOURCE, DECISION_EVENT_SOURCE))


@dataclass(frozen=True, slots=True)
class Summary:
    """The tables as one snapshot read them, with the audit position they are built through."""

    through: int
    days: Sequence[tuple[str, str, int, int, int]]
    funds: Sequence[tuple[int, str, str | None]]  # (position, day, InsuranceFundChanged's delta)

    @property
    def complete(self) -> bool:
        """False when a report cannot take them for the events up to ``through``."""
        return not any(day in (UNPLACEABLE, NOT_BEFORE) for day, *_ in self.days)


def summary_of(through: int, days: Iterable[tuple[Any, ...]], funds: Iterable[tuple[Any, ...]]) -> Summary:
    return Summary(
        through,
        [(str(d), str(t), int(n), int(first), int(last)) for d, t, n, first, last in days],
        [(int(p), str(d), None if delta is None else str(delta)) for p, d, delta in funds],
    )

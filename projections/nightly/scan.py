"""The facts a report needs besides the findings: which positions occurred by the cut-off,
what happened during the day, and the insurance fund.

They come from the audit index's counts by day (``projections.audit.days``) and the log after
the index's position, else from a pass over the whole log. Only ``occurred_at`` and the type
are read from the log's rows (a pattern on the stored bytes, never a full decode); the few
event types whose content the report shows are decoded."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.book.money import exact
from domain.errors import StoreCorrupted
from domain.events import InsuranceFundChanged, LossAllocated, parse_line
from domain.ledger import is_catalogue_topic
from domain.ledger_storage import StoredEntry
from projections.audit import days
from projections.audit.storage import AUDIT_APPLICATION
from projections.nightly.window import Window
from projections.sql import Sql
from projections.store.base import Store

SCAN_ENTRIES_PER_PAGE_MAX = 5_000
_OCCURRED_AT = re.compile(rb'"occurred_at"\s*:\s*"([^"\\]{1,64})"')
DECODED_TYPES = ("InsuranceFundChanged", "LossAllocated")


def occurred_at(entry: StoredEntry) -> datetime:
    found = _OCCURRED_AT.findall(entry.state)
    if len(found) == 1:
        try:
            return datetime.fromisoformat(found[0].decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
    return parse_line(entry.state, stored=True)[0].occurred_at  # the exact reading, for anything unusual


@dataclass(frozen=True, slots=True)
class FundMove:
    position: int
    event_id: str
    occurred_at: datetime
    kind: str  # "change" or "loss"
    amount: Decimal
    detail: str  # the reason, or the contract and method of a loss


@dataclass(slots=True)
class LedgerScan:
    tip: int = 0
    covered: int = 0  # the last position that occurred at or before the cut-off
    prefix: int = 0  # every position up to this one occurred at or before the cut-off
    events: int = 0  # catalogue events at or before the cut-off
    day_first: int = 0  # the first position of an event of the day (0: none)
    day_events: Counter[str] = field(default_factory=Counter)
    fund_before_day: Decimal = Decimal(0)
    fund_at_cutoff: Decimal = Decimal(0)
    fund_moves: list[FundMove] = field(default_factory=list)  # of the day


def scan(store: Store, window: Window) -> LedgerScan:
    """The facts, from the audit index's events by day (``projections.audit.days``) as far as
    it is built and the log after it; from the whole log when those rows cannot stand for
    every event they cover (a time with no Hong Kong day, or a store that had its index
    before it had the rows). Either way the same facts: the rows are the same per-event
    comparisons with the cut-off, counted when the events were indexed
    (``tests/report/test_scan_from_days.py`` holds the two ways equal)."""
    return _scan(store, window, read_summary(store))


def whole_log_scan(store: Store, window: Window) -> LedgerScan:
    """The facts from the whole log alone."""
    return _scan(store, window, days.Summary(0, (), ()))


def _scan(store: Store, window: Window, summary: days.Summary) -> LedgerScan:
    found = LedgerScan()
    later: int | None = None  # the first position of an event that occurred after the cut-off
    funds: list[int] = []
    if summary.complete:
        later = _from_days(found, summary, window)
        funds = _fund_before_day(found, summary, window)
        found.tip = summary.through
    after, moves = found.tip, []
    while entries := store.read_entries(after, SCAN_ENTRIES_PER_PAGE_MAX):
        after = found.tip = entries[-1].position
        for entry in entries:
            if not is_catalogue_topic(entry.type):  # an officer's case action: no business time
                continue
            moment = occurred_at(entry)
            if moment > window.cutoff:
                later = entry.position if later is None else later
                continue
            found.events += 1
            found.covered = entry.position
            if window.contains(moment):
                found.day_events[entry.type] += 1
                found.day_first = found.day_first or entry.position
            if entry.type in DECODED_TYPES:
                moves.append(entry)
    # Every position before the first later event occurred by the cut-off (the log is gap-free).
    found.prefix = found.tip if later is None else later - 1
    for entry in [*_entries_at(store, funds), *moves]:
        _fund(found, entry, window)
    return found


def read_summary(store: Store) -> days.Summary:
    """The events by day and the audit index's position, in one snapshot."""
    with Sql(store).reading(snapshot=True) as cursor:
        cursor.execute(Sql(store).store.select_tracked, (AUDIT_APPLICATION,))
        row = cursor.fetchone()
        through = int(row[0] or 0) if row else 0
        cursor.execute(days.SELECT_DAYS)
        day_rows = cursor.fetchall()
        cursor.execute(days.SELECT_FUNDS)
        return days.summary_of(through, day_rows, cursor.fetchall())


def _from_days(found: LedgerScan, summary: days.Summary, window: Window) -> int | None:
    """Count the summarised events into ``found``; the first position that occurred after
    the cut-off among them."""
    report_day, later = window.day.isoformat(), None
    for day, kind, events, first, last in summary.days:
        if day <= report_day:  # ISO dates sort as the days do
            found.events += events
            found.covered = max(found.covered, last)
            if day == report_day:
                found.day_events[kind] += events
                found.day_first = min(found.day_first or first, first)
        elif later is None or first < later:
            later = first
    return later


def _fund_before_day(found: LedgerScan, summary: days.Summary, window: Window) -> list[int]:
    """Sum the fund's changes of the days before the report's into ``found``; the positions of
    the day's fund-moving events, which the report shows (decoded by ``_fund``)."""
    report_day, of_day = window.day.isoformat(), []
    with exact():  # the default context would round a sum of 40-digit deltas silently
        for position, day, delta in summary.funds:
            if day == report_day:
                of_day.append(position)
            elif day < report_day and delta is not None:
                found.fund_before_day += Decimal(delta)
                found.fund_at_cutoff += Decimal(delta)
    return of_day


def _entries_at(store: Store, positions: list[int]) -> list[StoredEntry]:
    """The stored entries at ``positions`` (ascending), a read per run of consecutive ones."""
    found: list[StoredEntry] = []
    run: list[int] = []
    for position in [*positions, -1]:
        if run and (position != run[-1] + 1 or len(run) == SCAN_ENTRIES_PER_PAGE_MAX):
            entries = store.read_entries(run[0] - 1, len(run))
            if [e.position for e in entries] != run:
                raise StoreCorrupted(f"the ledger has no entry at a position the audit index named ({run[0]}..{run[-1]})")
            found.extend(entries)
            run = []
        run.append(position)
    return found


def _fund(found: LedgerScan, entry: StoredEntry, window: Window) -> None:
    envelope = parse_line(entry.state, stored=True)[0]
    data = envelope.data
    of_day = window.contains(envelope.occurred_at)
    if isinstance(data, InsuranceFundChanged):
        with exact():  # the default context would round a sum of 40-digit deltas silently
            found.fund_at_cutoff += data.delta
            if not of_day:
                found.fund_before_day += data.delta
        move = FundMove(entry.position, envelope.event_id, envelope.occurred_at, "change", data.delta, data.reason)
    else:
        assert isinstance(data, LossAllocated)
        move = FundMove(entry.position, envelope.event_id, envelope.occurred_at, "loss", data.amount,
                        f"{data.contract_id} by {data.method.replace('_', ' ')}")
    if of_day:
        found.fund_moves.append(move)

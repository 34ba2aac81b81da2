"""The monitor's state at the cut-off: what every client owed, held and risked, and which
deadlines were open, counting only the events that occurred at or before the cut-off.

It starts from the monitor's persisted state when every event that state has seen occurred
by the cut-off (the report runs after the day closed and before the next day's events), else
from the monitor's snapshot at the latest Hong Kong midnight within that prefix of the ledger
(the usual case at 00:30 HKT: the next day's events have begun to arrive), and only failing
both from nothing; then it applies, in ledger order, the remaining events that occurred by the
cut-off. An event that refers to something created by a later
event is left out with it, as it could not have been accepted without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.book import persistence
from domain.book.book import Book
from domain.events import RecordedEvent
from domain.ledger import decode_admitted, is_catalogue_topic
from domain.registry.references import referenced
from policies.registry import parameter_catalogue
from projections.monitor import snapshots
from projections.monitor.engine import MonitorEngine
from projections.monitor.runner import MonitorRunner
from projections.nightly.scan import occurred_at
from projections.store.base import Store

STATE_ENTRIES_PER_PAGE_MAX = 2_000


@dataclass(frozen=True, slots=True)
class CutoffState:
    book: Book
    started_from: int  # the monitor position the replay started from (0: from nothing)
    applied: int  # events applied on top of it
    left_out: int  # events that occurred by the cut-off but refer to later ones


def state_at(store: Store, cutoff: datetime, prefix: int) -> CutoffState:
    """``prefix``: every position up to it occurred at or before ``cutoff``."""
    engine, start = MonitorEngine(), 0
    if 0 < store.tracked_position() <= prefix:
        runner = MonitorRunner(store)
        runner.restore()
        if runner.engine is not None and 0 < runner.position <= prefix:
            engine, start = runner.engine, runner.position
    if start == 0 and (restored := snapshots.restore_newest(store, prefix)) is not None:
        engine, start = restored
    applied, left_out = _replay(store, engine, start, cutoff)
    book = Book(parameter_catalogue())
    persistence.load_records(book, engine.iter_records())
    return CutoffState(book, start, applied, left_out)


def _replay(store: Store, engine: MonitorEngine, after: int, cutoff: datetime) -> tuple[int, int]:
    later: set[tuple[str, str]] = set()  # entities created by events left out
    applied = left_out = 0
    while True:
        entries = store.read_entries(after, STATE_ENTRIES_PER_PAGE_MAX)
        if not entries:
            return applied, left_out
        after = entries[-1].position
        for entry in entries:
            if not is_catalogue_topic(entry.type):
                continue
            if occurred_at(entry) > cutoff:
                later.update(_created(decode_admitted(entry)))
                continue
            event = decode_admitted(entry)  # the ledger's own row, validated when admitted
            refs = list(referenced(event.envelope.type, event.envelope.data))
            if any(not ref.creates and key in later for ref, key in refs):
                later.update(key for ref, key in refs if ref.creates)
                left_out += 1
                continue
            engine.process(event)
            applied += 1


def _created(event: RecordedEvent) -> list[tuple[str, str]]:
    return [key for ref, key in referenced(event.envelope.type, event.envelope.data) if ref.creates]

"""Derived state at a moment: the ledger replayed into a fresh, in-memory monitor engine.

"As of T" is business time: events whose ``occurred_at`` is after T are left out. "Known at
T2" is ledger time: only the prefix of the ledger recorded by T2 is read. Both together ask
what the firm could have known at T2 about T. The rest is ledger order, as the monitor sees it.

Leaving events out by ``occurred_at`` can leave a kept event without what it refers to (a
back-dated order of a client onboarded after T). Such an event could not have been accepted
on the events kept, so it is left out too, and so is everything that needs what it created;
the replay reports each one (``left_out``).

Cost: every event up to the bound is decoded and applied (the engine's full rule evaluation
included), so a replay is linear in the ledger's length. A long ledger is read and decoded in a
second process beside the engine (``projections.store.prefetch``), so the replay uses two cores.

A replay under the rulebook as recorded (``state``, ``explain``) may instead start from the
monitor's newest midnight snapshot (``projections.monitor.snapshots``) within the bound and
apply only the events after it: the state is the same, as the snapshot is the state the live
monitor had after exactly those events (its digest is checked when it is restored). A snapshot
is usable when every event up to it is in the window: at or before ``through``, occurred at or
before ``as_of`` (then none of them is left out, and nothing they created is missing), and
indexed by the audit trail, which gives what the snapshot does not hold: the count of the
events applied, the latest business time, and the latest event of each ``LATEST_BY`` kind
before it. A what-if replay under other parameters always starts from nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from domain.events import EVENT_TYPES, RecordedEvent
from domain.ledger import decode_admitted
from domain.registry.references import referenced
from projections.audit.query import AuditQuery, audit_events
from projections.audit.storage import AUDIT_APPLICATION
from projections.monitor import snapshots
from projections.monitor.engine import MonitorEngine
from projections.monitor.runner import MonitorRunner
from projections.sql import Sql
from projections.store.base import Store
from projections.store.prefetch import decoded_events

log = structlog.get_logger("regledger.asof")

LEFT_OUT_LISTED_MAX = 1_000

# The latest event of each of these types is kept per id, for the figures the book does not
# hold (a call's shortfall, a contract's last funding) and for the evidence behind a figure
# (the price event behind a valuation).
LATEST_BY: dict[str, str] = {
    "PriceObserved": "asset",
    "MarginCallIssued": "call_id",
    "FundingSettled": "contract_id",
    "MarketMakerRegistered": "mm_id",
    "PerpContractListed": "contract_id",
    "ClientOnboarded": "client_id",
}
# The cyclic collector is paused during a replay and run over the young generations once per
# this many events (see ``_collector_paused``).
YOUNG_COLLECTION_EVENTS = 100_000
LATEST_CANDIDATES_PER_PAGE = 50  # a subject's events of one type, newest first, per look-up

# Over the audit index's positions up to a snapshot (the catalogue's events only: case
# actions are not replayed): how many, the last, and the first with the latest business time.
PREFIX_COUNT = "SELECT COUNT(*), MAX(position) FROM audit_events WHERE position <= ? AND type {in_texts}"
PREFIX_LATEST = (
    "SELECT position FROM audit_events WHERE position <= ? AND type {in_texts}"
    " ORDER BY occurred_at DESC, position ASC LIMIT 1"
)
# The first position that occurred after the as-of time (any entry: a case action's time
# counts too, which can only make the usable prefix shorter, never wrong).
FIRST_AFTER = "SELECT MIN(position) FROM audit_events WHERE occurred_at > ? AND position <= ?"


@dataclass(frozen=True, slots=True)
class LeftOut:
    position: int
    event_id: str
    reason: str


@dataclass(slots=True)
class Replay:
    engine: MonitorEngine
    as_of: datetime | None
    through: int | None  # the last position read, when bounded
    position: int = 0  # the last position applied
    latest_occurred_at: datetime | None = None  # of the events applied
    applied: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    left_out_count: int = 0
    latest: dict[tuple[str, str], RecordedEvent] = field(default_factory=dict)
    store: Store | None = None  # set when started from a snapshot: ``last`` looks before it
    started_from: int = 0  # the snapshot's position the replay started from (0: from nothing)

    @property
    def moment(self) -> datetime | None:
        """When parameters are judged to be in force: T, or the latest business time seen."""
        return self.as_of if self.as_of is not None else self.latest_occurred_at

    def last(self, event_type: str, key: str) -> RecordedEvent | None:
        found = self.latest.get((event_type, key))
        if found is None and self.store is not None:
            found = _latest_before(self.store, self.started_from, event_type, key)
            if found is not None:
                self.latest[(event_type, key)] = found
        return found


def replay(
    store: Store,
    *,
    as_of: datetime | None = None,
    through: int | None = None,
    engine_factory: Callable[[], MonitorEngine] = MonitorEngine,
    prefetch: bool | None = None,
    from_snapshot: bool = False,
) -> Replay:
    """Replay the ledger up to position ``through`` (all of it, as it is when the replay
    starts, when None), leaving out the events that occurred after ``as_of``.

    ``prefetch`` True reads and decodes in a second process whatever the length, False in
    this one; None decides by the length (``projections.store.prefetch``).
    ``from_snapshot``: start from the newest usable midnight snapshot, if any (only for the
    default engine: a snapshot holds the state under the rulebook as recorded)."""
    assert not from_snapshot or engine_factory is MonitorEngine, "a snapshot is the recorded rulebook's state"
    state = (from_snapshot and _from_snapshot(store, as_of, through)) or Replay(engine_factory(), as_of, through)
    state.engine.stop_tracking_changes()  # the replayed state is read, never persisted
    later: set[tuple[str, str]] = set()  # entities created by events left out
    events = decoded_events(store, state.started_from, through, prefetch=prefetch)
    try:
        with _collector_paused(), state.engine.exactly():
            for count, event in enumerate(events, 1):
                _step(state, event, later)
                if count % YOUNG_COLLECTION_EVENTS == 0:
                    gc.collect(1)  # the young generations only
    finally:
        events.close()  # an engine that raises stops the reader at once
    return state


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, as it was after. A replay allocates a dozen
    objects per event and frees nearly all of them by reference counting (a whole 1M-event
    replay leaves no cycle behind: ``gc.collect()`` after it finds none), while the engine's
    state grows: left on, the collector scans that state again and again for nothing, about a
    tenth of a long replay's time. The replay collects the young generations itself every
    ``YOUNG_COLLECTION_EVENTS`` events, so that a cycle made by some future rule is still freed
    and memory stays bounded."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _step(state: Replay, event: RecordedEvent, later: set[tuple[str, str]]) -> None:
    envelope = event.envelope
    if state.as_of is not None:  # without an as-of time nothing is left out: no references to follow
        refs = list(referenced(envelope.type, envelope.data))
        if envelope.occurred_at > state.as_of:
            later.update(key for ref, key in refs if ref.creates)
            return
        missing = [key for ref, key in refs if not ref.creates and key in later] if later else []
        if missing:
            later.update(key for ref, key in refs if ref.creates)
            kind, natural_id = missing[0]
            _leave_out(state, event, f"refers to {kind} {natural_id!r}, which occurred after the as-of time")
            return
    state.engine.process(event)
    state.applied += 1
    state.position = event.position
    occurred_at = envelope.occurred_at
    if state.latest_occurred_at is None or occurred_at > state.latest_occurred_at:
        state.latest_occurred_at = occurred_at
    if (key_field := LATEST_BY.get(envelope.type)) is not None:
        state.latest[(envelope.type, getattr(envelope.data, key_field))] = event


def _leave_out(state: Replay, event: RecordedEvent, reason: str) -> None:
    state.left_out_count += 1
    if len(state.left_out) < LEFT_OUT_LISTED_MAX:
        state.left_out.append(LeftOut(event.position, event.envelope.event_id, reason))


# -- starting from a snapshot ---------------------------------------------------------------
def _from_snapshot(store: Store, as_of: datetime | None, through: int | None) -> Replay | None:
    sql = Sql(store)
    bound = store.tracked_position(AUDIT_APPLICATION)
    if through is not None:
        bound = min(bound, through)
    if as_of is not None and bound > 0:
        [(first_after,)] = sql.rows(FIRST_AFTER, (sql.time(as_of), bound))
        if first_after is not None:
            bound = int(first_after) - 1
    if bound <= 0:
        return None
    restored = _monitor_state(store, bound) or snapshots.restore_newest(store, bound)
    if restored is None:
        return None
    engine, position = restored
    types = sql.text_list(sorted(EVENT_TYPES))
    in_texts = sql.store.dialect.in_texts  # the catalogue's events only
    [(applied, last)] = sql.rows(PREFIX_COUNT.format(in_texts=in_texts), (position, types))
    latest = sql.rows(PREFIX_LATEST.format(in_texts=in_texts), (position, types))
    # the time as sent (its offset kept), as a replay from nothing would hold it
    latest_occurred_at = _event_at(store, latest[0][0]).envelope.occurred_at if latest else None
    log.debug("replay_from_snapshot", position=position, bound=bound)
    return Replay(
        engine, as_of, through, position=int(last or 0), latest_occurred_at=latest_occurred_at,
        applied=int(applied), store=store, started_from=position,
    )


def _monitor_state(store: Store, bound: int) -> tuple[MonitorEngine, int] | None:
    """The monitor's own persisted state, when it has seen nothing past ``bound``: the newest
    state there is (the nightly report run after the day closed and before the next day's
    events: the snapshot would be the day's start, and the whole day replayed again on it).
    It is the same state a snapshot at that position would hold; ``projections.nightly.state``
    starts from it on the same condition."""
    tracked = store.tracked_position()
    if not 0 < tracked <= bound:
        return None
    runner = MonitorRunner(store)
    runner.restore()
    if runner.engine is None or not 0 < runner.position <= bound:
        return None  # it moved on meanwhile
    return runner.engine, runner.position


def _event_at(store: Store, position: int) -> RecordedEvent:
    [entry] = store.read_entries(position - 1, 1)
    return decode_admitted(entry)  # the ledger's own row, validated when admitted


def _latest_before(store: Store, position: int, event_type: str, key: str) -> RecordedEvent | None:
    """The latest ``event_type`` whose ``LATEST_BY`` field is ``key``, at or before
    ``position``: among the events indexed under subject ``key`` (an id of another kind may
    share the name, hence the field check)."""
    field_name = LATEST_BY[event_type]
    through = position
    while through > 0:
        page = audit_events(store, AuditQuery(
            subject=key, types=(event_type,), through=through, limit=LATEST_CANDIDATES_PER_PAGE,
            newest_first=True,
        ))
        for entry in reversed(page):
            if entry.data.get(field_name) == key:
                return _event_at(store, entry.position)
        if len(page) < LATEST_CANDIDATES_PER_PAGE:
            return None
        through = page[0].position - 1
    return None

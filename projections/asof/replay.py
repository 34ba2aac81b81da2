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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.events import RecordedEvent
from domain.registry.references import referenced
from projections.monitor.engine import MonitorEngine
from projections.store.base import Store
from projections.store.prefetch import decoded_events

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

    @property
    def moment(self) -> datetime | None:
        """When parameters are judged to be in force: T, or the latest business time seen."""
        return self.as_of if self.as_of is not None else self.latest_occurred_at

    def last(self, event_type: str, key: str) -> RecordedEvent | None:
        return self.latest.get((event_type, key))


def replay(
    store: Store,
    *,
    as_of: datetime | None = None,
    through: int | None = None,
    engine_factory: Callable[[], MonitorEngine] = MonitorEngine,
    prefetch: bool | None = None,
) -> Replay:
    """Replay the ledger up to position ``through`` (all of it, as it is when the replay
    starts, when None), leaving out the events that occurred after ``as_of``.

    ``prefetch`` True reads and decodes in a second process whatever the length, False in
    this one; None decides by the length (``projections.store.prefetch``)."""
    state = Replay(engine_factory(), as_of, through)
    later: set[tuple[str, str]] = set()  # entities created by events left out
    events = decoded_events(store, 0, through, prefetch=prefetch)
    try:
        for event in events:
            _step(state, event, later)
    finally:
        events.close()  # an engine that raises stops the reader at once
    return state


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
    if state.latest_occurred_at is None or envelope.occurred_at > state.latest_occurred_at:
        state.latest_occurred_at = envelope.occurred_at
    if (key_field := LATEST_BY.get(envelope.type)) is not None:
        state.latest[(envelope.type, getattr(envelope.data, key_field))] = event


def _leave_out(state: Replay, event: RecordedEvent, reason: str) -> None:
    state.left_out_count += 1
    if len(state.left_out) < LEFT_OUT_LISTED_MAX:
        state.left_out.append(LeftOut(event.position, event.envelope.event_id, reason))

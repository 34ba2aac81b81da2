"""A replay pauses the cyclic collector, runs it over the young generations every
``YOUNG_COLLECTION_EVENTS`` events, and leaves it as it found it, whatever happens; its
engine, whose state is never persisted, collects no changes; and the engine's exact decimal
context is set once for the whole replay, not twice per event."""

from __future__ import annotations

import decimal
import gc
import sys
from collections.abc import Iterator

import pytest

from domain.events import RecordedEvent
from domain.ledger import decode_entry, is_catalogue_topic
from policies.finding import Finding
from projections.asof.replay import replay
from projections.monitor.engine import MonitorEngine
from projections.store.base import Store
from tests.audit.helpers import ingest, lines_of

REPLAY_MODULE = sys.modules[replay.__module__]  # the package's ``replay`` is this function


class _Watching(MonitorEngine):
    """Notes whether the collector was on, and the decimal context current, for each event;
    raises at ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.collector_on: list[bool] = []
        self.current: list[decimal.Context] = []
        self.fail_at = fail_at

    def process(self, event: RecordedEvent) -> list[Finding]:
        self.collector_on.append(gc.isenabled())
        self.current.append(decimal.getcontext())
        if event.position == self.fail_at:
            raise RuntimeError("engine failed")
        return super().process(event)


@pytest.fixture
def young_collections() -> Iterator[list[int]]:
    """The generation of every collection that runs while the test does."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_off_during_a_replay_and_as_it_was_after(store: Store, enabled_before: bool) -> None:
    ingest(store, lines_of("mf-day"))
    engine = _Watching()
    was = gc.isenabled()
    (gc.enable if enabled_before else gc.disable)()
    try:
        done = replay(store, engine_factory=lambda: engine, prefetch=False)
        after = gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
    assert done.applied == len(engine.collector_on) > 0
    assert not any(engine.collector_on)
    assert after is enabled_before


def test_the_collector_is_back_on_when_the_engine_raises(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    engine = _Watching(fail_at=5)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="engine failed"):
        replay(store, engine_factory=lambda: engine, prefetch=False)
    assert gc.isenabled()
    assert len(engine.collector_on) == 5 and not any(engine.collector_on)


@pytest.mark.parametrize(("every_offset", "expected"), [(-1, 1), (0, 1), (1, 0)])
def test_the_young_generations_are_collected_every_so_many_events(
    store: Store, monkeypatch: pytest.MonkeyPatch, young_collections: list[int], every_offset: int, expected: int
) -> None:
    """Below, at and above the replay's length: one collection, one, none; and half of it: two."""
    ingest(store, lines_of("mf-day"))
    applied = replay(store, prefetch=False).applied
    assert applied > 10
    for every, collections in ((applied + every_offset, expected), (applied // 2, 2)):
        monkeypatch.setattr(REPLAY_MODULE, "YOUNG_COLLECTION_EVENTS", every)
        young_collections.clear()
        assert replay(store, prefetch=False).applied == applied
        assert young_collections.count(1) == collections, every
        assert set(young_collections) <= {1}, "only the young generations"


def test_a_replays_engine_collects_no_changes_and_holds_the_monitors_state(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    done = replay(store, prefetch=False)
    tracked = MonitorEngine()
    for entry in store.read_entries(0, 1000):
        if is_catalogue_topic(entry.type):
            tracked.process(decode_entry(entry))
    assert done.engine.drain_changes() == []
    assert tracked.drain_changes() != []
    assert not any(table.tracked for table in done.engine.book.tables)
    assert done.engine.state_digest() == tracked.state_digest()


def test_a_replay_sets_the_engines_exact_context_once_not_per_event(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(store, lines_of("mf-day"))
    engine = _Watching()
    outer = decimal.getcontext()
    set_to: list[decimal.Context] = []
    real_set = decimal.setcontext

    def noting(context: decimal.Context) -> None:
        set_to.append(context)
        real_set(context)

    monkeypatch.setattr(decimal, "setcontext", noting)
    done = replay(store, engine_factory=lambda: engine, prefetch=False)
    assert decimal.getcontext() is outer
    assert done.applied == len(engine.current) > 10
    assert all(c is engine._exact for c in engine.current)  # white-box: the engine's own copy
    assert set_to == [engine._exact, outer]  # entering and leaving the replay: nothing per event
    assert done.engine.state_digest() == replay(store, prefetch=False).engine.state_digest()


def test_the_context_is_restored_when_the_engine_raises(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    engine = _Watching(fail_at=5)
    outer = decimal.getcontext()
    with pytest.raises(RuntimeError, match="engine failed"):
        replay(store, engine_factory=lambda: engine, prefetch=False)
    assert decimal.getcontext() is outer
    assert len(engine.current) == 5


def test_process_inside_and_outside_exactly_gives_the_same_state(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    events = [decode_entry(e) for e in store.read_entries(0, 1000) if is_catalogue_topic(e.type)]
    inside, outside = MonitorEngine(), MonitorEngine()
    outer = decimal.getcontext()
    with inside.exactly():
        found_inside = [f for event in events for f in inside.process(event)]
        assert decimal.getcontext() is not outer
    found_outside = [f for event in events for f in outside.process(event)]
    assert decimal.getcontext() is outer
    assert found_inside == found_outside != []
    assert inside.state_digest() == outside.state_digest()

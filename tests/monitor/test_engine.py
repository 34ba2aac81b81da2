"""The engine over the shared scenarios: expected findings, restore, drain and preview."""

from __future__ import annotations

import pytest

from domain.errors import EventRejected
from domain.events import RecordedEvent
from policies.finding import Finding
from projections.monitor.engine import MonitorEngine
from tests.monitor.builders import Stream
from tests.monitor.scenarios import NAMES, expected, recorded, triples


def run(engine: MonitorEngine, events: list[RecordedEvent]) -> list[Finding]:
    return [f for event in events for f in engine.process(event)]


@pytest.mark.parametrize("name", NAMES)
def test_scenario_gives_exactly_its_expected_findings(name: str) -> None:
    assert triples(run(MonitorEngine(), recorded(name))) == expected(name)


@pytest.mark.parametrize("name", NAMES)
def test_restoring_at_any_point_continues_exactly_like_an_uninterrupted_run(name: str) -> None:
    events = recorded(name)
    whole = MonitorEngine()
    findings = run(whole, events)
    for split in range(len(events) + 1):
        first = MonitorEngine()
        before = run(first, events[:split])
        restored = MonitorEngine.restore(list(first.iter_records()))
        assert restored.state_digest() == first.state_digest()
        assert restored.drain_changes() == []
        assert before + run(restored, events[split:]) == findings, f"split at {split}"
        assert restored.state_digest() == whole.state_digest(), f"split at {split}"


@pytest.mark.parametrize("name", NAMES)
def test_drained_changes_rebuild_exactly_the_records(name: str) -> None:
    engine, persisted = MonitorEngine(), dict[tuple[str, str], str]()
    for event in recorded(name):
        engine.process(event)
        for kind, key, text in engine.drain_changes():
            if text is None:
                del persisted[(kind, key)]
            else:
                persisted[(kind, key)] = text
        assert sorted((k, kk, t) for (k, kk), t in persisted.items()) == list(engine.iter_records())


@pytest.mark.parametrize("every", [2, 5, 40])
@pytest.mark.parametrize("name", NAMES)
def test_drains_of_several_events_write_and_delete_only_what_the_store_holds(name: str, every: int) -> None:
    engine, persisted = MonitorEngine(), dict[tuple[str, str], str]()
    events = recorded(name)
    for n, event in enumerate(events, 1):
        engine.process(event)
        if n % every and n != len(events):
            continue
        for kind, key, text in engine.drain_changes():  # an order placed and filled in between
            if text is None:  # is neither written nor deleted
                del persisted[(kind, key)]
            else:
                persisted[(kind, key)] = text
        assert sorted((k, kk, t) for (k, kk), t in persisted.items()) == list(engine.iter_records())


@pytest.mark.parametrize("name", NAMES)
def test_an_engine_that_stops_tracking_changes_drains_none_and_ends_in_the_same_state(name: str) -> None:
    events = recorded(name)
    tracked, untracked = MonitorEngine(), MonitorEngine()
    run(tracked, events[:3])
    run(untracked, events[:3])
    untracked.stop_tracking_changes()  # what was collected so far is forgotten too
    assert run(untracked, events[3:]) == run(tracked, events[3:])
    assert untracked.state_digest() == tracked.state_digest()
    assert list(untracked.iter_records()) == list(tracked.iter_records())
    assert tracked.drain_changes() != []
    assert untracked.drain_changes() == []
    for event in events[-2:]:  # and a preview still leaves the state as it was
        digest = untracked.state_digest()
        untracked.preview(event.envelope, event.position)
        assert untracked.state_digest() == digest


@pytest.mark.parametrize("name", NAMES)
def test_preview_returns_what_process_would_and_leaves_the_state_as_it_was(name: str) -> None:
    engine = MonitorEngine()
    for event in recorded(name):
        digest = engine.state_digest()
        engine.drain_changes()
        previewed = engine.preview(event.envelope, event.position)
        assert engine.state_digest() == digest
        assert engine.drain_changes() == []
        assert engine.preview(event.envelope, event.position) == previewed
        caused = [f for f in engine.process(event) if f.event_id == event.envelope.event_id]
        assert caused == previewed


def test_preview_leaves_out_another_obligations_missed_deadline_that_the_event_lets_fall_due() -> None:
    """A pre-trade gate answers for the proposal: the missed deadlines its time reveals are
    raised by whatever is ingested next, not blamed on the proposal (issue 18)."""
    seen_overdue = 0
    for name in NAMES:
        engine = MonitorEngine()
        for event in recorded(name):
            previewed = engine.preview(event.envelope, event.position)
            processed = engine.process(event)
            overdue = [f for f in processed if f.event_id != event.envelope.event_id]
            seen_overdue += len(overdue)
            assert all(f.event_id == event.envelope.event_id for f in previewed)
            assert previewed == [f for f in processed if f not in overdue]
    assert seen_overdue > 0  # the scenarios do miss deadlines, so the filter was exercised


def test_records_are_bounded_by_open_things_not_by_events() -> None:
    engine = MonitorEngine()
    run(engine, recorded("mm-day"))
    kinds = [kind for kind, _, _ in engine.iter_records()]
    # T1 settled and funding met: only ETH-PERP's next funding interval stays open; filled
    # orders are gone, the two resting ones remain.
    assert kinds.count("obligation") == 1
    assert kinds.count("order") == 3


def test_finding_ids_are_deterministic_and_repeat_free() -> None:
    first = run(MonitorEngine(), recorded("perp-day"))
    second = run(MonitorEngine(), recorded("perp-day"))
    assert [f.finding_id for f in first] == [f.finding_id for f in second]
    assert len({f.finding_id for f in first}) == len(first)


def test_records_are_sorted_and_the_digest_is_their_hash() -> None:
    engine = MonitorEngine()
    run(engine, recorded("mf-day"))
    records = list(engine.iter_records())
    assert records == sorted(records)
    assert engine.state_digest() == MonitorEngine.restore(records).state_digest()


def test_a_what_if_replay_restores_with_its_overrides() -> None:
    overrides = {("MF-07", "margin_call_within_minutes"): 240}
    events = recorded("mf-day")
    whole = run(MonitorEngine(overrides), events)
    first = MonitorEngine(overrides)
    head = run(first, events[:17])
    restored = MonitorEngine.restore(list(first.iter_records()), overrides)
    assert head + run(restored, events[17:]) == whole
    assert ("MF-07", "mf-day-0018", "C1") not in triples(whole)  # the call came within 4 hours


def test_a_refused_preview_changes_nothing() -> None:
    s = Stream()
    s.standard_assets()
    digest = s.engine.state_digest()
    with pytest.raises(EventRejected):
        s.check("RuleParameterAmended", rule_id="MF-05", parameter="max_haircut", value="0.7",
                effective_from="2026-03-01T00:00:00+08:00", notice_ref="n")
    assert s.engine.state_digest() == digest
    assert s.engine.drain_changes() != []  # only what the stream itself changed
    assert s.engine.drain_changes() == []


def test_met_obligations_do_not_pile_up_in_the_deadline_heap() -> None:
    s = Stream()
    s.standard_assets()
    s.contract("BTC-PERP")
    s.client("A")
    s.client("B")
    s.deposit("DA", "A", "100000000")
    s.deposit("DB", "B", "100000000")
    for n in range(300):
        s.fill(f"T{n}", "A", "B", "1", "500000")
        s.send("PerpTradeSettled", trade_id=f"T{n}", settled_by="platform")
    book = s.engine._book  # white-box: the heap is derived, not a record
    assert len(book.deadlines) <= 2 * len(book.obligations) + 64

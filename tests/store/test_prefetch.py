"""The prefetching reader (``projections.store.prefetch``): its codec rebuilds every event type
exactly as validation built it, the child gives the same events as the in-process read on both
stores, its failures reach the parent, it never outlives its consumer, and a replay through it
gives the same findings and state."""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel

from domain.errors import EventRejected, Reason, StoreUnavailable
from domain.events import EVENT_TYPES, RecordedEvent
from domain.ledger import decode_entry
from domain.ledger_storage import StoredEntry
from ops.bench.stream import simulated_stream
from ops.lines import open_inputs
from ops.render import finding_json
from ops.wiring import build_ledger
from projections.asof import replay as replay_as_of
from projections.evidence.replay import as_row
from projections.evidence.replay import replay as replay_findings
from projections.store import prefetch
from projections.store.base import ReopenSpec, Store
from projections.store.postgres import PostgresStore
from projections.store.prefetch import decoded_events
from tests.conftest import SCENARIOS
from tests.domain.test_events import EXAMPLES
from tests.evidence.tamper import Dba

SIMULATED_EVENTS = 3_000
CASE_TOPIC = "domain.cases:Case.Opened"  # a ledger entry that is not a catalogue event
SMALL_PAGE = 700  # the child's page in these tests: several batches, pages cut mid-way


# --- the codec, on every event type -----------------------------------------------------------


def _example_lines() -> Iterator[bytes]:
    """Each type's example as sent, without its optional fields, and with its envelope varied:
    no source (its default), other offsets, fractional seconds, Decimals written oddly."""
    n = count()
    for event_type, data in EXAMPLES.items():
        model = EVENT_TYPES[event_type]
        required = {k: v for k, v in data.items() if model.model_fields[k].is_required()}
        for variant, occurred_at in ((data, "2026-03-02T09:00:00+08:00"),
                                     (required, "2026-03-02T01:00:00.250000Z"),
                                     (data, "2026-03-01T20:00:00.000001-05:30")):
            envelope: dict[str, Any] = {"event_id": f"x-{next(n)}", "type": event_type,
                                        "occurred_at": occurred_at, "data": variant}
            if variant is data:
                envelope["source"] = "tests"
            yield json.dumps(envelope).encode()
    odd = {"asset": "BTC", "price": "1.0", "price_source": "a"}, {"asset": "BTC", "price": "1E-8", "price_source": "a"}
    for data in (*odd, {"asset": "BTC", "price": "12.3400", "price_source": "a"}, {"asset": "B", "price": 7, "price_source": "a"}):
        yield json.dumps({"event_id": f"x-{next(n)}", "type": "PriceObserved", "occurred_at": "2026-03-02T09:00:00+00:00", "data": data}).encode()


def _codec_corpus() -> list[RecordedEvent]:
    lines = [line.rstrip(b"\n") for name in sorted(SCENARIOS.glob("*.jsonl")) for line in name.open("rb")]
    lines += list(_example_lines()) + list(simulated_stream(SIMULATED_EVENTS))
    decoded = []
    for position, line in enumerate(lines, 1):
        envelope = json.loads(line)
        if envelope.get("type") not in EVENT_TYPES:
            continue
        entry = StoredEntry(position, envelope.get("event_id", "?"), envelope["type"], line,
                            datetime(2026, 3, 2, 1, 0, position % 60, tzinfo=UTC), b"", 1)
        try:
            decoded.append(decode_entry(entry))
        except EventRejected:  # the scenarios' rejects: never in a ledger
            continue
    return decoded


def _decimals(model: BaseModel) -> Iterator[tuple[str, tuple[int, tuple[int, ...], int | str]]]:
    for name, value in model.__dict__.items():
        if isinstance(value, Decimal):
            yield name, value.as_tuple()
        elif isinstance(value, BaseModel):
            yield from ((f"{name}.{n}", t) for n, t in _decimals(value))


def _assert_same(rebuilt: RecordedEvent, direct: RecordedEvent) -> None:
    assert type(rebuilt) is RecordedEvent
    assert rebuilt == direct
    assert (rebuilt.position, rebuilt.recorded_at) == (direct.position, direct.recorded_at)
    for mine, theirs in ((rebuilt.envelope, direct.envelope), (rebuilt.envelope.data, direct.envelope.data)):
        assert type(mine) is type(theirs)
        assert mine == theirs
        assert mine.model_dump_json() == theirs.model_dump_json()
        assert mine.model_dump() == theirs.model_dump()
        assert mine.model_fields_set == theirs.model_fields_set
        assert mine.__dict__ == theirs.__dict__ and list(mine.__dict__) == list(theirs.__dict__)
        assert hash(mine) == hash(theirs)
        assert list(_decimals(mine)) == list(_decimals(theirs))
        assert mine.__pydantic_extra__ is None and mine.__pydantic_private__ is None
    for name, value in rebuilt.envelope.data.__dict__.items():
        if isinstance(value, BaseModel):
            theirs = direct.envelope.data.__dict__[name]
            assert type(value) is type(theirs)
            assert value.model_fields_set == theirs.model_fields_set
            assert value.model_dump_json() == theirs.model_dump_json()
    assert rebuilt.envelope.occurred_at.utcoffset() == direct.envelope.occurred_at.utcoffset()
    assert rebuilt.envelope.model_copy(update={"source": "s"}).source == "s"


def test_the_codec_rebuilds_every_event_of_every_type_exactly_as_validation_built_it() -> None:
    corpus = _codec_corpus()
    assert {e.envelope.type for e in corpus} == set(EVENT_TYPES)  # a new type must be covered
    assert len(EVENT_TYPES) == 35
    batch = prefetch.pickled_batch(corpus)
    rebuilt = prefetch.decode_batch(batch)
    assert gc.isenabled()  # held off while rebuilding only
    assert len(rebuilt) == len(corpus)
    for mine, theirs in zip(rebuilt, corpus, strict=True):
        _assert_same(mine, theirs)
    # the odd Decimals keep their exponents
    prices = [str(e.envelope.data.price) for e in rebuilt if e.envelope.event_id.startswith("x-") and e.envelope.type == "PriceObserved"]  # type: ignore[attr-defined]
    assert {"1.0", "1E-8", "12.3400", "7"} <= set(prices)


def test_the_codec_knows_every_model_an_event_can_hold() -> None:
    names = {model.__name__ for model in prefetch.MODELS}
    assert set(EVENT_TYPES) | {"Envelope", "PIAssessment", "MarketMakerControls"} == names


def test_a_batch_rebuilds_every_model_by_the_codec_and_names_each_field_once() -> None:
    corpus = [e for e in _codec_corpus() if e.envelope.type == "PerpTradeExecuted"][:50]
    assert len(corpus) == 50
    batch = prefetch.pickled_batch(corpus)
    assert b"BaseModel" not in batch and b"__setstate__" not in batch  # no pydantic pickling
    assert batch.count(b"buy_order_id") == 1  # memoised: each name once per batch
    assert batch.count(b"_recorded") == batch.count(b"_model") == 1  # each rebuilder named once
    for mine, theirs in zip(prefetch.decode_batch(batch), corpus, strict=True):
        _assert_same(mine, theirs)


# --- the reader, on both stores ---------------------------------------------------------------


def _ingest_simulated(store: Store, tmp_path: Path, events: int = SIMULATED_EVENTS, skip: int = 0) -> int:
    """Lines ``skip`` to ``events`` of the simulated stream ingested; how many."""
    path = tmp_path / f"stream-{skip}.jsonl"
    path.write_bytes(b"\n".join(list(simulated_stream(events))[skip:]) + b"\n")
    summary = build_ledger(store).ingest(open_inputs([str(path)]), 500)
    assert summary.rejected == 0
    assert summary.accepted == events - skip
    return summary.accepted


def _with_case_actions(store: Store) -> None:
    store.recorder.insert_events([StoredEvent("case-1", 1, CASE_TOPIC, b"{}")])


def test_the_child_reads_exactly_what_the_process_reads_within_any_bounds(store: Store, tmp_path: Path) -> None:
    accepted = _ingest_simulated(store, tmp_path, 2_000)
    _with_case_actions(store)  # position accepted + 1: skipped by both
    _ingest_simulated(store, tmp_path, 2_600, skip=2_000)
    tip = store.tip().position
    assert tip > accepted + 1
    for after, through in ((0, None), (0, SMALL_PAGE), (SMALL_PAGE - 1, 2 * SMALL_PAGE + 1),
                           (SMALL_PAGE, accepted + 1), (accepted, tip + 50), (tip - 3, None)):
        mine = list(decoded_events(store, after, through, prefetch=True, child_page_entries=SMALL_PAGE))
        theirs = list(decoded_events(store, after, through, prefetch=False))
        assert [e.position for e in mine] == [e.position for e in theirs], (after, through)
        assert mine == theirs
        assert all(a.envelope.model_dump_json() == b.envelope.model_dump_json() for a, b in zip(mine, theirs, strict=True))
        assert all(e.envelope.type in EVENT_TYPES for e in mine)
        assert all(after < e.position <= (through or tip) for e in mine)
    assert multiprocessing.active_children() == []


def test_the_threshold_decides_the_path_and_an_empty_range_reads_nothing(store: Store, tmp_path: Path) -> None:
    _ingest_simulated(store, tmp_path, 300)
    assert list(decoded_events(store, 300, None, prefetch=True)) == []
    whole = list(decoded_events(store, prefetch_entries_min=100, child_page_entries=SMALL_PAGE))  # in the child
    assert whole == list(decoded_events(store))  # in process: 300 entries are few
    assert [e.position for e in whole] == list(range(1, 301))


def test_an_undecodable_row_fails_in_the_parent_after_the_events_before_it(store: Store, store_url: str, tmp_path: Path) -> None:
    _ingest_simulated(store, tmp_path, 1_500)
    Dba(store_url).run(("UPDATE ledger_events SET state = ? WHERE notification_id = ?", (b'{"event_id": 1}', 1_000)))
    with pytest.raises(EventRejected) as in_process:
        list(decoded_events(store, prefetch=False))
    seen: list[int] = []
    with pytest.raises(EventRejected) as from_child:
        for event in decoded_events(store, prefetch=True, child_page_entries=SMALL_PAGE):
            seen.append(event.position)
    assert str(from_child.value) == str(in_process.value)
    assert from_child.value.reasons == in_process.value.reasons
    assert any("decoding the entry at position 1000" in note for note in getattr(from_child.value, "__notes__", ()))
    assert seen == list(range(1, 1_000))
    assert multiprocessing.active_children() == []


def test_a_store_the_child_cannot_reach_fails_in_the_parent() -> None:
    events = prefetch._from_child(
        ReopenSpec("postgresql", PostgresStore, "host=127.0.0.1 port=1 dbname=nowhere user=nobody", {"pool_size": 1}), 0, 10
    )
    with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL"):
        next(events)
    assert multiprocessing.active_children() == []


def test_a_consumer_that_stops_early_leaves_no_child_behind(store: Store, tmp_path: Path) -> None:
    _ingest_simulated(store, tmp_path, 2_000)
    events = decoded_events(store, prefetch=True, child_page_entries=200)
    first = next(events)
    assert first.position == 1
    assert len(multiprocessing.active_children()) == 1
    events.close()
    assert multiprocessing.active_children() == []
    for event in decoded_events(store, prefetch=True, child_page_entries=200):
        if event.position == 250:
            break
    assert multiprocessing.active_children() == []


def test_a_replay_through_the_child_gives_the_same_findings_and_state(store: Store, tmp_path: Path) -> None:
    _ingest_simulated(store, tmp_path)
    _with_case_actions(store)
    mine, theirs = replay_as_of(store, prefetch=True), replay_as_of(store, prefetch=False)
    assert mine.applied == theirs.applied == SIMULATED_EVENTS
    assert mine.position == theirs.position
    assert mine.latest == theirs.latest
    assert mine.engine.state_digest() == theirs.engine.state_digest()
    found, expected = replay_findings(store, prefetch=True), replay_findings(store, prefetch=False)
    assert found.findings
    assert [finding_json(as_row(f, i)) for i, f in enumerate(found.findings)] == [
        finding_json(as_row(f, i)) for i, f in enumerate(expected.findings)
    ]
    assert multiprocessing.active_children() == []


class _Unpicklable(Exception):
    def __init__(self, first: str, second: str):
        super().__init__(f"{first} and {second}")


def test_an_error_that_cannot_cross_the_process_boundary_becomes_a_runtime_error_saying_where() -> None:
    error = prefetch._error_from(prefetch._portable(_Unpicklable("a", "b"), "decoding the entry at position 7"))
    assert type(error) is RuntimeError
    assert str(error) == "in the prefetch reader process, decoding the entry at position 7: _Unpicklable: a and b"
    rejected = prefetch._error_from(prefetch._portable(EventRejected([Reason("data", "is required")], "e-1"), "x"))
    assert type(rejected) is EventRejected and rejected.event_id == "e-1" and str(rejected) == "data: is required"

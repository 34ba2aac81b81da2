"""The audit index: every event under every id it names and under the owners of those ids,
filtered and paged from the index, kept exactly once like the monitor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from domain.ledger import InputLine
from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from ops.simulate import SimConfig, write_stream
from ops.wiring import build_ledger
from projections.audit import AuditIndex, AuditQuery, audit_events
from projections.evidence.drift import check_projections
from projections.store.base import Store
from tests.audit.helpers import LATER, RECORDED, event, ingest, lines_of


def ids(store: Store, **query: object) -> list[str]:
    return [e.event_id for e in audit_events(store, AuditQuery(**query))]  # type: ignore[arg-type]  # test shorthand


def append_only(store: Store, lines: list[bytes]) -> None:
    """Append without indexing, so that a test drives the indexers itself."""
    build_ledger(store).ingest_batch([InputLine("t", n, raw) for n, raw in enumerate(lines, 1)])


def mf(n: int) -> str:
    return f"mf-day-{n:04d}"


def test_a_clients_trail_holds_everything_of_its_own_in_ledger_order(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    # C1 itself, its account A1, pledge P1, loan L1 and call MC1; P1's transfer names only P1.
    assert ids(store, subject="C1") == [mf(n) for n in (10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 38)]
    assert ids(store, subject="P1") == [mf(15), mf(38)]
    assert ids(store, subject="L1") == [mf(16), mf(20)]
    assert ids(store, subject="MC1") == [mf(19), mf(21)]
    assert ids(store, subject="BTC") == [mf(n) for n in (3, 7, 15, 16, 17, 18)]


def test_a_trade_is_in_the_trail_of_both_sides_and_of_the_contract(store: Store) -> None:
    ingest(store, lines_of("mm-day"))
    trades = ("PerpTradeExecuted", "PerpTradeSettled")
    for subject in ("MMA-1", "K2", "ETH-PERP", "T1"):
        assert ids(store, subject=subject, types=trades) == ["mm-day-0034", "mm-day-0039"], subject
    assert ids(store, subject="K1", types=trades) == []


def test_filters_on_type_source_and_business_time_read_the_index(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    assert ids(store, subject="C1", types=("VAFinancingDrawn", "VAFinancingRepaid")) == [mf(16), mf(20)]
    assert ids(store, subject="C1", source="risk") == [mf(19), mf(21)]
    assert ids(store, types=("PriceObserved",), source="ops") == [mf(n) for n in (6, 7, 8, 9, 17, 18)]
    since, until = datetime.fromisoformat("2026-03-02T11:00:16+08:00"), datetime.fromisoformat("2026-03-02T13:15:18+08:00")
    # Boundaries are inclusive: 0017 occurred exactly at `since`, 0019 exactly at `until`.
    assert ids(store, subject="BTC", since=since, until=until) == [mf(17), mf(18)]
    assert ids(store, subject="C1", since=since, until=until) == [mf(19)]


def test_pages_follow_the_ledger_position(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    first = audit_events(store, AuditQuery(subject="C1", limit=4))
    second = audit_events(store, AuditQuery(subject="C1", limit=4, after=first[-1].position))
    last = audit_events(store, AuditQuery(subject="C1", limit=4, after=second[-1].position))
    assert [e.event_id for e in first + second + last] == ids(store, subject="C1")
    assert [len(first), len(second), len(last)] == [4, 4, 3]
    newest = audit_events(store, AuditQuery(subject="C1", limit=2, newest_first=True))
    assert [e.event_id for e in newest] == [mf(21), mf(38)]  # the last two, still in ledger order


def test_known_at_keeps_only_what_the_ledger_had_recorded_by_then(store: Store) -> None:
    ingest(store, lines_of("mf-day"), recorded_at=RECORDED)
    late = event("late-1", "VAFinancingRepaid", "2026-03-02T12:10:00+08:00", {"loan_id": "L1", "amount": "1"})
    ingest(store, [late], recorded_at=LATER)
    assert ids(store, subject="L1") == [mf(16), mf(20), "late-1"]
    assert ids(store, subject="L1", known_at=RECORDED) == [mf(16), mf(20)]
    assert ids(store, subject="L1", known_at=LATER) == [mf(16), mf(20), "late-1"]
    assert ids(store, subject="L1", known_at=datetime(2020, 1, 1, tzinfo=RECORDED.tzinfo)) == []


def test_an_entry_shows_the_event_exactly_as_stored_with_both_times(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    [entry] = audit_events(store, AuditQuery(subject="C1", types=("MarginCallIssued",)))
    assert entry.as_json() == {
        "position": 19, "event_id": mf(19), "type": "MarginCallIssued",
        "occurred_at": "2026-03-02T13:15:18+08:00", "recorded_at": RECORDED.isoformat(),
        "source": "risk",
        "data": {"call_id": "MC1", "client_id": "C1", "shortfall": "20000", "due_by": "2026-03-02T15:15:18+08:00"},
    }


def test_two_indexers_index_each_event_exactly_once(store: Store) -> None:
    append_only(store, lines_of("mf-day"))
    first, second = AuditIndex(store, page_size=5), AuditIndex(store, page_size=7)
    first.catch_up(until=10)
    second.catch_up(until=24)  # overtakes nothing: starts from the tracked 10
    first.catch_up()  # finds itself overtaken at 10, resumes from 24
    second.catch_up()
    assert (first.position, second.position, store.tracked_position("audit")) == (38, 38, 38)
    assert ids(store, subject="C1") == [mf(n) for n in (10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 38)]
    assert len(ids(store, limit=1000)) == 38


@pytest.mark.parametrize("page_size", [1, 3, 5000])
def test_the_index_is_the_same_whatever_the_page_size(store: Store, page_size: int) -> None:
    append_only(store, lines_of("perp-day"))
    AuditIndex(store, page_size=page_size).catch_up()
    assert ids(store, subject="P1") == [f"perp-day-{n:04d}" for n in (22, 23, 24, 25, 30, 31, 33, 35, 36)]
    assert ids(store, subject="P2", types=("PerpTradeExecuted",)) == ["perp-day-0035"]


def test_a_batch_taken_as_ingest_decoded_it_is_indexed_as_one_read_back_from_the_log(
    store: Store, tmp_path: Path
) -> None:
    """The pipeline hands the index each batch's decoded events; the index rebuilt from the
    stored JSON (``verify --projections``) is the same, row for row, with owners read across
    batches and an event ingest decoded (the catalogue's every type, late and early times)."""
    stream = tmp_path / "sim.jsonl"
    write_stream(SimConfig(clients=30, days=2, seed=5, violations=0.05), stream)
    IngestPipeline(store).ingest(open_inputs([str(stream)]), 97)
    drift = check_projections(store)
    assert drift.difference is None, str(drift.difference)
    checked = {c.model: (c.position, c.rows) for c in drift.checked}
    assert checked["audit index"][0] == store.tip().position and checked["audit index"][1] > 0

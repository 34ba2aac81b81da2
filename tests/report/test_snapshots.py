"""The monitor's state kept at each Hong Kong midnight: taken at the right positions, equal to
the state replayed from nothing, used by the nightly report with the same result as a full
replay, kept across separate ingest runs, pruned, and never trusted when damaged."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from domain.ledger import decode_entry, is_catalogue_topic
from ops.simulate import SimConfig, write_stream
from ops.wiring import open_store
from projections.monitor import snapshots
from projections.monitor.engine import MonitorEngine
from projections.monitor.snapshots import hong_kong_midnight_after
from projections.nightly.report import build
from projections.nightly.scan import scan
from projections.nightly.state import state_at
from projections.nightly.window import Window
from projections.sql import Sql
from projections.store.base import Store
from tests.conftest import fresh_store_url
from tests.simulate.helpers import ingest

CONFIG = SimConfig(clients=40, days=4, seed=5, violations=0.01)
FIRST_DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "sim.jsonl"
    write_stream(CONFIG, path)
    return path


def kept(url: str) -> list[tuple[int, str]]:
    store = open_store(url)
    try:
        return [(r[0], r[1]) for r in Sql(store).rows("SELECT position, state_digest FROM monitor_snapshots ORDER BY position")]
    finally:
        store.close()


def business_times(url: str) -> list[datetime]:
    """occurred_at of every position, in ledger order (the streams here hold no case actions)."""
    store = open_store(url)
    try:
        entries = store.read_entries(0, 1_000_000)
        assert all(is_catalogue_topic(e.type) for e in entries)
        return [decode_entry(e).envelope.occurred_at for e in entries]
    finally:
        store.close()


def replayed_digest(url: str, position: int) -> str:
    store = open_store(url)
    try:
        engine = MonitorEngine()
        for entry in store.read_entries(0, position):
            engine.process(decode_entry(entry))
        return engine.state_digest()
    finally:
        store.close()


def test_a_snapshot_is_taken_before_the_first_event_past_each_midnight_and_equals_a_replay(store_url: str, stream: Path) -> None:
    assert ingest(store_url, stream).rejected == 0
    times = business_times(store_url)
    expected, reached = [], hong_kong_midnight_after(times[0])
    for position, moment in enumerate(times[1:], start=2):
        if moment > reached:
            expected.append(position - 1)
            reached = hong_kong_midnight_after(moment)
    taken = kept(store_url)
    assert [p for p, _ in taken] == expected and len(expected) >= CONFIG.days - 1
    for position, digest in taken:
        assert all(t <= hong_kong_midnight_after(times[position - 1]) for t in times[:position])
        assert digest == replayed_digest(store_url, position)


def test_separate_ingest_runs_per_day_keep_the_same_snapshots_as_one_run(store_url: str, stream: Path, tmp_path: Path) -> None:
    ingest(store_url, stream)
    kind = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    lines = stream.read_text().splitlines(keepends=True)
    days: dict[datetime, list[str]] = {}
    for line in lines:
        days.setdefault(hong_kong_midnight_after(datetime.fromisoformat(json.loads(line)["occurred_at"])), []).append(line)
    with fresh_store_url(kind, tmp_path / "daily") as daily:
        for n, chunk in enumerate(days.values()):
            (tmp_path / f"day-{n}.jsonl").write_text("".join(chunk))
            assert ingest(daily, tmp_path / f"day-{n}.jsonl").rejected == 0
        assert kept(daily) == kept(store_url) != []


def _report_without_snapshots(store: Store, day: date) -> dict[str, object]:
    with Sql(store).writing() as c:
        c.execute("DELETE FROM monitor_snapshots")
    return build(store, day)


def test_the_report_of_an_earlier_day_starts_from_its_snapshot_and_equals_a_full_replay(store: Store, stream: Path, store_url: str) -> None:
    ingest(store_url, stream)
    day = date(2026, 3, 3)
    window = Window(day)
    state = state_at(store, window.cutoff, scan(store, window).prefix)
    assert state.started_from == max(p for p, _ in kept(store_url) if p <= scan(store, window).prefix) > 0
    assert state.started_from < store.tracked_position()
    from_snapshots = [build(store, d) for d in (FIRST_DAY, day)]
    assert [_report_without_snapshots(store, d) for d in (FIRST_DAY, day)] == from_snapshots
    assert state_at(store, window.cutoff, scan(store, window).prefix).started_from == 0


def test_a_late_event_recorded_after_the_next_days_events_counts_from_the_snapshot(store: Store, store_url: str, stream: Path, tmp_path: Path) -> None:
    ingest(store_url, stream)
    day = date(2026, 3, 3)
    before = build(store, day)
    late = {"event_id": "late-1", "type": "PriceObserved", "occurred_at": "2026-03-03T23:59:59+08:00",
            "data": {"asset": "BTC", "price": "1", "price_source": "late feed"}}
    (tmp_path / "late.jsonl").write_text(json.dumps(late) + "\n")
    assert ingest(store_url, tmp_path / "late.jsonl").rejected == 0
    report = build(store, day)
    assert report["ledger"]["events_of_day"] == before["ledger"]["events_of_day"] + 1
    assert report["coverage"] != before["coverage"]  # the late price counts: BTC pledges are worth almost nothing
    assert report == _report_without_snapshots(store, day)


def test_only_the_newest_snapshots_are_kept(store_url: str, stream: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOTS_KEPT", 2)
    ingest(store_url, stream)
    times = business_times(store_url)
    positions = [p for p, _ in kept(store_url)]
    assert len(positions) == 2
    assert times[positions[-1]] > hong_kong_midnight_after(times[positions[-1] - 1])  # the newest midnight


def test_a_damaged_snapshot_is_not_trusted(store: Store, store_url: str, stream: Path) -> None:
    ingest(store_url, stream)
    day = date(2026, 3, 3)
    expected = build(store, day)
    position = max(p for p, _ in kept(store_url) if p <= scan(store, Window(day)).prefix)
    with Sql(store).writing() as c:
        c.execute("UPDATE monitor_snapshots SET state_digest = ? WHERE position = ?", ("0" * 64, position))
    window = Window(day)
    assert state_at(store, window.cutoff, scan(store, window).prefix).started_from == 0
    assert build(store, day) == expected


def test_verify_projections_checks_every_snapshot_against_the_rebuild(store: Store, store_url: str, stream: Path) -> None:
    from projections.evidence.drift import check_projections

    ingest(store_url, stream)
    (first, _), (second, _), *_ = kept(store_url)
    clean = check_projections(store)
    assert (clean.intact, [c.rows for c in clean.checked if c.model == "monitor"] > [len(kept(store_url))]) == (True, True)
    with Sql(store).writing() as c:  # the second's records under the first's digest
        c.execute("UPDATE monitor_snapshots SET records = (SELECT records FROM monitor_snapshots WHERE position = ?)"
                  " WHERE position = ?", (second, first))
    drift = check_projections(store).difference
    assert drift is not None
    assert (drift.model, drift.table, drift.key, list(drift.stored or ())) == (
        "monitor", "monitor_snapshots", {"position": first}, ["records"])
    with Sql(store).writing() as c:  # and now its digest too: consistent, but not the state at that position
        c.execute("UPDATE monitor_snapshots SET state_digest = (SELECT state_digest FROM monitor_snapshots"
                  " WHERE position = ?) WHERE position = ?", (second, first))
    drift = check_projections(store).difference
    assert drift is not None and (drift.key, sorted(drift.stored or ())) == ({"position": first}, ["records", "state_digest"])


def test_a_restart_just_after_a_late_event_takes_no_snapshot_a_continuous_run_would_not(store: Store) -> None:
    from projections.evidence.drift import check_projections
    from tests.audit.helpers import event, lines_of
    from tests.audit.helpers import ingest as ingest_lines

    def price(n: int, at: str) -> bytes:
        return event(f"p-{n}", "PriceObserved", at, {"asset": "BTC", "price": "360000", "price_source": "vatp-a"})

    ingest_lines(store, lines_of("mf-day"))  # 2 March (HKT)
    ingest_lines(store, [price(1, "2026-03-03T10:00:00+08:00")])  # past midnight: a snapshot at 38
    ingest_lines(store, [price(2, "2026-03-02T15:00:00+08:00")])  # late: its day closed already
    ingest_lines(store, [price(3, "2026-03-03T11:00:00+08:00")])  # a new monitor run, same day as p-1
    assert [p for p, _ in Sql(store).rows("SELECT position, 1 FROM monitor_snapshots")] == [38]
    assert check_projections(store).intact

"""The monitor as a projection: exactly once across runs, splits, restarts and SIGKILL."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ledger import InputLine
from ops.bench.stream import bench_stream
from ops.lines import open_inputs
from ops.wiring import build_ledger, build_monitor
from projections.store import open_store
from projections.store.base import FindingFilter, Store, StoredEntry
from tests.conftest import SCENARIO_NAMES, SCENARIOS, fresh_store_url


def findings_of(store: Store) -> list[tuple[str, str, str, str]]:
    return [(f.finding_id, f.rule_id, f.event_id, f.subject) for f in store.findings(FindingFilter())]


def expected_multiset(name: str) -> collections.Counter[tuple[str, str, str]]:
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text())
    return collections.Counter((f["rule_id"], f["event_id"], f["subject"]) for f in expected)


def ingest_run(url: str, lines: list[InputLine]) -> None:
    """One ``regledger ingest`` run: a fresh process's ledger and monitor."""
    store = open_store(url, create=True)
    try:
        ledger, monitor = build_ledger(store), build_monitor(store)
        ledger.ingest(iter(lines), 1000)
        monitor.catch_up()
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("name", SCENARIO_NAMES)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_splitting_ingestion_into_several_runs_gives_the_same_findings(
    kind: str, name: str, data: st.DataObject, tmp_path: Path
) -> None:
    lines = list(open_inputs([str(SCENARIOS / f"{name}.jsonl")]))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(lines) - 1), max_size=4), label="cuts"))
    with fresh_store_url(kind, tmp_path) as url:
        for start, stop in zip([0, *cuts], [*cuts, len(lines)], strict=True):
            ingest_run(url, lines[start:stop])
        store = open_store(url)
        try:
            got = collections.Counter((r, e, s) for _, r, e, s in findings_of(store))
            assert got == expected_multiset(name)
            assert store.tracked_position() == store.tip().position == len(lines)
        finally:
            store.close()


def test_a_second_monitor_never_records_an_event_twice(store: Store) -> None:
    build_ledger(store).ingest(open_inputs([str(SCENARIOS / "perp-day.jsonl")]), 1000)
    first, second = build_monitor(store), build_monitor(store)
    first.catch_up(until=20)
    second.catch_up()  # restores at 20 and goes on to the tip
    first.catch_up()  # overtaken: it must restore, not record 21.. again
    assert collections.Counter((r, e, s) for _, r, e, s in findings_of(store)) == expected_multiset("perp-day")


def test_restarting_resumes_from_persisted_state_without_replaying(store: Store) -> None:
    build_ledger(store).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]), 1000)
    build_monitor(store).catch_up(until=30)
    resumed = build_monitor(store)
    resumed.restore()
    assert resumed.position == 30
    done = resumed.catch_up()
    assert done.events == 8
    assert collections.Counter((r, e, s) for _, r, e, s in findings_of(store)) == expected_multiset("mf-day")


def test_batches_handed_over_by_ingest_are_processed_without_reading_the_log_again(store: Store) -> None:
    ledger, monitor = build_ledger(store), build_monitor(store)
    monitor.restore()
    reads: list[int] = []
    read_entries = store.read_entries

    def counting(after: int, limit: int) -> list[StoredEntry]:
        reads.append(after)
        return read_entries(after, limit)

    store.read_entries = counting  # type: ignore[method-assign]  # spy on the log reads
    lines = open_inputs([str(SCENARIOS / "perp-day.jsonl")])
    for batch in ledger.admit(lines, 7):
        monitor.catch_up(until=batch.last_position, recorded=batch.recorded)
    assert reads == []
    assert monitor.position == store.tip().position == store.tracked_position()
    assert collections.Counter((r, e, s) for _, r, e, s in findings_of(store)) == expected_multiset("perp-day")


def test_a_handed_over_batch_past_the_tracked_position_is_read_from_the_log(store: Store) -> None:
    lines = list(open_inputs([str(SCENARIOS / "perp-day.jsonl")]))
    ledger, monitor = build_ledger(store), build_monitor(store)
    ledger.ingest(iter(lines[:12]), 1000)  # appended while no monitor ran
    batches = list(ledger.admit(iter(lines[12:]), 5))
    monitor.catch_up(until=batches[0].last_position, recorded=batches[0].recorded)
    monitor.catch_up(until=batches[1].last_position, recorded=batches[0].recorded)  # not its own
    for batch in batches[2:]:
        monitor.catch_up(until=batch.last_position, recorded=batch.recorded)
    assert monitor.position == store.tip().position == store.tracked_position()
    assert collections.Counter((r, e, s) for _, r, e, s in findings_of(store)) == expected_multiset("perp-day")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_of_monitor_follow_mid_batch_changes_no_finding(kind: str, tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"\n".join(bench_stream(30_000, clients=2_000, retail_share=0.2)) + b"\n")
    with fresh_store_url(kind, tmp_path / "clean") as clean_url, fresh_store_url(kind, tmp_path / "killed") as url:
        for target in (clean_url, url):
            store = open_store(target, create=True)
            build_ledger(store).ingest(open_inputs([str(stream)]), 1000)
            store.close()
        ingest_run(clean_url, [])
        kills = 0
        for delay_s in (0.8, 1.3, 1.9, 2.6):
            monitor = subprocess.Popen([sys.executable, "-m", "ops", "monitor", "--follow", "--db", url],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay_s)
            if monitor.poll() is None:
                os.kill(monitor.pid, signal.SIGKILL)
                kills += 1
            monitor.wait()
        assert kills >= 1, "the monitor finished before any kill: make the stream longer"
        done = subprocess.run([sys.executable, "-m", "ops", "monitor", "--db", url], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        clean, killed = open_store(clean_url), open_store(url)
        try:
            assert findings_of(killed) == findings_of(clean)
            assert len(findings_of(clean)) > 100
            assert list(killed.monitor_records()) == list(clean.monitor_records())
        finally:
            clean.close()
            killed.close()

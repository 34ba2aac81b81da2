"""End-to-end detection latency under a steady load: from an event's commit to its finding
being visible to a reader, with the monitor running as deployed, ``regledger monitor --follow``
in a process of its own (its default poll interval).

This process appends a simulated stream with breaches injected often (``VIOLATIONS``) at a
steady ``RATE_EVENTS_PER_S``, ``BATCH_EVENTS`` per transaction through the ledger's ingest (as
``regledger ingest`` and ``POST /v1/events`` validate and append, without the in-process
monitor, so the follower does all the monitoring), noting each batch's commit time. A thread
polls the findings table every ``FINDINGS_POLL_S``; a finding's latency is the moment it was
seen minus the commit time of the batch holding its event. The first ``WARMUP_EVENTS``
(reference data, day one) are appended before the clock starts and the follower has caught up
with them. A run lasts ``DURATION_S`` or ``size`` events, whichever is shorter.
Goal: p99 under 250 ms at 5,000 events/s.
"""

from __future__ import annotations

import bisect
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from domain.ledger import InputLine
from ops.bench.stores import STORES, FreshStore
from ops.bench.stream import simulated_stream
from ops.commands.core import FOLLOW_POLL_S
from ops.wiring import build_ledger, open_store
from projections.sql import Sql
from projections.store.base import Store

RATE_EVENTS_PER_S = 5_000
BATCH_EVENTS = 50  # one transaction every 10 ms at the rate
DURATION_S = 60
WARMUP_EVENTS = 3_000
VIOLATIONS = 0.05  # per rule and simulated hour: a finding every few hundred events
FINDINGS_POLL_S = 0.005  # the reader's own polling, the resolution of every figure
FOLLOWER_TIMEOUT_S = 120  # to start and catch up with the warm-up, then to drain at the end
Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Latency:
    findings: int
    events: int
    load_events_per_s: float  # achieved
    behind_schedule_ms: float  # the writer's worst lag behind its steady schedule
    p50_ms: float
    p99_ms: float
    max_ms: float
    follower_rss_mib: float  # monitor --follow's peak resident memory (VmHWM)
    load: float  # the machine's 1-minute load average at the end


def _lines(raw: list[bytes], first_no: int) -> Iterator[InputLine]:
    return (InputLine("bench", first_no + n, line) for n, line in enumerate(raw))


def _follower(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REGLEDGER_LOG_LEVEL": "warning", "REGLEDGER_LOG_FORMAT": "console"}
    return subprocess.Popen([sys.executable, "-m", "ops", "monitor", "--follow", "--db", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _wait_for_monitor(store: Store, position: int, follower: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + FOLLOWER_TIMEOUT_S
    while store.tracked_position() < position:
        assert follower.poll() is None, f"monitor --follow exited: {follower.communicate()[1].decode()[-2000:]}"
        assert time.monotonic() < deadline, f"monitor --follow did not reach position {position}"
        time.sleep(FINDINGS_POLL_S)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class FindingsWatch(threading.Thread):
    """Notes (position, moment first seen) of every finding, polling its own connection."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.seen: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        store = open_store(self.url)
        last_seq = 0
        try:
            sql = Sql(store)
            while not self.stop.is_set():
                rows = sql.rows("SELECT seq, position FROM findings WHERE seq > ? ORDER BY seq", (last_seq,))
                now = time.perf_counter()
                self.seen.extend((position, now) for _, position in rows)
                if rows:
                    last_seq = rows[-1][0]
                time.sleep(FINDINGS_POLL_S)
        except BaseException as e:  # surfaced by measure(), in the main thread
            self.error = e
        finally:
            store.close()


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(url: str, raw: list[bytes]) -> Latency:
    """Append ``raw`` to the fresh store at ``url`` at the steady rate under a follower."""
    store = open_store(url, create=True)
    ledger = build_ledger(store)
    follower = watch = None
    try:
        warm = ledger.ingest(_lines(raw[:WARMUP_EVENTS], 1), 1_000)
        assert warm.rejected == 0, warm.rejections[:3]
        follower = _follower(url)
        _wait_for_monitor(store, warm.last_position, follower)
        watch = FindingsWatch(url)
        watch.start()
        commits: list[float] = []
        last_positions: list[int] = []
        behind_s = 0.0
        started = time.perf_counter()
        for k, first in enumerate(range(WARMUP_EVENTS, len(raw), BATCH_EVENTS)):
            due = started + k * BATCH_EVENTS / RATE_EVENTS_PER_S
            if (wait_s := due - time.perf_counter()) > 0:
                time.sleep(wait_s)
            behind_s = max(behind_s, -wait_s)
            batch = ledger.ingest_batch(list(_lines(raw[first : first + BATCH_EVENTS], first + 1)))
            commits.append(time.perf_counter())
            assert batch.rejected == 0, batch.rejections[:3]
            last_positions.append(batch.last_position)
        events = len(raw) - WARMUP_EVENTS
        load = events / (commits[-1] - started)
        _wait_for_monitor(store, last_positions[-1], follower)
        time.sleep(10 * FINDINGS_POLL_S)  # the watch's last poll
        watch.stop.set()
        watch.join()
        assert watch.error is None, watch.error
        rss = _peak_rss_mib(follower.pid)
    finally:
        if watch is not None:
            watch.stop.set()
        if follower is not None:
            follower.send_signal(signal.SIGINT)
            try:
                follower.communicate(timeout=FOLLOWER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                follower.kill()
                follower.communicate()
        store.close()
    latencies = sorted(
        (seen - commits[bisect.bisect_left(last_positions, position)]) * 1000
        for position, seen in watch.seen if position > warm.last_position
    )
    assert latencies, "no finding was raised under load"
    return Latency(len(latencies), events, load, behind_s * 1000, statistics.median(latencies),
                   _percentile(latencies, 0.99), latencies[-1], rss, os.getloadavg()[0])


def bench_latency(size: int, report: Report, stores: tuple[tuple[str, FreshStore], ...] = STORES) -> dict[str, Latency]:
    events = min(size, WARMUP_EVENTS + RATE_EVENTS_PER_S * DURATION_S)
    raw = list(simulated_stream(events, violations=VIOLATIONS))
    assert len(raw) > WARMUP_EVENTS + BATCH_EVENTS, f"{size} events are too few for a run"
    figures = {}
    for kind, fresh in stores:
        with fresh() as url:
            figures[kind] = found = measure(url, raw)
        report(f"{kind}: {found.findings} findings over {found.events:,} events at {found.load_events_per_s:,.0f}/s: "
               f"p50 {found.p50_ms:.0f} ms, p99 {found.p99_ms:.0f} ms, max {found.max_ms:.0f} ms")
    return figures


def markdown(figures: dict[str, Latency]) -> str:
    rows = [
        f"| {kind} | {f.events:,} | {f.load_events_per_s:,.0f} | {f.behind_schedule_ms:.0f} | {f.findings:,} "
        f"| {f.p50_ms:.0f} | {f.p99_ms:.0f} | {f.max_ms:.0f} | {f.follower_rss_mib:.0f} | {f.load:.1f} |"
        for kind, f in figures.items()
    ]
    events = max(f.events for f in figures.values())
    return "\n".join([
        f"## Detection latency at {RATE_EVENTS_PER_S:,} events/s, {events:,} events (`ops/bench/latency.py`)",
        "",
        f"`regledger monitor --follow` (poll {FOLLOW_POLL_S * 1000:g} ms) in its own process; this process "
        f"appends a simulated stream (breaches injected at {VIOLATIONS} per rule and simulated hour) "
        f"in transactions of {BATCH_EVENTS} events on a steady schedule, and polls the findings table "
        f"every {FINDINGS_POLL_S * 1000:g} ms. Latency: the finding first seen minus its event's commit. "
        "The writer, the reader, the follower and the database share the machine's cores (load: "
        "its 1-minute load average at the end). Goal: p99 under 250 ms.",
        "",
        "| store | events | achieved events/s | writer behind schedule, max ms | findings | p50 ms | p99 ms "
        "| max ms | follower peak RSS MiB | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ])


def section(size: int, report: Report) -> str:
    return markdown(bench_latency(size, report))


if __name__ == "__main__":
    print(markdown(bench_latency(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, print)))

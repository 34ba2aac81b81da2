"""One measured run in a process of its own, set up as ``regledger`` sets itself up.

A fresh process per run, so that its peak resident memory is this run's alone (``VmHWM``: a
child's ``ru_maxrss`` also counts the parent it was forked from) and no cache or collector
state carries over. ``python -m ops.bench.child ingest|monitor|follow URL [PATH] [--monitor] [--events N]``
prints one JSON object: events, seconds, CPU seconds, peak RSS in MiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.runtime import tune_gc

BATCH_EVENTS = 1_000  # regledger ingest's default --batch-size
FOLLOW_IDLE_S = 0.005  # the follower's wait when it found nothing new


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _timed(work: Callable[[], int]) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    events = work()
    return {
        "events": events,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mib": peak_rss_mib(),
    }


def ingest(url: str, path: str, with_monitor: bool) -> dict[str, Any]:
    """``regledger ingest PATH``: validate and append, and with the monitor catch up after each
    batch, handing it the batch's decoded events as the CLI does."""
    from ops.lines import open_inputs
    from ops.wiring import build_ledger, build_monitor, open_store

    store = open_store(url, create=True)
    try:
        ledger = build_ledger(store)
        monitor = build_monitor(store) if with_monitor else None
        monitor_cpu_s = [0.0]

        def run() -> int:
            accepted = 0
            for batch in ledger.admit(open_inputs([path]), BATCH_EVENTS):
                assert batch.summary.rejected == 0, batch.summary.rejections[:3]
                accepted += batch.summary.accepted
                if monitor is not None:
                    cpu = time.process_time()
                    monitor.catch_up(until=batch.last_position, recorded=batch.recorded)
                    monitor_cpu_s[0] += time.process_time() - cpu
                del batch  # its events, not kept while the next batch is admitted
            return accepted

        figures = _timed(run)
        figures["monitor_cpu_seconds"] = monitor_cpu_s[0]
        return figures
    finally:
        store.close()


def monitor(url: str) -> dict[str, Any]:
    """``regledger monitor``: catch up with a ledger ingested without it (reads the log); with
    the number of state records by kind, what its memory should follow."""
    from ops.wiring import build_monitor, open_store

    store = open_store(url)
    try:
        runner = build_monitor(store)
        figures = _timed(lambda: runner.catch_up().events)
        assert runner.engine is not None
        figures["records"] = dict(Counter(kind for kind, _, _ in runner.engine.iter_records()))
        return figures
    finally:
        store.close()


def follow(url: str, events: int) -> dict[str, Any]:
    """``regledger monitor --follow`` beside an ingest: catch up as events arrive, until
    ``events`` are monitored; with the wall-clock time it finished, for the parent to time the
    pipeline from the ingest's start."""
    from ops.wiring import build_monitor, open_store

    store = open_store(url, create=True)
    try:
        runner = build_monitor(store)

        def run() -> int:
            while runner.position < events:
                if not runner.catch_up().events:
                    time.sleep(FOLLOW_IDLE_S)
            return runner.position

        figures = _timed(run)
        figures["finished_at"] = time.time()
        return figures
    finally:
        store.close()


def start_child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ops.bench.child", *args], stdout=subprocess.PIPE, text=True
    )


def child_figures(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, out)
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def run_child(*args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "ops.bench.child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"ops.bench.child {' '.join(args[:1])} failed ({done.returncode}):\n{tail}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.child", description=__doc__)
    parser.add_argument("what", choices=("ingest", "monitor", "follow"))
    parser.add_argument("url")
    parser.add_argument("path", nargs="?")
    parser.add_argument("--monitor", action="store_true", help="ingest with the monitor")
    parser.add_argument("--events", type=int, default=0, help="follow: stop once this many are monitored")
    args = parser.parse_args()
    tune_gc()
    if args.what == "ingest":
        print(json.dumps(ingest(args.url, args.path, args.monitor)))
    elif args.what == "follow":
        print(json.dumps(follow(args.url, args.events)))
    else:
        print(json.dumps(monitor(args.url)))


if __name__ == "__main__":
    main()

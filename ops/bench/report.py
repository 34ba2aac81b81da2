"""The nightly-report benchmark.

``bench_report`` ingests a simulated 30-day stream into a fresh PostgreSQL database with the
monitor, then times the nightly report of the last day (the nightly case: every event the
monitor has seen occurred by the cut-off, so its state is the state at the cut-off), a rerun
of it, the report of the day before (the usual case at 00:30 HKT, once the next day's events
have begun: the state starts from the monitor's snapshot at that midnight), and the same with
the snapshots deleted (an older day than the snapshots kept: replayed from the log).
Goal: under 30 s for a day of a 1M-event ledger."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from domain.ledger import IngestSummary
from ops.bench.stores import fresh_postgres
from ops.bench.stream import simulated_config, simulated_stream
from ops.lines import open_inputs
from ops.report import write_report
from ops.wiring import build_ledger, build_monitor, open_store
from projections.nightly import build
from projections.sql import Sql


def timed_report(url: str, day: date, out: Path) -> float:
    started = time.perf_counter()
    store = open_store(url)
    try:
        report = build(store, day, stale_days=7)
    finally:
        store.close()
    write_report(report, out)
    return time.perf_counter() - started


def bench_report(events: int, report: Callable[[str], None]) -> dict[str, float]:
    """Seconds for the nightly report on a ``events``-event PostgreSQL ledger."""
    config = simulated_config(events)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory, fresh_postgres() as url:
        path = Path(directory) / "stream.jsonl"
        started = time.perf_counter()
        with path.open("wb") as out:
            for line in simulated_stream(events):
                out.write(line + b"\n")
        figures["simulate, events/s"] = events / (time.perf_counter() - started)
        store = open_store(url, create=True)
        try:
            ledger, monitor = build_ledger(store), build_monitor(store)
            started = time.perf_counter()
            summary = IngestSummary()
            for batch in ledger.admit(open_inputs([str(path)]), 1000):
                summary.add(batch.summary)
                monitor.catch_up(until=batch.last_position)
            figures["ingest + monitor, events/s"] = summary.accepted / (time.perf_counter() - started)
            assert summary.rejected == 0, summary.rejections[:3]
            last = json.loads(path.read_text().splitlines()[-1])["occurred_at"][:10]
        finally:
            store.close()
        last_day = date.fromisoformat(last)
        out_dir = Path(directory) / "reports"
        figures["report of the last day (monitor state), s"] = timed_report(url, last_day, out_dir)
        figures["rerun of the same report, s"] = timed_report(url, last_day, out_dir)
        before = last_day - timedelta(days=1)
        figures["report of the day before (from its midnight snapshot), s"] = timed_report(url, before, out_dir)
        _delete_snapshots(url)
        figures["the same without snapshots (replayed from the log), s"] = timed_report(url, before, out_dir)
        report(f"nightly report on a {events:,}-event PostgreSQL ledger ({config.clients} clients, "
               f"{config.days} days): " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()))
    return figures


def _delete_snapshots(url: str) -> None:
    store = open_store(url)
    try:
        with Sql(store).writing() as c:
            c.execute("DELETE FROM monitor_snapshots")
    finally:
        store.close()


def section(size: int, report: Callable[[str], None]) -> str:
    """The RESULTS.md section: the nightly report on a simulated PostgreSQL ledger."""
    figures = bench_report(size, report)
    rows = "\n".join(f"| {name} | {value:,.1f} |" for name, value in figures.items())
    return (
        f"## Nightly report on a {size:,}-event simulated PostgreSQL ledger\n\n"
        "Goal: under 30 s for a day of a 1M-event ledger.\n\n"
        f"| figure | value |\n|---|---:|\n{rows}\n"
    )


if __name__ == "__main__":
    import sys

    bench_report(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, print)

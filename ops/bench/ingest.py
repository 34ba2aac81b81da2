"""Ingest alone, ingest with the monitor, and the monitor alone, on both stores, each beside
the baselines measured in the same run: plain eventsourcing saves (one aggregate per
``save()``, and a hundred) and the raw bulk write of the same rows.

Generic over the stream: ``section(size, report, stream)`` takes any function that yields
``size`` valid JSON lines (default ``ops.bench.stream.simulated_stream``, the market
simulator). Each regledger figure is one fresh process (``ops.bench.child``), with its CPU
time and peak RSS (``VmHWM``), so every size has its own peak memory of ingest, of ingest with
the monitor and of the monitor alone; the machine's load average is noted beside it, since
other work shares the cores.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from ops.bench.baselines import eventsourcing_save_rate, raw_copy_rate, raw_sqlite_rate
from ops.bench.child import child_figures, run_child, start_child
from ops.bench.stores import STORES, write_lines
from ops.bench.stream import simulated_stream

Stream = Callable[[int], Iterator[bytes]]
Report = Callable[[str], None]
BASELINE_EVENTS = 5_000  # the naive baseline saves one aggregate per round trip
FOLLOWER_START_S = 3.0

NAIVE = "naive eventsourcing, 1 aggregate per save()"
BATCHED = "batched eventsourcing, 100 aggregates per save()"
RAW = "raw bulk write of the same rows (physical limit)"
INGEST = "regledger ingest (validate + append)"
WITH_MONITOR = "regledger ingest + monitor"
MONITOR = "regledger monitor alone (catch-up: read + decode + rules)"
PIPELINE = "regledger ingest --no-monitor beside monitor --follow (two processes)"


@dataclass(frozen=True, slots=True)
class Figure:
    rate: float  # events/s
    cpu_us: float | None = None  # CPU of the measured process per event
    peak_rss_mib: float | None = None
    load: float | None = None  # 1-minute load average when it ended
    records: dict[str, int] | None = None  # the monitor's state records by kind
    monitor_cpu_us: float | None = None  # of cpu_us, in the monitor's catch-ups


def _regledger(*args: str) -> Figure:
    done = run_child(*args)
    events = done["events"]
    monitor_cpu = done.get("monitor_cpu_seconds")
    return Figure(events / done["seconds"], done["cpu_seconds"] / events * 1e6,
                  done["peak_rss_mib"], os.getloadavg()[0], done.get("records"),
                  None if not monitor_cpu else monitor_cpu / events * 1e6)


def _pipeline(url: str, path: Path, events: int) -> Figure:
    """Ingest in one process and the monitor following in another, as a deployment runs them:
    from the ingest's start until the follower has monitored every event. CPU and memory are
    the follower's (the ingest process is the "ingest" row's)."""
    follower = start_child("follow", url, "--events", str(events))
    time.sleep(FOLLOWER_START_S)  # its interpreter and imports, before the clock starts
    started = time.time()
    appended = run_child("ingest", url, str(path))
    followed = child_figures(follower)
    seconds = followed["finished_at"] - started
    assert appended["events"] == events == followed["events"]
    return Figure(events / seconds, followed["cpu_seconds"] / events * 1e6, followed["peak_rss_mib"],
                  os.getloadavg()[0])


def measure(size: int, report: Report, stream: Stream = simulated_stream) -> dict[str, dict[str, Figure]]:
    """Figures per store, by name."""
    figures: dict[str, dict[str, Figure]] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stream.jsonl"
        write_lines(path, stream(size))
        with path.open("rb") as lines:
            every = [line.rstrip(b"\n") for line in lines]
        envelopes = [json.loads(line) for line in islice(every, BASELINE_EVENTS)]
        for kind, fresh in STORES:
            found: dict[str, Figure] = {}
            with fresh() as url:
                found[NAIVE] = Figure(eventsourcing_save_rate(url, envelopes, 1))
            with fresh() as url:
                found[BATCHED] = Figure(eventsourcing_save_rate(url, envelopes, 100))
            with fresh() as url:
                found[RAW] = Figure(
                    raw_copy_rate(url, every) if kind == "postgresql"
                    else raw_sqlite_rate(url.removeprefix("sqlite:///") + ".raw", every)
                )
            with fresh() as url:
                found[INGEST] = _regledger("ingest", url, str(path))
                found[MONITOR] = _regledger("monitor", url)
            with fresh() as url:
                found[WITH_MONITOR] = _regledger("ingest", url, str(path), "--monitor")
            with fresh() as url:
                found[PIPELINE] = _pipeline(url, path, len(every))
            figures[kind] = found
            report(f"{kind}: " + ", ".join(f"{name} {f.rate:,.0f}/s" for name, f in found.items()))
    return figures


def markdown(size: int, figures: dict[str, dict[str, Figure]]) -> str:
    rows = [
        "| store | figure | events/s | × naive | × batched | CPU µs/event | peak RSS MiB | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, found in figures.items():
        naive, batched = found[NAIVE].rate, found[BATCHED].rate
        for name, f in found.items():
            cpu = "" if f.cpu_us is None else f"{f.cpu_us:.0f}"
            rss = "" if f.peak_rss_mib is None else f"{f.peak_rss_mib:.0f}"
            load = "" if f.load is None else f"{f.load:.1f}"
            rows.append(f"| {kind} | {name} | {f.rate:,.0f} | {f.rate / naive:.1f} | "
                        f"{f.rate / batched:.2f} | {cpu} | {rss} | {load} |")
    ratios = [
        f"- {kind}: ingest + monitor runs at {found[WITH_MONITOR].rate / found[INGEST].rate:.0%} "
        f"of ingest alone (goal: at least 50%), {found[WITH_MONITOR].rate / found[BATCHED].rate:.2f}× "
        "the batched eventsourcing save; in two processes (ingest and a follower) "
        f"{found[PIPELINE].rate:,.0f}/s = {found[PIPELINE].rate / found[INGEST].rate:.0%} of ingest alone, "
        f"{found[PIPELINE].rate / found[NAIVE].rate:.1f}× naive, {found[PIPELINE].rate / found[BATCHED].rate:.2f}× "
        "batched (goal: 25,000/s on PostgreSQL)"
        for kind, found in figures.items()
    ]
    for kind, found in figures.items():
        both = found[WITH_MONITOR]
        if both.cpu_us and both.monitor_cpu_us:
            ratios.append(f"- {kind}: of the {both.cpu_us:.0f} µs of CPU per event of ingest + "
                          f"monitor, {both.monitor_cpu_us:.0f} µs are the monitor's (rules, state "
                          "records, their transaction)")
    for kind, found in figures.items():
        held = ", ".join(f"{n:,} {k}" for k, n in sorted((found[MONITOR].records or {}).items()))
        ratios.append(f"- {kind}: the monitor's state at the end, whose size its memory follows: {held}")
    return "\n".join([
        f"## Ingest and monitor, {size:,}-event stream (`ops/bench/ingest.py`)",
        "",
        f"The baselines save the first {BASELINE_EVENTS:,} envelopes of the same stream as new "
        "aggregates (no validation, no rules); the physical limit is the raw bulk write of all "
        "the rows (PostgreSQL binary `COPY`, SQLite `executemany`). Each regledger figure is a "
        "fresh process, as `regledger ingest` (batches of 1,000; with the monitor, it catches "
        "up after each batch from the batch's decoded events) and `regledger monitor` (catching "
        "up with the whole log, read back and decoded); the two-process row is `regledger ingest "
        "--no-monitor` with a follower catching up beside it (the follower's CPU and memory), "
        "timed until the follower has monitored the last event. CPU is the measured process's own; "
        "the database server's is not in it. Peak RSS is the process's `VmHWM`. Load is the "
        "machine's 1-minute load average. Goals: ingest + monitor at least 50% of ingest alone; "
        "the monitor's memory follows its state (open positions, pledges, loans, obligations), "
        "not the number of events, and stays under 2 GiB on the 5M-event ledger.",
        "",
        *rows,
        "",
        *ratios,
        "",
    ])


def section(size: int, report: Report, stream: Stream = simulated_stream) -> str:
    return markdown(size, measure(size, report, stream))

"""The scale benchmark of issue 22: a client-heavy stream of 1M to 10M events ingested as a
user runs it, chunk by chunk into one store, then queried, replayed, proven and weighed.

``python -m ops.bench --only scale --sizes 1000000 10000000`` (``--chunk``, ``--cache-dir``,
``--scale-market``). For each size and store:

1. The stream (``scale_config``): the shape of ``regledger simulate --clients 4000 --days 3``
   (about 11 events per client per day, few market events), grown by days and clients at that
   density: ``trading_days = max(3, 3 * size / 1M)``, ``clients = size / (CLIENT_EVENTS_PER_DAY
   * trading_days)`` and, beyond 3, 1.5 calendar days per trading day (weekends, holidays),
   so from 1M on the same broker (some 33,000 clients) keeps trading for longer: the ledger ages, which is what "flat with size" asks about. The simulator is sized a little
   low and the stream cut at exactly ``size`` events. It is written once, streaming, in files
   of ``chunk`` events (file k holds the k-th chunk in time order) under
   ``cache_dir/client-heavy-SIZE-seedSEED-chunkCHUNK``; a manifest written last marks the set
   complete, so a rerun (or the other store) reads the files again and an interrupted run
   regenerates them.
2. Each chunk is ``regledger ingest CHUNK --db URL --format json`` (``python -m ops``, the
   monitor and audit index on, as by default) in a process of its own, consecutively into one
   store: wall time, events/s, the child's CPU (``wait4``'s rusage: this child's alone) and
   peak RSS (its ``VmHWM``, polled), and the summary checked: accepted == lines. Beside it,
   in the same run, the naive and the batched eventsourcing saves of the first
   ``BASELINE_EVENTS`` events of the first chunk.
3. On the full store: ``audit --subject`` over random clients, ``findings`` pages
   (``ops.bench.findings``), the nightly report of the last simulated day
   (``ops.bench.report``), replay beside the raw decoded read (``ops.bench.evidence``) and
   one inclusion proof of a random position.
4. Bytes on disk per event, by table, and the projection for 1 and 2 billion events a year.

The harness holds one chunk's baseline slice at most; the post-ingest measurements run in the
harness's process (replay holds the monitor's state, as ``regledger replay`` does).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import structlog

from ops.bench import stores as bench_stores
from ops.bench.audit import measure as audit_latencies
from ops.bench.baselines import eventsourcing_save_rate
from ops.bench.evidence import read_log
from ops.bench.findings import acknowledge_some, findings_rows, percentile
from ops.bench.report import timed_report
from ops.bench.stream import BENCH_VIOLATIONS, simulated_stream
from ops.simulate import SimConfig, simulate
from ops.wiring import open_store
from projections.evidence.attest import checkpoint_at, inclusion_proof
from projections.evidence.replay import replay
from projections.sql import Sql
from projections.store.base import Store

log = structlog.get_logger("regledger.bench.scale")
Report = Callable[[str], None]

CHUNK_EVENTS = 1_000_000
SEED = 7
# ``simulate --clients 4000 --days 3`` wrote about 128k events: 10.7 per client per day. Sized
# a little low so that the run overshoots and is cut at exactly the size asked for.
CLIENT_EVENTS_PER_DAY = 10
DAYS_PER_MILLION = 3
CALENDAR_PER_TRADING_DAY = 1.5
BASELINE_EVENTS = 10_000  # the naive save is one round trip per event: kept short
AUDIT_CLIENTS = 200
AUDIT_PAGE = 100
RSS_POLL_S = 0.25
PROGRESS_EVERY = 100_000
YEARLY = (1_000_000_000, 2_000_000_000)
GOAL_FLAT = 0.9


@dataclass(frozen=True, slots=True)
class Options:
    chunk: int = CHUNK_EVENTS
    cache_dir: Path = Path(tempfile.gettempdir()) / "regledger-bench-scale"
    market: bool = False  # also ingest today's market-heavy stream of the same size
    # A checkout of the code to compare with (issue 22: "at least 3x today's figure measured in
    # the same run"): its ``regledger ingest`` of the first chunk, into a fresh PostgreSQL store.
    baseline_tree: Path | None = None


OPTIONS = Options()  # ``python -m ops.bench`` sets it from its arguments


@dataclass(frozen=True, slots=True)
class Chunk:
    path: Path
    lines: int
    last_day: str  # the UTC date of its last event


@dataclass(frozen=True, slots=True)
class ChunkRun:
    lines: int
    accepted: int
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    load: float
    projector_rss_mib: float = 0.0  # the monitor's process beside ingest (ops.projector), if it started one

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds


@dataclass(slots=True)
class StoreRun:
    kind: str
    stream: str
    chunks: list[ChunkRun] = field(default_factory=list)
    baselines: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)  # post-ingest figures by name
    findings: list[str] = field(default_factory=list)  # findings.py's table rows
    tables: dict[str, int] = field(default_factory=dict)  # bytes on disk by table
    events: int = 0


# -- 1. the stream, cached in chunk files ------------------------------------------------


def scale_config(size: int, seed: int = SEED) -> SimConfig:
    """The client-heavy run of about ``size`` events (see the module's docstring)."""
    trading_days = max(3, round(DAYS_PER_MILLION * size / 1_000_000))
    clients = max(1, size // (CLIENT_EVENTS_PER_DAY * trading_days))
    # The first days are weekdays; a longer run has weekends and Hong Kong holidays, when
    # clients trade little (30 days of 33,333 clients gave 7.8M events, not 10M): half as many
    # calendar days again, so that the run still reaches the size and is cut there.
    days = trading_days if trading_days <= DAYS_PER_MILLION else math.ceil(trading_days * CALENDAR_PER_TRADING_DAY)
    return SimConfig(clients=clients, days=days, seed=seed, violations=BENCH_VIOLATIONS)


def client_heavy(size: int, seed: int = SEED) -> Iterator[bytes]:
    run = simulate(scale_config(size, seed))
    return islice((json.dumps(e, separators=(",", ":")).encode() for e in run), size)


def market_heavy(size: int, seed: int = SEED) -> Iterator[bytes]:
    return simulated_stream(size, seed)


STREAMS: dict[str, Callable[[int, int], Iterator[bytes]]] = {
    "client-heavy": client_heavy, "market-heavy": market_heavy,
}


def chunk_dir(cache_dir: Path, stream: str, size: int, seed: int, chunk: int) -> Path:
    return cache_dir / f"{stream}-{size}-seed{seed}-chunk{chunk}"


def cached_chunks(stream: str, size: int, chunk: int, cache_dir: Path, seed: int = SEED) -> list[Chunk]:
    """The stream's chunk files, generated unless a complete set is cached."""
    directory = chunk_dir(cache_dir, stream, size, seed, chunk)
    manifest = directory / "manifest.json"
    if manifest.exists():
        log.info("stream cached", directory=str(directory))
        return [Chunk(directory / c["file"], c["lines"], c["last_day"]) for c in json.loads(manifest.read_text())]
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    chunks = write_chunks(STREAMS[stream](size, seed), directory, chunk, size)
    listed = [{"file": c.path.name, "lines": c.lines, "last_day": c.last_day} for c in chunks]
    manifest.write_text(json.dumps(listed))
    return chunks


def write_chunks(lines: Iterator[bytes], directory: Path, chunk: int, size: int) -> list[Chunk]:
    """Stream ``lines`` into files of ``chunk`` lines each, logging progress."""
    chunks: list[Chunk] = []
    started, written = time.perf_counter(), 0
    while True:
        path = directory / f"chunk-{len(chunks) + 1:04d}.jsonl"
        count, last = 0, b""
        with path.open("wb") as out:
            for line in islice(lines, chunk):
                out.write(line + b"\n")
                count, last = count + 1, line
                written += 1
                if written % PROGRESS_EVERY == 0:
                    rate = written / (time.perf_counter() - started)
                    log.info("simulating", events=written, of=size, per_s=round(rate), eta_s=round((size - written) / rate))
        if not count:
            path.unlink()
            return chunks
        chunks.append(Chunk(path, count, json.loads(last)["occurred_at"][:10]))


# -- 2. ingest, one process per chunk ----------------------------------------------------


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_ingest(url: str, chunk: Chunk, logs: Path, tree: Path | None = None) -> ChunkRun:
    """``regledger ingest CHUNK --db URL --format json`` in a process of its own; with
    ``tree``, the code of that checkout (run from it, so its packages come first)."""
    out, err = logs / "ingest.out", logs / "ingest.err"
    command = [sys.executable, "-m", "ops", "ingest", str(chunk.path), "--db", url, "--format", "json"]
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=tree, env=env)
        status, usage, peak, projector = wait_polling(child.pid)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    summary = last_json(out)
    if summary is None or summary.get("accepted") != chunk.lines:
        tail = "\n".join(err.read_text(errors="replace").splitlines()[-5:])
        raise RuntimeError(f"ingest of {chunk.path.name} ({chunk.lines:,} lines): {summary}, exit {child.returncode}\n{tail}")
    return ChunkRun(chunk.lines, summary["accepted"], seconds, usage.ru_utime + usage.ru_stime, peak, os.getloadavg()[0],
                    projector)


def wait_polling(pid: int) -> tuple[int, Any, float, float]:
    """Wait for the child, reading its ``VmHWM`` and its own children's meanwhile: (status,
    rusage, peak RSS MiB, the largest peak of its children). ``wait4`` gives the CPU of this
    child and of the children it reaped (ingest's projections process); its ``ru_maxrss``
    would count the harness it was forked from, so the peaks are polled (growth in the last
    ``RSS_POLL_S`` can be missed)."""
    peak = children = 0.0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, peak, children
        peak = max(peak, peak_rss_mib(pid) or 0.0)
        for child in child_pids(pid):
            children = max(children, peak_rss_mib(child) or 0.0)
        time.sleep(RSS_POLL_S)


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def last_json(path: Path) -> dict[str, Any] | None:
    lines = path.read_text().strip().splitlines()
    try:
        found: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        return None
    return found


def baselines(kind_fresh: bench_stores.FreshStore, chunk: Chunk) -> dict[str, float]:
    """The naive and the batched eventsourcing saves of the chunk's first events."""
    with chunk.path.open("rb") as lines:
        envelopes = [json.loads(line) for line in islice(lines, BASELINE_EVENTS)]
    rates = {"events": float(len(envelopes))}
    for name, per_save in (("naive", 1), ("batched", 100)):
        with kind_fresh() as url:
            rates[name] = eventsourcing_save_rate(url, envelopes, per_save)
    return rates


def ingest_all(url: str, chunks: list[Chunk], run: StoreRun, report: Report) -> None:
    with tempfile.TemporaryDirectory() as logs:
        for n, chunk in enumerate(chunks, 1):
            done = run_ingest(url, chunk, Path(logs))
            run.chunks.append(done)
            run.events += done.accepted
            log.info("ingested", store=run.kind, stream=run.stream, chunk=n, of=len(chunks), per_s=round(done.rate),
                     peak_rss_mib=round(done.peak_rss_mib), load=done.load)
            report(f"{run.kind} {run.stream} chunk {n}/{len(chunks)}: {done.rate:,.0f}/s, "
                   f"{done.cpu_seconds / done.accepted * 1e6:.0f} µs CPU/event, {done.peak_rss_mib:.0f} MiB")


# -- 3. the full store -------------------------------------------------------------------


def timed_ms(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def audit_p95(store: Store, rng: random.Random) -> float:
    """``audit --subject`` p95 (ms) over random clients, half first pages, half deep pages."""
    owners = "SELECT DISTINCT owners FROM audit_owners WHERE kind IN ('deposit', 'account', 'pledge', 'loan')"
    clients = sorted(c.strip('[]"') for (c,) in Sql(store).rows(owners))
    tip = store.tip().position
    pairs = [(rng.choice(clients), 0 if i % 2 == 0 else rng.randint(0, tip)) for i in range(AUDIT_CLIENTS)]
    audit_latencies(store, pairs[:20])  # the pool and the plan cache
    return percentile(audit_latencies(store, pairs), 0.95)


def replay_figures(store: Store, events: int) -> dict[str, float]:
    """Replay beside the raw decoded read just before it (once: at 10M a read is minutes)."""
    read = events / timed_ms(lambda: read_log(store, decode=True)) * 1000
    replayed = events / timed_ms(lambda: replay(store)) * 1000
    return {"raw decoded read, events/s": read, "replay, events/s": replayed}


def prove_ms(store: Store, rng: random.Random) -> tuple[float, float]:
    """(ms for the checkpoint of the tip, as ``digest`` takes it; ms for one inclusion proof of
    a random position against it, as ``prove`` computes it)."""
    holder: list[Any] = []
    checkpoint_ms = timed_ms(lambda: holder.append(checkpoint_at(store)))
    position = rng.randint(1, holder[0].position)
    event_id = store.read_entries(position - 1, 1)[0].event_id
    return checkpoint_ms, timed_ms(lambda: inclusion_proof(store, event_id, holder[0]))


def after_ingest(url: str, run: StoreRun, last_day: str, report: Report) -> None:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as directory:
        day = date.fromisoformat(last_day)
        run.after["nightly report of the last day, s"] = timed_report(url, day, Path(directory))
    store = open_store(url)
    try:
        run.after["audit --subject p95 over clients, ms"] = audit_p95(store, rng)
        run.after |= replay_figures(store, run.events)
        run.after["checkpoint of the tip (digest), ms"], run.after["prove a random position, ms"] = prove_ms(store, rng)
        run.tables = table_bytes(store, url)
        acknowledge_some(store)  # so the case-status pages have both kinds; after the rest, as it appends
        run.findings = findings_rows(store, rng, lambda line: None)
    finally:
        store.close()
    report(f"{run.kind}: " + ", ".join(f"{k} {v:,.1f}" for k, v in run.after.items()))


# -- 4. storage --------------------------------------------------------------------------

PG_TABLES = """
SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
SQLITE_TABLES = """
SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name
"""


def table_bytes(store: Store, url: str) -> dict[str, int]:
    """Bytes on disk by table (with its indexes and TOAST); SQLite without ``dbstat``: the
    files' size as one row."""
    sql = Sql(store)
    if url.startswith("postgresql"):
        return {name: int(size) for name, size in sql.rows(PG_TABLES)}
    try:
        return {name: int(size) for name, size in sql.rows(SQLITE_TABLES)}
    except sqlite3.OperationalError:  # no dbstat: a compile-time option of SQLite
        path = url.removeprefix("sqlite:///")
        return {"(database files)": sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))}


# -- the run and its Markdown ------------------------------------------------------------


def run_store(kind: str, fresh: bench_stores.FreshStore, stream: str, chunks: list[Chunk], report: Report,
              full: bool) -> StoreRun:
    """Ingest every chunk into one fresh store; with ``full``, the baselines and the
    post-ingest figures too."""
    run = StoreRun(kind, stream)
    if full:
        run.baselines = baselines(fresh, chunks[0])
    with fresh() as url:
        ingest_all(url, chunks, run, report)
        if full:
            after_ingest(url, run, chunks[-1].last_day, report)
    return run


def measure(size: int, report: Report, options: Options) -> list[StoreRun]:
    streams = ["client-heavy"] + (["market-heavy"] if options.market else [])
    runs = []
    for stream in streams:
        chunks = cached_chunks(stream, size, options.chunk, options.cache_dir)
        for kind, fresh in bench_stores.STORES:
            runs.append(run_store(kind, fresh, stream, chunks, report, full=stream == "client-heavy"))
            if options.baseline_tree is not None and kind == "postgresql" and stream == "client-heavy":
                runs.append(run_baseline_tree(fresh, chunks[0], options.baseline_tree, runs[-1].baselines, report))
    return runs


def run_baseline_tree(fresh: bench_stores.FreshStore, chunk: Chunk, tree: Path, baselines: dict[str, float],
                      report: Report) -> StoreRun:
    """The first chunk ingested by the baseline checkout's code, into a fresh store."""
    revision = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=False).stdout.strip() or tree.name
    run = StoreRun("postgresql", f"client-heavy, code at {revision}", baselines=baselines)
    with fresh() as url, tempfile.TemporaryDirectory() as logs:
        done = run_ingest(url, chunk, Path(logs), tree)
    run.chunks.append(done)
    run.events = done.accepted
    report(f"postgresql chunk 1 by the code at {revision}: {done.rate:,.0f}/s")
    return run


def baseline_events(runs: list[StoreRun]) -> int:
    return max((int(r.baselines["events"]) for r in runs if r.baselines), default=0)


def figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}" if b else ""


def chunk_rows(run: StoreRun) -> list[str]:
    naive, batched = run.baselines.get("naive", 0.0), run.baselines.get("batched", 0.0)
    return [
        f"| {run.kind} | {run.stream} | {n} | {c.accepted:,} | {c.seconds:,.1f} | {c.rate:,.0f} | {ratio(c.rate, naive)} "
        f"| {ratio(c.rate, batched)} | {c.cpu_seconds / c.accepted * 1e6:.0f} | {c.peak_rss_mib:.0f} "
        f"| {c.projector_rss_mib:.0f} | {c.load:.1f} |"
        for n, c in enumerate(run.chunks, 1)
    ]


def flat_line(run: StoreRun) -> str:
    first, last = run.chunks[0], run.chunks[-1]
    whole = sum(c.accepted for c in run.chunks) / sum(c.seconds for c in run.chunks)
    share = last.rate / first.rate
    verdict = "met" if share >= GOAL_FLAT else "missed"
    naive = run.baselines.get("naive")
    against = f", {whole / naive:.1f}× the naive save" if naive else ""
    cpu = (last.cpu_seconds / last.accepted) / (first.cpu_seconds / first.accepted)
    return (f"- {run.kind}, {run.stream}: {whole:,.0f} events/s over {run.events:,} events{against}; last chunk "
            f"{last.rate:,.0f}/s = {share:.0%} of the first ({first.rate:,.0f}/s; goal {GOAL_FLAT:.0%}: {verdict}; "
            f"load {first.load:.1f} then {last.load:.1f}), at {cpu:.2f}× the first chunk's CPU per event (the "
            f"figure load moves least); ingest peak RSS {max(c.peak_rss_mib for c in run.chunks):,.0f} MiB")


def is_baseline(run: StoreRun) -> bool:
    return ", code at " in run.stream


def against_baseline(baseline: StoreRun, runs: list[StoreRun]) -> str:
    """This code's first chunk against the baseline checkout's, same store kind, same run."""
    mine = next(r for r in runs if r.kind == baseline.kind and r.stream == "client-heavy" and not is_baseline(r))
    ours, theirs = mine.chunks[0], baseline.chunks[0]
    cpu = (ours.cpu_seconds / ours.accepted) / (theirs.cpu_seconds / theirs.accepted)
    return (f"- {baseline.kind}, chunk 1: this code {ours.rate:,.0f}/s against {theirs.rate:,.0f}/s by the "
            f"{baseline.stream.split(', ')[1]}: **{ours.rate / theirs.rate:.2f}×** (goal 3×; load {theirs.load:.1f} "
            f"then {ours.load:.1f}); CPU per event {cpu:.2f}× the baseline's (both of ingest's processes, where "
            "it starts a second: Linux's `wait4` counts the children a process has reaped)")


def storage_rows(run: StoreRun) -> list[str]:
    total = sum(run.tables.values())
    rows = [f"| {run.kind} | {name} | {size / 2**20:,.1f} | {size / run.events:,.0f} |"
            for name, size in sorted(run.tables.items(), key=lambda item: -item[1]) if size]
    per_event = total / run.events
    yearly = ", ".join(f"{n / 1e9:.0f} billion: {per_event * n / 1e12:,.1f} TB" for n in YEARLY)
    return [*rows, f"| {run.kind} | **all** | {total / 2**20:,.1f} | **{per_event:,.0f}** (a year of {yearly}) |"]


def markdown(size: int, runs: list[StoreRun], options: Options) -> str:
    config = scale_config(size)
    full = [r for r in runs if r.after]
    after_names = list(full[0].after) if full else []
    return "\n".join([
        f"## Scale: {size:,} events ingested in chunks of {options.chunk:,} (`ops/bench/scale.py`)",
        "",
        f"Client-heavy stream: `regledger simulate --clients {config.clients} --days {config.days} --seed {config.seed} "
        f"--violations {config.violations}` cut at {size:,} events. Each chunk is `regledger ingest CHUNK --db URL "
        "--format json` (monitor and audit index on) in a process of its own, consecutively into one store; "
        "accepted == lines checked for each. CPU is the child's and its own children's (`wait4`), not the "
        f"database server's; peak RSS is its `VmHWM` polled every {RSS_POLL_S} s (the monitor's too when it runs "
        "inside ingest); \"monitor process\" is the peak of the process ingest starts for the monitor, the audit "
        "index and the owners (`ops/projector.py`; 0: none started). "
        f"Wall time includes the child's start-up, as a user's command does. "
        f"Baselines: eventsourcing saves of the first {baseline_events(runs):,} events of chunk 1, one aggregate per "
        "`save()` (naive) and 100 (batched), into a fresh store of the same kind.",
        "",
        "| store | stream | chunk | events | s | events/s | × naive | × batched | CPU µs/event | peak RSS MiB "
        "| monitor process MiB | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(row for run in runs for row in chunk_rows(run)),
        "",
        *(flat_line(run) for run in runs if not is_baseline(run)),
        *(against_baseline(run, runs) for run in runs if is_baseline(run)),
        "",
        "On the full store (in-process; `audit --subject`: 100-event pages for "
        f"{AUDIT_CLIENTS} random clients, half first pages; the report of the last simulated day; replay "
        "beside the raw decoded read just before it; `prove`: the checkpoint of the tip, "
        "which `digest` takes, then one inclusion proof of a random position against it):",
        "",
        "| store | " + " | ".join(after_names) + " | replay / decoded read |",
        "|---|" + "---:|" * (len(after_names) + 1),
        *(f"| {r.kind} | " + " | ".join(figure(r.after[n]) for n in after_names)
          + f" | {r.after['replay, events/s'] / r.after['raw decoded read, events/s']:.0%} |" for r in full),
        "",
        "`findings` (`ops/bench/findings.py`), first pages of 100 by filter, on the full store:",
        "",
        "| store | query | queries | rows per query | p50 ms | p95 ms | max ms |", "|---|---|---:|---:|---:|---:|---:|",
        *(f"| {r.kind} " + row for r in full for row in r.findings),
        "",
        "Bytes on disk (PostgreSQL `pg_total_relation_size`: table, indexes and TOAST; SQLite `dbstat`), per event "
        "of the ledger:",
        "",
        "| store | table | MiB | bytes/event |", "|---|---|---:|---:|",
        *(row for r in full for row in storage_rows(r)),
        "",
    ])


def command_options() -> str:
    """The scale options of the run, for the command line RESULTS.md quotes."""
    tree = f" --baseline-tree {OPTIONS.baseline_tree}" if OPTIONS.baseline_tree else ""
    return f" --chunk {OPTIONS.chunk}" + (" --scale-market" if OPTIONS.market else "") + tree


def section(size: int, report: Report) -> str:
    return markdown(size, measure(size, report, OPTIONS), OPTIONS)

"""``python -m ops.bench``: run the benchmarks and write ``ops/bench/RESULTS.md``.

Every figure sits beside baselines measured in the same run on the same machine."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

from domain.ledger import IngestSummary
from ops.bench.baselines import eventsourcing_save_rate, raw_copy_rate, raw_sqlite_rate
from ops.bench.stream import bench_stream
from ops.lines import open_inputs
from ops.wiring import build_ledger, build_monitor, open_store

RESULTS = Path(__file__).parent / "RESULTS.md"
PG_ADMIN = os.environ.get("REGLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NAIVE_EVENTS = 5_000


@contextmanager
def fresh_postgres() -> Iterator[str]:
    name = f"regledger_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(SQL("CREATE DATABASE {}").format(Identifier(name)))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(name)))


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{directory}/bench.db"


def ingest_rate(url: str, path: Path, with_monitor: bool) -> float:
    store = open_store(url, create=True)
    try:
        ledger = build_ledger(store)
        monitor = build_monitor(store) if with_monitor else None
        started = time.perf_counter()

        def after_batch(batch: IngestSummary) -> None:
            if monitor is not None:
                monitor.catch_up(until=batch.last_position)

        summary = ledger.ingest(open_inputs([str(path)]), 1000, after_batch)
        elapsed = time.perf_counter() - started
        assert summary.rejected == 0, summary.rejections[:3]
        return summary.accepted / elapsed
    finally:
        store.close()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(PG_ADMIN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg = row[0] if row else "?"
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB; "
        f"Python {platform.python_version()}, eventsourcing {version('eventsourcing')}, "
        f"psycopg {version('psycopg')}, pydantic {version('pydantic')}, "
        f"PostgreSQL {pg} (stock settings), SQLite {sqlite3.sqlite_version}"
    )


def bench_ingest(size: int, report: Callable[[str], None]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stream.jsonl"
        lines = list(bench_stream(size))
        path.write_bytes(b"\n".join(lines) + b"\n")
        envelopes = [json.loads(x) for x in lines[:NAIVE_EVENTS]]
        figures: dict[str, float] = {}
        for store, fresh in (("postgresql", fresh_postgres), ("sqlite", fresh_sqlite)):
            with fresh() as url:
                figures[f"{store} naive eventsourcing, 1 aggregate per save()"] = eventsourcing_save_rate(url, envelopes, 1)
            with fresh() as url:
                figures[f"{store} batched eventsourcing, 100 aggregates per save()"] = eventsourcing_save_rate(url, envelopes, 100)
            with fresh() as url:
                figures[f"{store} raw bulk write of the same rows (physical limit)"] = (
                    raw_copy_rate(url, lines) if store == "postgresql"
                    else raw_sqlite_rate(url.removeprefix("sqlite:///") + ".raw", lines)
                )
            with fresh() as url:
                figures[f"{store} regledger ingest (validate + append)"] = ingest_rate(url, path, with_monitor=False)
            with fresh() as url:
                figures[f"{store} regledger ingest + monitor"] = ingest_rate(url, path, with_monitor=True)
            report(f"{store}: " + ", ".join(f"{k.split(' ', 1)[1]} {v:,.0f}/s" for k, v in figures.items() if k.startswith(store)))
        return figures


def write_results(size: int, figures: dict[str, float]) -> str:
    rows = ["| figure | events/s | × naive | × batched | share of physical limit |", "|---|---:|---:|---:|---:|"]
    for name, rate in figures.items():
        store = name.split(" ", 1)[0]
        naive = figures[f"{store} naive eventsourcing, 1 aggregate per save()"]
        batched = figures[f"{store} batched eventsourcing, 100 aggregates per save()"]
        limit = figures[f"{store} raw bulk write of the same rows (physical limit)"]
        rows.append(f"| {name} | {rate:,.0f} | {rate / naive:.1f} | {rate / batched:.2f} | {rate / limit:.0%} |")
    text = "\n".join(
        [
            "# regledger benchmarks",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m ops.bench --sizes {size}`.",
            "",
            f"Machine: {machine()}.",
            "",
            f"## Ingest of a generated {size:,}-event stream (`ops/bench/stream.py`)",
            "",
            f"Naive and batched eventsourcing baselines save the first {NAIVE_EVENTS:,} envelopes of the same "
            "stream as new aggregates (no validation, no rules); the physical limit is the raw bulk "
            "write of the same rows (PostgreSQL binary `COPY`, SQLite `executemany`) with no checks.",
            "",
            *rows,
            "",
        ]
    )
    RESULTS.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help="stream sizes in events")
    args = parser.parse_args()
    for size in args.sizes:
        figures = bench_ingest(size, print)
        print(write_results(size, figures))


main()

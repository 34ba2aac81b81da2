"""``python -m ops.bench``: run the benchmarks and write ``ops/bench/RESULTS.md``.

Every figure sits beside its baselines, measured in the same run on the same machine. Each
benchmark is a module with a function ``(size, report) -> Markdown section``; ``BENCHMARKS``
lists them in the order they run and appear (``--only NAME`` runs some). Every stream is the
market simulator's (``ops.bench.stream.simulated_stream``).

The issue's run is ``python -m ops.bench --sizes 100000 1000000 5000000``. Sizes above
``--full-max`` (default 1,000,000) run only the benchmarks marked ``large``: ingest and the
monitor (throughput, CPU and peak memory per process) and replay with verify, the figures
whose cost grows with the ledger; the others (query latencies, the nightly report, HTTP,
detection latency) are measured up to that size. On the 2-core machine of RESULTS.md the three
sizes take about 2.5 hours this way (5 min at 100k, 45 at 1M, 95 at 5M, measured from runs at
20k and 100k with other work on the machine), and about 4.5 with ``--full-max 5000000``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

import psycopg

from ops.bench import stores
from ops.bench.stores import PG_ADMIN
from ops.logging import configure_logging

RESULTS = Path(__file__).parent / "RESULTS.md"
Section = Callable[[int, Callable[[str], None]], str]


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    module: str  # imported when it runs, so one benchmark's imports never stop another
    function: str = "section"
    sized: bool = True  # False: it ignores the stream size, so it runs once
    large: bool = False  # True: it runs at sizes above --full-max too

    def section(self) -> Section:
        found: Section = getattr(import_module(self.module), self.function)
        return found


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("ingest", "ops.bench.ingest", large=True),  # ingest, ingest + monitor, monitor; baselines; peak RSS
    Benchmark("tick", "ops.bench.tick", sized=False),  # a price tick at 1k, 10k, 100k clients
    Benchmark("stress", "ops.bench.stress", sized=False),  # the stress ladder over 100k clients and 10k positions
    Benchmark("audit", "ops.bench.audit", "bench_audit"),  # audit --subject and findings p50 / p95
    Benchmark("queue", "ops.bench.queue", sized=False),  # a page of the alert queue at 100,000 findings
    Benchmark("evidence", "ops.bench.evidence", large=True),  # replay and verify beside the raw read
    Benchmark("report", "ops.bench.report"),  # the nightly report's seconds
    Benchmark("http", "ops.bench.http"),  # events posted over HTTP beside the file ingest
    Benchmark("latency", "ops.bench.latency"),  # detection latency under 5,000 events/s
)
# Run only when named in --only: ``python -m ops.bench --only scale --sizes 1000000 10000000``
# ingests for hours at those sizes.
OPT_IN: tuple[Benchmark, ...] = (
    Benchmark("scale", "ops.bench.scale", large=True),  # 1M-10M client-heavy events in chunks; queries, storage
)
FULL_MAX_EVENTS = 1_000_000


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def plan(sizes: list[int], only: list[str], full_max: int) -> list[tuple[Benchmark, int]]:
    """(benchmark, size) in the order they run."""
    chosen = [b for b in BENCHMARKS + OPT_IN if b.name in only or (not only and b in BENCHMARKS)]
    return [
        (benchmark, size)
        for n, size in enumerate(sizes) for benchmark in chosen
        if (benchmark.sized or not n) and (benchmark.large or size <= full_max)
    ]


def run(sizes: list[int], only: list[str], full_max: int = FULL_MAX_EVENTS) -> str:
    started, load_before = datetime.now(UTC), load()
    sections = []
    for benchmark, size in plan(sizes, only, full_max):
        print(f"-- {benchmark.name}, {size:,} events", flush=True)
        sections.append(benchmark.section()(size, lambda line: print(line, flush=True)))
    command = "python -m ops.bench --sizes " + " ".join(map(str, sizes))
    if only:
        command += " --only " + " ".join(only)
    if "scale" in only:
        from ops.bench.scale import command_options

        command += command_options()
    if any(size > full_max for size in sizes):
        command += f" --full-max {full_max}"
    return "\n".join([
        "# regledger benchmarks",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"Machine: {machine()}. Load average (1 / 5 / 15 min) {load_before} at the start, "
        f"{load()} at the end: other work shares the cores, so compare figures within a run.",
        *([f"Sizes above {full_max:,} events ran only: "
           + ", ".join(sorted({b.name for b in BENCHMARKS if b.large})) + "."] if max(sizes) > full_max else []),
        "",
        *sections,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help="stream sizes in events")
    parser.add_argument("--only", nargs="+", default=[], choices=[b.name for b in BENCHMARKS + OPT_IN],
                        help="run only these benchmarks (scale runs only when named)")
    parser.add_argument("--full-max", type=int, default=FULL_MAX_EVENTS,
                        help="sizes above this run only the large benchmarks (ingest, evidence)")
    parser.add_argument("--stores", nargs="+", default=[k for k, _ in stores.STORES],
                        choices=[k for k, _ in stores.STORES], help="the stores the two-store benchmarks use")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="scale: events per ingested file")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="scale: where the generated streams are kept, by size and seed (default under /tmp)")
    parser.add_argument("--baseline-tree", type=Path, default=None,
                        help="scale: a checkout of the code to compare with; it ingests the first chunk on PostgreSQL")
    parser.add_argument("--scale-market", action="store_true",
                        help="scale: also ingest today's market-heavy stream of each size")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    configure_logging(level="info")  # progress (scale's generation and chunks), not the stores' debug lines
    # Before any benchmark module is imported (they import lazily): they read the stores here.
    stores.STORES = tuple((k, fresh) for k, fresh in stores.STORES if k in args.stores)
    if "scale" in args.only:
        from ops.bench import scale

        scale.OPTIONS = scale.Options(args.chunk, args.cache_dir or scale.OPTIONS.cache_dir, args.scale_market,
                                      args.baseline_tree)
    text = run(args.sizes, args.only, args.full_max)
    if len(stores.STORES) < 2:
        text += f"\nTwo-store benchmarks ran on {', '.join(args.stores)} only (`--stores`).\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

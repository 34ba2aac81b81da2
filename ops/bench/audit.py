"""The audit trail's benchmark: ``audit --subject`` latency on a large ledger, and what the
index and an as-of replay cost; with the ``findings`` query's latency (``ops.bench.findings``)
on the same ledger once the monitor has caught up with it. Call ``bench_audit(size, report)``
(``python -m ops.bench.audit --sizes 100000 1000000`` runs it alone); it returns a Markdown
section for RESULTS.md.

The ledger is ``ops.bench.stream.simulated_stream(size)``, appended without the monitor (the
index does not depend on it), then indexed, then monitored. Latency is measured in-process, as
a server answering the question would see it: the index query plus fetching and decoding the
page's events from the ledger (100 per page). Subjects are drawn at random (fixed seed):
clients, orders, trades, the perpetual contracts (each of their trades names one) and the
simulator's assets; first pages and pages deep into each subject's history.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ops.bench.findings import acknowledge_some, findings_rows, percentile
from ops.bench.stores import fresh_postgres
from ops.bench.stream import simulated_stream
from ops.lines import open_inputs
from ops.simulate.market import ASSETS
from ops.simulate.platform import CONTRACTS
from ops.wiring import build_audit_index, build_ledger, build_monitor, open_store
from projections.asof import replay
from projections.audit import AuditQuery, audit_events
from projections.sql import Sql
from projections.store.base import Store

QUERIES_PER_KIND = 300
PAGE_EVENTS = 100
SEED = 11
REPLAY_EVENTS_MAX = 200_000  # an as-of replay is linear; measured on a prefix this long

FINDINGS_SEED = 13


def subjects(store: Store, rng: random.Random) -> dict[str, list[tuple[str, int]]]:
    """Per kind of subject: (subject, after) pairs, half first pages, half deep pages."""
    sql = Sql(store)
    owners = "SELECT DISTINCT owners FROM audit_owners WHERE kind IN ('deposit', 'account', 'pledge', 'loan')"
    clients = sorted(c.strip('[]"') for (c,) in sql.rows(owners))
    orders = [r[0] for r in sql.rows("SELECT id FROM audit_owners WHERE kind = 'order'")]
    trades = [r[0] for r in sql.rows("SELECT id FROM audit_owners WHERE kind = 'trade'")]
    tip = store.tip().position

    def draws(pool: list[str]) -> list[tuple[str, int]]:
        picked = [rng.choice(pool) for _ in range(QUERIES_PER_KIND)]
        return [(s, 0 if i % 2 == 0 else rng.randint(0, tip)) for i, s in enumerate(picked)]

    return {
        "client": draws(clients), "order": draws(orders), "trade": draws(trades),
        f"contract (the {len(CONTRACTS)} traded)": draws([spec.contract_id for spec in CONTRACTS]),
        f"asset (the {len(ASSETS)} listed)": draws([spec.symbol for spec in ASSETS]),
    }


def measure(store: Store, pairs: list[tuple[str, int]]) -> list[float]:
    samples = []
    for subject, after in pairs:
        started = time.perf_counter()
        audit_events(store, AuditQuery(subject=subject, after=after, limit=PAGE_EVENTS))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def latency_rows(store: Store, rng: random.Random, report: Callable[[str], None]) -> list[str]:
    rows = []
    for kind, pairs in subjects(store, rng).items():
        measure(store, pairs[:20])  # warm the pool and the plan cache
        samples = measure(store, pairs)
        rows.append(
            f"| {kind} | {len(samples)} | {statistics.median(samples):.2f} | {percentile(samples, 0.95):.2f} | {max(samples):.2f} |"
        )
        report(rows[-1])
    return rows


def tip_state(store: Store, report: Callable[[str], None]) -> str:
    """The state at the tip (``state``, ``explain`` of a recent finding) from the monitor's own
    state (or, when it has moved past, the newest midnight snapshot), against the replay of the
    whole ledger it replaces."""
    started = time.perf_counter()
    whole = replay(store)
    whole_s = time.perf_counter() - started
    started = time.perf_counter()
    snapped = replay(store, from_snapshot=True)
    snapped_s = time.perf_counter() - started
    assert snapped.engine.state_digest() == whole.engine.state_digest()
    report(f"state at the tip: {snapped_s:.2f} s from the state persisted at {snapped.started_from:,}, {whole_s:.1f} s from nothing")
    if not snapped.started_from:
        return f"`state` at the tip: no persisted state to start from; {whole_s:.1f} s replaying all {whole.applied:,} events."
    return (
        f"`state` and `explain` at the tip start from the monitor's persisted state (position "
        f"{snapped.started_from:,} of {store.tip().position:,}, the events after it applied): "
        f"{snapped_s:.2f} s against {whole_s:.1f} s replaying all {whole.applied:,} events "
        f"({whole_s / snapped_s:,.1f}x faster), with the same state digest."
    )


def bench_audit(size: int, report: Callable[[str], None] = print) -> str:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as directory, fresh_postgres() as url:
        path = Path(directory) / "stream.jsonl"
        with path.open("wb") as out:
            for line in simulated_stream(size):
                out.write(line + b"\n")
        store = open_store(url, create=True)
        try:
            started = time.perf_counter()
            summary = build_ledger(store).ingest(open_inputs([str(path)]), 1000)
            ingest_s = time.perf_counter() - started
            assert summary.rejected == 0, summary.rejections[:3]
            started = time.perf_counter()
            indexed = build_audit_index(store).catch_up()
            index_s = time.perf_counter() - started
            report(f"{size:,} events: ingest {summary.accepted / ingest_s:,.0f}/s, index {indexed.events / index_s:,.0f} events/s ({indexed.rows:,} subject rows)")
            rows = latency_rows(store, rng, report)
            bounded = min(size, REPLAY_EVENTS_MAX)
            started = time.perf_counter()
            replayed = replay(store, through=bounded)
            replay_s = time.perf_counter() - started
            report(f"as-of replay: {replayed.applied:,} events in {replay_s:.1f} s")
            started = time.perf_counter()
            monitored = build_monitor(store).catch_up()
            monitor_s = time.perf_counter() - started
            acknowledged = acknowledge_some(store)
            report(f"monitor: {monitored.events / monitor_s:,.0f} events/s, {monitored.findings:,} findings, {acknowledged} acknowledged")
            found = findings_rows(store, random.Random(FINDINGS_SEED), report)
            tip = tip_state(store, report)
        finally:
            store.close()
    return "\n".join([
        f"## Audit trail on a {size:,}-event ledger (PostgreSQL, `ops/bench/audit.py`)",
        "",
        f"Index built after the ingest at {indexed.events / index_s:,.0f} events/s ({indexed.rows:,} subject rows, "
        f"{indexed.rows / max(indexed.events, 1):.1f} per event). `audit --subject` latency, in-process, "
        f"{PAGE_EVENTS} events per page, half first pages and half pages after a random position:",
        "",
        "| subject | queries | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|", *rows,
        "",
        f"`state --as-of` replays the ledger: {replayed.applied:,} events in {replay_s:.1f} s "
        f"({replayed.applied / replay_s:,.0f} events/s), so about {size / (replayed.applied / replay_s):,.0f} s for all {size:,}.",
        "",
        tip,
        "",
        f"`findings` latency (`ops/bench/findings.py`), in-process, after the monitor caught up "
        f"({monitored.findings:,} findings, {acknowledged} of them acknowledged): every finding "
        "as `regledger findings` lists them by default, then first pages of 100 as the API "
        "serves them, filtered as `findings --rule/--subject/--since/--until/--case-status` do:",
        "",
        "| query | queries | rows per query | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|---:|",
        *(found or ["| (no finding on this ledger) | 0 | | | | |"]),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.audit", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help="ledger sizes in events")
    parser.add_argument("--url", help="only measure latency on this existing, indexed store")
    args = parser.parse_args()
    if args.url:
        store = open_store(args.url)
        try:
            latency_rows(store, random.Random(SEED), print)
        finally:
            store.close()
        return
    for size in args.sizes:
        print(bench_audit(size))


if __name__ == "__main__":
    main()

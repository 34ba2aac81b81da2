"""The officers' alert queue at 100,000 findings (issue 18): the latency of one filtered page
as ``GET /v1/findings`` and the console read it (``projections.queue.queue_page``: the page and
its total count), on PostgreSQL, against the target p95 < 50 ms.

The findings are synthetic and written straight into the tables (a simulated stream with
100,000 findings would be tens of millions of events; what is measured is the query, not the
monitor): rules and severities as the rulebook has them, subjects split between clients and
ids the clients own (loans, pledges, orders, trades, with their ``audit_owners`` rows), detection
times over 90 days, one case in five acted on (acknowledged, assigned to one of eight officers,
or resolved). The owners index is filed once before timing (its cost is reported); every kind
of page below is then timed ``QUERIES_PER_KIND`` times with random values.

``python -m ops.bench.queue [--findings N] [--append]`` prints the section (and appends it to
RESULTS.md); ``python -m ops.bench --only queue`` runs it with the others.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from ops.bench.findings import percentile
from ops.bench.stores import fresh_postgres
from ops.queue import SEVERITIES
from ops.wiring import open_store
from policies.registry import RULES_BY_ID
from projections.queue import QueueQuery, catch_up_owners, queue_page
from projections.sql import Sql
from projections.store.base import Store

# The rulebook's 26 rules make the mix; SYS-01 (rare) and a regulator's SUP alerts do not.
RULEBOOK_IDS = tuple(RULES_BY_ID)

FINDINGS = 100_000
CLIENTS = 10_000
OFFICERS = tuple(f"officer-{n}" for n in range(8))
QUERIES_PER_KIND = 200
WARM_QUERIES = 10
PAGE_ROWS = 50  # the console's page
TARGET_P95_MS = 50.0
SEED = 18
START = datetime(2026, 1, 1, tzinfo=UTC)
RESULTS = Path(__file__).parent / "RESULTS.md"
OWNED_KINDS = (("loan", "L"), ("pledge", "P"), ("order", "O"), ("trade", "T"))


def fill(store: Store, count: int, rng: random.Random) -> None:
    """``count`` synthetic findings, their owners and one case in five."""
    findings, owners, cases = [], {}, []
    for seq in range(1, count + 1):
        rule_id = rng.choice(RULEBOOK_IDS)
        client = f"C{rng.randrange(CLIENTS):06d}"
        if rng.random() < 0.3:
            subject = client
        else:
            kind, prefix = rng.choice(OWNED_KINDS)
            subject = f"{prefix}{seq:08d}"
            owners[(kind, subject)] = json.dumps([client])
        detected = START + timedelta(seconds=rng.uniform(0, 90 * 86_400) + seq)  # rising, as the monitor writes
        finding_id = f"F-{seq:024x}"
        findings.append((finding_id, rule_id, RULES_BY_ID[rule_id].severity, f"e-{seq}", subject,
                         detected - timedelta(seconds=rng.uniform(0, 14_400)), detected, seq,
                         f"Synthetic finding {seq} on {subject}.", "{}", "{}"))
        if rng.random() < 0.2:
            status = rng.choice(("acknowledged", "acknowledged", "open", "resolved"))
            cases.append((finding_id, f"case-{seq}", status, rng.choice(OFFICERS) if rng.random() < 0.6 else None,
                          "remediated" if status == "resolved" else None, detected, "bench", 2))
    findings.sort(key=lambda f: f[6])
    findings = [(*f[:7], position, *f[8:]) for position, f in enumerate(findings, start=1)]
    sql = Sql(store)
    with sql.writing() as cursor:
        cursor.executemany(
            "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at,"
            " position, message, parameters, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(*f[:5], sql.time(f[5]), sql.time(f[6]), *f[7:]) for f in findings],
        )
        cursor.executemany("INSERT INTO audit_owners (kind, id, owners) VALUES (?,?,?)",
                           [(kind, natural_id, o) for (kind, natural_id), o in owners.items()])
        cursor.executemany(
            "INSERT INTO finding_cases (finding_id, case_id, status, assignee, resolution, updated_at,"
            " updated_by, version) VALUES (?,?,?,?,?,?,?,?)",
            [(*c[:5], sql.time(c[5]), *c[6:]) for c in cases],
        )
        # the audit index has "seen" every finding's position, so the owners index files them all
        cursor.execute("INSERT INTO notification_tracking VALUES ('audit', ?)", (count,))


def vacuumed(url: str) -> None:
    """What autovacuum does to tables this size soon after the inserts (PostgreSQL 13+ vacuums
    insert-only tables too): statistics, and the visibility map index-only scans rely on."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def draws(rng: random.Random) -> dict[str, Callable[[], QueueQuery]]:
    page = QueueQuery(limit=PAGE_ROWS)

    def with_(**changes: Any) -> QueueQuery:
        return replace(page, **changes)

    def day() -> QueueQuery:
        since = START + timedelta(days=rng.randrange(90))
        return with_(since=since, until=since + timedelta(days=1))

    return {
        "newest first, first page": lambda: page,
        "newest first, page 1-200": lambda: with_(offset=PAGE_ROWS * rng.randrange(200)),
        "by severity": lambda: with_(severities=(rng.choice(SEVERITIES[:3]),)),
        "by rule": lambda: with_(rule_ids=(rng.choice(RULEBOOK_IDS),)),
        "a client's everything": lambda: with_(subject=f"C{rng.randrange(CLIENTS):06d}"),
        "case status open": lambda: with_(case_status="open"),
        "case status acknowledged": lambda: with_(case_status="acknowledged"),
        "my queue (assignee)": lambda: with_(assignee=rng.choice(OFFICERS)),
        "one day (since / until)": day,
        "sorted by severity": lambda: with_(sort="severity"),
        "sorted by age, open": lambda: with_(sort="age", case_status="open"),
        "critical, open, newest": lambda: with_(severities=("critical",), case_status="open"),
    }


def section(count: int = FINDINGS, report: Callable[[str], None] = print) -> str:
    rng = random.Random(SEED)
    rows = []
    with fresh_postgres() as url:
        store = open_store(url, create=True)
        try:
            started = time.perf_counter()
            fill(store, count, rng)
            filled_s = time.perf_counter() - started
            started = time.perf_counter()
            filed = catch_up_owners(store)
            filing_s = time.perf_counter() - started
            vacuumed(url)
            report(f"{count:,} findings written in {filled_s:.1f} s; filed under owners in {filing_s:.1f} s ({filed:,})")
            for kind, draw in draws(rng).items():
                queries = [draw() for _ in range(QUERIES_PER_KIND)]
                for query in queries[:WARM_QUERIES]:
                    queue_page(store, query)
                samples, totals = [], []
                for query in queries:
                    started = time.perf_counter()
                    totals.append(queue_page(store, query).total)
                    samples.append((time.perf_counter() - started) * 1000)
                p95 = percentile(samples, 0.95)
                rows.append(f"| {kind} | {statistics.median(totals):,.0f} | {statistics.median(samples):.2f} "
                            f"| {p95:.2f} | {max(samples):.2f} | {'yes' if p95 < TARGET_P95_MS else '**no**'} |")
                report(rows[-1])
        finally:
            store.close()
    return "\n".join([
        f"## The alert queue at {count:,} findings (PostgreSQL, `ops/bench/queue.py`)",
        "",
        f"One page of {PAGE_ROWS} findings with its total count (`projections.queue.queue_page`, as "
        "`GET /v1/findings` and the console read it), in-process, "
        f"{QUERIES_PER_KIND} random queries per kind after {WARM_QUERIES} warm-up ones; synthetic "
        f"findings over {CLIENTS:,} clients and 90 days, one in five with a case, vacuumed and analysed "
        "as autovacuum leaves them. Filing the "
        f"findings under their owners (once, then incrementally as findings arrive): {filing_s:.1f} s. "
        f"Target: p95 < {TARGET_P95_MS:.0f} ms.",
        "",
        "| page | matching (median) | p50 ms | p95 ms | max ms | p95 < 50 ms |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.queue", description=__doc__)
    parser.add_argument("--findings", type=int, default=FINDINGS)
    parser.add_argument("--append", action="store_true", help="append the section to RESULTS.md")
    args = parser.parse_args()
    text = section(args.findings)
    print(text)
    if args.append:
        with RESULTS.open("a") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()

"""The ``findings`` query's latency, in-process as a server answering it would see it: the
statement ``regledger findings`` and ``GET /v1/findings`` run (``Store.findings`` with a
``FindingFilter``) and its rows fetched, on a ledger the monitor has caught up with.

``findings_rows(store, rng, report)`` (called by ``ops.bench.audit`` on its ledger) returns the
Markdown table rows: every finding (the CLI's default, no limit), and first pages of 100 (the
API's default) by rule, by severity (the rules of that severity: ``FindingFilter`` has no
severity of its own), by subject, over a one-day ``since``/``until`` window, and by case status
after one finding in ``CASE_SHARE`` has been acknowledged.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from domain.cases.application import Cases, FindingRef
from ops.wiring import wall_clock
from policies.registry import RULES
from projections.cases import case_recorder
from projections.store.base import FindingFilter, Store

QUERIES_PER_KIND = 200
PAGE_ROWS = 100  # GET /v1/findings' default limit
ALL_QUERIES = 20  # every finding at once: fewer, each returns them all
CASE_SHARE = 10  # one finding in this many acknowledged, so the case filter has both kinds
CASES_MAX = 200  # bound on the case actions written (each is a ledger event)
WARM_QUERIES = 10


def percentile(samples_ms: list[float], share: float) -> float:
    ordered = sorted(samples_ms)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def acknowledge_some(store: Store) -> int:
    """Acknowledge one finding in ``CASE_SHARE`` (at most ``CASES_MAX``); how many."""
    cases = Cases(case_recorder(store), clock=wall_clock, actor_source="bench")  # no officers to check: a bench
    chosen = store.findings(FindingFilter())[::CASE_SHARE][:CASES_MAX]
    for row in chosen:
        cases.acknowledge(FindingRef.of(row), "bench")
    return len(chosen)


def filters(store: Store, rng: random.Random) -> dict[str, list[FindingFilter]]:
    """Per kind of query, the filters to time (empty when the ledger has no finding)."""
    every = store.findings(FindingFilter())
    if not every:
        return {}
    page = FindingFilter(limit=PAGE_ROWS)
    rules = sorted({r.rule_id for r in every})
    severities = sorted({r.severity for r in every})
    subjects = sorted({r.subject for r in every})
    first, last = min(r.occurred_at for r in every), max(r.occurred_at for r in every)
    span_s = max(0.0, (last - first).total_seconds())

    def window() -> FindingFilter:
        since = first + timedelta(seconds=rng.uniform(0, span_s))
        return replace(page, since=since, until=since + timedelta(days=1))

    def severity() -> FindingFilter:
        chosen = rng.choice(severities)
        return replace(page, rule_ids=tuple(r.rule_id for r in RULES if r.severity == chosen))

    draws: dict[str, Callable[[], FindingFilter]] = {
        "by rule": lambda: replace(page, rule_ids=(rng.choice(rules),)),
        "by severity (its rules)": severity,
        "by subject": lambda: replace(page, subject=rng.choice(subjects)),
        "since / until, one day": window,
        "case status open": lambda: replace(page, case_status="open"),
        "case status acknowledged": lambda: replace(page, case_status="acknowledged"),
    }
    chosen = {"every finding (no limit)": [FindingFilter()] * ALL_QUERIES}
    chosen |= {kind: [draw() for _ in range(QUERIES_PER_KIND)] for kind, draw in draws.items()}
    return chosen


def timed(store: Store, wheres: list[FindingFilter]) -> tuple[list[float], int]:
    """Milliseconds per query, and the rows the queries returned in all."""
    samples, rows = [], 0
    for where in wheres:
        started = time.perf_counter()
        rows += len(store.findings(where))
        samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


def findings_rows(store: Store, rng: random.Random, report: Callable[[str], None]) -> list[str]:
    """``| query | queries | rows per query | p50 ms | p95 ms | max ms |`` rows."""
    rows = []
    for kind, wheres in filters(store, rng).items():
        timed(store, wheres[:WARM_QUERIES])  # the pool and the plan cache
        samples, returned = timed(store, wheres)
        rows.append(
            f"| {kind} | {len(samples)} | {returned / len(samples):,.0f} | {statistics.median(samples):.2f} "
            f"| {percentile(samples, 0.95):.2f} | {max(samples):.2f} |"
        )
        report(rows[-1])
    return rows

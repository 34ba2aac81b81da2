"""The benchmark harness at tiny sizes: which benchmarks run at which size, the detection
latency under a steady load and the ``findings`` query latency give sensible figures."""

from __future__ import annotations

import pytest

from ops.bench.__main__ import BENCHMARKS, plan
from ops.bench.audit import bench_audit
from ops.bench.latency import bench_latency, markdown
from ops.bench.stores import fresh_postgres
from tests.conftest import require_postgres


def test_sizes_above_the_full_maximum_run_only_the_large_benchmarks() -> None:
    ran = plan([100_000, 1_000_000, 5_000_000], [], 1_000_000)
    at = {size: [b.name for b, s in ran if s == size] for size in (100_000, 1_000_000, 5_000_000)}
    assert at[100_000] == [b.name for b in BENCHMARKS]
    assert at[1_000_000] == [b.name for b in BENCHMARKS if b.sized]
    assert at[5_000_000] == ["ingest", "evidence"]
    assert plan([5_000_000], ["latency"], 1_000_000) == []


@pytest.mark.postgres
def test_detection_latency_is_measured_for_every_finding_under_a_steady_load() -> None:
    require_postgres()
    lines: list[str] = []
    figures = bench_latency(10_000, lines.append, stores=(("postgresql", fresh_postgres),))
    found = figures["postgresql"]
    assert found.events == 7_000 and found.findings > 0
    assert found.load_events_per_s > 1_000
    assert 0 < found.p50_ms <= found.p99_ms <= found.max_ms
    assert found.follower_rss_mib > 0
    assert len(lines) == 1
    assert markdown(figures).startswith("## Detection latency at 5,000 events/s, 7,000 events")


@pytest.mark.postgres
def test_the_audit_benchmark_gives_findings_query_percentiles() -> None:
    require_postgres()
    text = bench_audit(5_000, lambda line: None)
    table = text[text.index("| query |"):].splitlines()[2:]
    rows = [line.split("|")[1:-1] for line in table if line.startswith("| ")]
    assert [r[0].strip() for r in rows][:2] == ["every finding (no limit)", "by rule"]
    assert len(rows) == 7
    for _, queries, returned, p50, p95, most in rows:
        assert int(queries) > 0 and float(returned.replace(",", "")) >= 0
        assert 0 < float(p50) <= float(p95) <= float(most)
    every = rows[0]
    assert float(every[2]) > 0, "the ledger raised no finding"
    assert "`state` at the tip" in text or "`state` and `explain` at the tip start from the monitor" in text


@pytest.mark.postgres
@pytest.mark.slow
def test_the_report_benchmark_times_every_case_of_the_state_at_the_cutoff() -> None:
    require_postgres()
    from ops.bench.report import bench_report

    figures = bench_report(8_000, lambda line: None)
    timed = [name for name in figures if name.endswith(", s")]
    assert len(timed) == 4 and "report of the day before (from its midnight snapshot), s" in timed
    assert all(figures[name] > 0 for name in timed)


@pytest.mark.postgres
def test_the_queue_benchmark_draws_its_findings_from_the_rulebook_and_reports_every_page() -> None:
    """Its mix is the rulebook's rules: SYS-01 and the regulator's SUP alerts are no firm's
    daily findings (a SUP id drawn once stopped the whole benchmark run)."""
    require_postgres()
    from ops.bench import queue

    assert queue.RULEBOOK_IDS and not any(r.startswith(("SYS-", "SUP-")) for r in queue.RULEBOOK_IDS)
    lines: list[str] = []
    text = queue.section(2_000, lines.append)
    assert "2,000 findings written" in lines[0]
    assert "| critical, open, newest |" in text

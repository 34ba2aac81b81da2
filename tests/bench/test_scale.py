"""The scale benchmark end to end at a tiny size: a 3,000-event client-heavy stream in chunks
of 1,000, each ingested by ``regledger ingest`` in a process of its own into one store, then
the full store's figures and its bytes on disk. No timing is asserted: only that every row is
there and every chunk was accepted whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.bench import scale
from ops.bench import stores as bench_stores
from ops.bench.__main__ import BENCHMARKS, plan
from tests.conftest import require_postgres

SIZE, CHUNK = 3_000, 1_000


def test_the_stream_grows_by_days_and_clients_at_the_client_heavy_density() -> None:
    small, million, ten = scale.scale_config(200_000), scale.scale_config(1_000_000), scale.scale_config(10_000_000)
    assert (small.days, million.days, ten.days) == (3, 3, 45)  # 30 trading days of 10M, and weekends
    assert million.clients == ten.clients == 1_000_000 // (scale.CLIENT_EVENTS_PER_DAY * 3)


def test_scale_runs_only_when_named() -> None:
    assert all(b.name != "scale" for b, _ in plan([1_000_000], [], 1_000_000))
    assert [b.name for b, _ in plan([10_000_000], ["scale"], 1_000_000)] == ["scale"]
    assert "scale" not in [b.name for b in BENCHMARKS]


def test_the_chunks_are_cached_by_size_and_seed(tmp_path: Path) -> None:
    first = scale.cached_chunks("client-heavy", SIZE, CHUNK, tmp_path)
    assert [c.lines for c in first] == [CHUNK] * 3
    stamps = [c.path.stat().st_mtime_ns for c in first]
    again = scale.cached_chunks("client-heavy", SIZE, CHUNK, tmp_path)
    assert again == first and [c.path.stat().st_mtime_ns for c in again] == stamps
    assert first[0].last_day <= first[-1].last_day


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_scale_benchmark_ingests_every_chunk_and_reports_every_row(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "postgresql":
        require_postgres()
    monkeypatch.setattr(bench_stores, "STORES", tuple(s for s in bench_stores.STORES if s[0] == kind))
    options = scale.Options(chunk=CHUNK, cache_dir=tmp_path)
    [run] = scale.measure(SIZE, lambda line: None, options)
    assert [(c.lines, c.accepted) for c in run.chunks] == [(CHUNK, CHUNK)] * 3
    assert run.events == SIZE and set(run.baselines) == {"events", "naive", "batched"}
    assert sum(run.tables.values()) > 0 and "ledger_events" in run.tables
    text = scale.markdown(SIZE, [run], options)
    assert sum(line.startswith(f"| {kind} | client-heavy | ") for line in text.splitlines()) == 3
    assert f"- {kind}, client-heavy: " in text
    assert f"| {kind} | every finding (no limit) |" in text
    assert f"| {kind} | **all** |" in text and "2 billion" in text
    assert text.count(f"| {kind} | ") >= 3 + 1 + 7 + 2  # chunks, full-store figures, findings, tables

"""The evidence benchmark the lead runs from ``ops.bench``: every figure on both stores."""

from __future__ import annotations

import pytest

from ops.bench.evidence import (
    DECODED_AFTER,
    DECODED_BEFORE,
    DECODED_READ,
    FIGURES,
    bench_evidence,
    markdown,
)
from tests.conftest import require_postgres


@pytest.mark.slow
@pytest.mark.postgres
def test_the_evidence_benchmark_gives_every_figure_for_both_stores() -> None:
    require_postgres()
    figures = bench_evidence(3_000, lambda line: None)
    assert list(figures) == [f"{kind} {name}" for kind in ("postgresql", "sqlite") for name in FIGURES]
    assert all(value > 0 for value in figures.values())
    for kind in ("postgresql", "sqlite"):  # the baseline is the mean of the reads either side
        mean = (figures[f"{kind} {DECODED_BEFORE}"] + figures[f"{kind} {DECODED_AFTER}"]) / 2
        assert figures[f"{kind} {DECODED_READ}"] == pytest.approx(mean)
    assert markdown(3_000, figures).startswith("## Replay and verification of a 3,000-event ledger")

"""The evidence benchmark the lead runs from ``ops.bench``: every figure on both stores."""

from __future__ import annotations

import pytest

from ops.bench.evidence import FIGURES, bench_evidence, markdown
from tests.conftest import require_postgres


@pytest.mark.slow
@pytest.mark.postgres
def test_the_evidence_benchmark_gives_every_figure_for_both_stores() -> None:
    require_postgres()
    figures = bench_evidence(3_000, lambda line: None)
    assert list(figures) == [f"{kind} {name}" for kind in ("postgresql", "sqlite") for name in FIGURES]
    assert all(value > 0 for value in figures.values())
    assert markdown(3_000, figures).startswith("## Replay and verification of a 3,000-event ledger")

"""The stress benchmark at a tiny size: the fast ladder agrees with the engine path (the
benchmark asserts it) and the figures it reports are sensible."""

from __future__ import annotations

from ops.bench.stress import markdown, measure


def test_the_stress_benchmark_measures_both_paths_and_they_agree() -> None:
    figures = measure(300, 30)
    assert figures.calls[0] < figures.calls[5]  # a deeper fall, more calls
    assert figures.fast_s[0] > 0 and figures.ladder_s[1] > 0 and figures.per_client_us(figures.fast_total_s[1]) > 0
    text = markdown(figures)
    assert text.startswith("## Stress ladder over a large book") and "fast ladder in all" in text

"""The HTTP ingest benchmark runs end to end and reports both rates and their ratio."""

from __future__ import annotations

import re

import pytest

from ops.bench.http import section


@pytest.mark.slow
@pytest.mark.postgres
def test_the_http_benchmark_gives_file_and_http_rates_for_both_stores() -> None:
    lines: list[str] = []
    text = section(3_000, lines.append)
    assert len(lines) == 2
    for store in ("postgresql", "sqlite"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {store} |"))
        file_rate, http_rate, ratio = (cell.strip() for cell in row.split("|")[2:5])
        assert float(file_rate.replace(",", "")) > 0 and float(http_rate.replace(",", "")) > 0
        assert re.fullmatch(r"\d+%", ratio)

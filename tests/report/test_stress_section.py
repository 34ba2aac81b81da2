"""The nightly report's "stress" section, on both stores: the BTC and ETH ladders at the
cut-off as a table and an inline SVG chart, the ten clients who go short first and
concentration, the same figures in report.json; a rerun gives the same bytes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.report.test_nightly import files, nightly
from tests.stress.book import Lines
from tests.test_cli import regledger

DAY = date(2026, 3, 2)


def book() -> bytes:
    # C1: LV 2000000 (10 BTC at 500000), D 1400000: short from BTC -30 % (LV 1400000 is not
    # short; -40 % is). C2: LV 10 ETH x 20000 x 0.4 = 80000, D 70000: short from ETH -20 %.
    # C3: short already (D 1 above its LV of 80000).
    lines = Lines()
    lines.market()
    lines.borrower("C1", [("BTC", "10", "0.6")], "1400000")
    lines.borrower("C2", [("ETH", "10", "0.6")], "70000")
    lines.borrower("C3", [("ETH", "10", "0.6")], "80001")
    return b"\n".join(lines.lines) + b"\n"


def test_the_report_has_the_ladders_the_first_clients_short_and_concentration(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "book.jsonl").write_bytes(book())
    assert regledger("ingest", str(tmp_path / "book.jsonl"), db=store_url).returncode in (0, 3)
    _, report = nightly(store_url, DAY, tmp_path / "a")
    stress = report["stress"]
    assert isinstance(stress, dict)
    assert stress["as_of"] == "2026-03-03T00:00:00+08:00"
    btc, eth = stress["ladders"]
    assert [(r["shock"], r["total_shortfall_after"], r["margin_call_count"]) for r in btc["rungs"]] == [
        ("-0.1", "1", 1), ("-0.2", "1", 1), ("-0.3", "1", 1), ("-0.4", "200001", 2),
        ("-0.5", "400001", 2), ("-0.6", "600001", 2),
    ]
    assert [(r["shock"], r["total_shortfall_after"]) for r in eth["rungs"]][:2] == [("-0.1", "8001"), ("-0.2", "22001")]
    assert [(c["client_id"], c["at"], c["shortfall"]) for c in stress["first_short"]] == [
        ("C3", "short at the cut-off", "1"), ("C2", "ETH -20%", "6000"), ("C1", "BTC -40%", "200000"),
    ]
    assert [(a["asset"], a["lending_value_share"]) for a in stress["concentration"]["assets"]] == [
        ("BTC", "0.9259"), ("ETH", "0.0741"),
    ]
    directory = tmp_path / "a" / f"nightly-{DAY}"
    page = (directory / "index.html").read_text()
    assert "Stress at the cut-off" in page and 'aria-label="Stress ladder of BTC: shortfall and calls by shock"' in page
    assert "200,001.00" in page and "2 calls" in page
    assert (directory / "stress-ladders.csv").read_text().splitlines()[1].startswith("BTC,BTC -10%,-0.1,1,1,0")
    nightly(store_url, DAY, tmp_path / "b")
    assert files(tmp_path / "b" / f"nightly-{DAY}") == files(directory)
    assert json.loads((directory / "report.json").read_text())["stress"] == stress

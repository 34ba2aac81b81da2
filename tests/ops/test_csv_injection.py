"""CSV output against formula injection: free text that a spreadsheet would run (a cell that
starts with = + - @, a tab or a carriage return) is written with a leading single quote, in
the nightly report's tables and in every ``--format csv``; a plain decimal such as a negative
amount is data and is written as it is."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ops.render import csv_cell
from tests.test_cli import regledger

HOSTILE = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-A1", "@SUM(A1:A2)", "\t=1", "\r=1", "-", "-5000 HKD")
EMBEDDED_CR = "top-up\r=1+1"  # a row of its own in a spreadsheet, unless the cell is quoted
DATA = ("-5000.00", "-0.0001", "5", "250.5", "", "a=b", "HKD", "'already quoted")


def quoted(cell: str) -> str:
    return "'" + cell.replace("\r", "\n")


@pytest.mark.parametrize("cell", HOSTILE)
def test_a_cell_that_would_start_a_formula_is_quoted(cell: str) -> None:
    assert csv_cell(cell) == quoted(cell)


def test_a_carriage_return_inside_a_cell_cannot_start_a_row_of_its_own() -> None:
    assert csv_cell("harmless\r=HYPERLINK(1)") == "harmless\n=HYPERLINK(1)"  # the writer quotes a LF


@pytest.mark.parametrize("cell", DATA)
def test_a_plain_decimal_or_ordinary_text_is_written_as_it_is(cell: str) -> None:
    assert csv_cell(cell) == cell


def event(n: int, kind: str, data: dict[str, object], source: str = "fund-desk", event_id: str | None = None) -> str:
    return json.dumps({"event_id": event_id or f"fund-{n}", "type": kind, "source": source,
                       "occurred_at": f"2026-03-02T10:{n:02d}:00+08:00", "data": data})


def table(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def test_hostile_free_text_reaches_every_csv_quoted_and_amounts_stay_numbers(store_url: str, tmp_path: Path) -> None:
    lines = [event(n, "InsuranceFundChanged", {"delta": "-5000.00" if n % 2 else "250.5", "reason": reason})
             for n, reason in enumerate((*HOSTILE, EMBEDDED_CR), 1)]
    lines.append(event(20, "InsuranceFundChanged", {"delta": "1", "reason": "top-up"}, source="=2+3"))
    lines.append(event(21, "InsuranceFundChanged", {"delta": "x", "reason": "bad"}, event_id="-A1"))
    stream = tmp_path / "fund.jsonl"
    stream.write_text("\n".join(lines) + "\n")
    assert regledger("ingest", str(stream), db=store_url).returncode == 1  # one line rejected
    done = regledger("report", "nightly", "--date", "2026-03-02", "--out", str(tmp_path), db=store_url)
    assert done.returncode in (0, 4), done.stderr
    moves = table(tmp_path / "nightly-2026-03-02" / "insurance-fund.csv")
    assert [m["detail"] for m in moves] == [*map(quoted, HOSTILE), "top-up\n=1+1", "top-up"]
    amounts = [m["amount"] for m in moves]
    assert amounts.count("-5000.00") == 5 and not any(a.startswith("'") for a in amounts), amounts
    [quarantined] = table(tmp_path / "nightly-2026-03-02" / "quarantine.csv")
    assert quarantined["event_id"] == "'-A1"
    listed = regledger("quarantine", "list", "--format", "csv", db=store_url)
    assert [row["event_id"] for row in csv.DictReader(io.StringIO(listed.stdout))] == ["'-A1"]
    audit = regledger("audit", "--type", "InsuranceFundChanged", "--format", "csv", db=store_url)
    sources = [row["source"] for row in csv.DictReader(io.StringIO(audit.stdout))]
    assert sources.count("'=2+3") == 1 and "=2+3" not in sources
    for name in ("findings", "audit"):
        out = regledger(name, "--format", "csv", db=store_url).stdout
        for row in csv.reader(io.StringIO(out)):
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row), (name, row)

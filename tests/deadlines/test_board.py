"""The deadlines board: every open obligation with the time left by the wall clock, soonest
first, overdue once past by the clock; the findings stay in event time. On both stores."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ops.commands.obligations import obligations_board
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import ingest
from tests.stress.book import Lines
from tests.test_cli import regledger


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def quiet_hour() -> list[bytes]:
    """C1 goes short at 09:00:13 (MF-07 due 10:00:13); C2 has a call due 09:30; ETH-PERP
    lists at 09:00:14 (funding due the next day at 09:00:14). Then nothing happens."""
    book = Lines()
    book.market()
    book.borrower("C1", [("BTC", "10", "0.6")], "1500000")  # LV 2000000 at 500000
    book.send("PriceObserved", asset="BTC", price="370000", price_source="feed")  # LV 1480000: short
    book.contract()
    book.borrower("C2", [("ETH", "10", "0.6")], "10000")
    book.send("MarginCallIssued", call_id="MC2", client_id="C2", shortfall="1",
              due_by="2026-03-02T09:30:00+08:00")
    return book.lines


def listed(result: dict[str, Any]) -> list[tuple[str, str, str, bool, str]]:
    return [(r["rule_id"], r["subject"], r["deadline"], r["overdue"], r["time_left"]) for r in result["obligations"]]


@pytest.mark.parametrize(("now", "expected"), [
    ("2026-03-02T09:20:00+08:00", [
        ("MF-08", "MC2", "2026-03-02T09:30:00+08:00", False, "10m 00s left"),
        ("MF-07", "C1", "2026-03-02T10:00:13+08:00", False, "40m 13s left"),
        ("PERP-08", "ETH-PERP", "2026-03-03T09:00:14+08:00", False, "23h 40m left"),
    ]),
    ("2026-03-02T09:30:00+08:00", [  # exactly at the deadline: not yet overdue
        ("MF-08", "MC2", "2026-03-02T09:30:00+08:00", False, "0m 00s left"),
        ("MF-07", "C1", "2026-03-02T10:00:13+08:00", False, "30m 13s left"),
        ("PERP-08", "ETH-PERP", "2026-03-03T09:00:14+08:00", False, "23h 30m left"),
    ]),
    ("2026-03-02T10:00:14+08:00", [  # a second past C1's: overdue, as MC2's is
        ("MF-08", "MC2", "2026-03-02T09:30:00+08:00", True, "overdue by 30m 14s"),
        ("MF-07", "C1", "2026-03-02T10:00:13+08:00", True, "overdue by 0m 01s"),
        ("PERP-08", "ETH-PERP", "2026-03-03T09:00:14+08:00", False, "23h 00m left"),
    ]),
])
def test_the_board_lists_every_open_obligation_soonest_first_and_overdue_by_the_clock(
    store: Store, now: str, expected: list[tuple[str, str, str, bool, str]],
) -> None:
    ingest(store, quiet_hour())
    result = obligations_board(store, at(now))
    assert listed(result) == expected
    assert result["obligations"][1]["client_id"] == "C1"
    assert result["obligations"][0]["client_id"] == "C2"  # MF-08's call names its client
    assert result["overdue"] == sum(e[3] for e in expected)


def test_an_overdue_obligation_on_the_board_raises_no_finding_until_the_next_event(store: Store) -> None:
    ingest(store, quiet_hour())
    obligations_board(store, at("2026-03-05T00:00:00+08:00"))
    assert [f.rule_id for f in store.findings(FindingFilter())] == []  # event time: nothing yet
    book = Lines(at("2026-03-02T10:00:14+08:00"))
    book.lines.append(Lines.line("later", "PriceObserved", book.now, {"asset": "ETH", "price": "1", "price_source": "x"}))
    ingest(store, book.lines)
    assert sorted(f.rule_id for f in store.findings(FindingFilter())) == ["MF-07", "MF-08"]
    assert [r["rule_id"] for r in obligations_board(store, at("2026-03-02T10:00:14+08:00"))["obligations"]] == ["PERP-08"]


def test_the_command_shows_the_board_as_a_table_json_and_csv(store_url: str, tmp_path: Path) -> None:
    source = tmp_path / "quiet.jsonl"
    source.write_bytes(b"\n".join(quiet_hour()) + b"\n")
    assert regledger("ingest", str(source), db=store_url).returncode == 0
    now = ("--now", "2026-03-02T09:45:00+08:00")
    done = regledger("obligations", *now, "--format", "json", db=store_url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["open"], result["overdue"], result["now"]) == (3, 1, "2026-03-02T09:45:00+08:00")
    table = regledger("obligations", *now, db=store_url, env={"COLUMNS": "200"}).stdout  # wide: cells not folded
    assert "overdue by 15m 00s" in table and "margin call to be issued" in table
    csv_lines = regledger("obligations", *now, "--format", "csv", db=store_url).stdout.splitlines()
    assert csv_lines[0].startswith("deadline,time_left,rule_id") and len(csv_lines) == 4
    assert regledger("obligations", db=store_url).returncode == 0  # the wall clock

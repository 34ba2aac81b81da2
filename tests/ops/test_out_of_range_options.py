"""Times and report days out of events.md's range are a usage error (exit 2, a clear message),
never an internal error (exit 70), on both stores."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from domain.values import TIME_END, TIME_MIN
from ops.cli import main
from ops.options import REPORT_DAY_FIRST, REPORT_DAY_LAST
from projections.nightly.window import Window
from projections.store import open_store

RANGE = "must lie in [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z) once converted to UTC"
LATE = "9999-12-31T23:59:59-23:59"
EARLY = "0001-01-01T00:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str,
        *args: str) -> tuple[int, str]:
    store = open_store(url, create=True)  # a store that exists: only the option is at fault
    store.close()
    monkeypatch.setattr(sys, "argv", ["regledger", *args, "--db", url])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("findings", "--since", LATE), "--since"),
        (("findings", "--until", EARLY), "--until"),
        (("audit", "--since", EARLY), "--since"),
        (("audit", "--known-at", LATE), "--known-at"),
        (("state", "C1", "--as-of", EARLY), "--as-of"),
        (("state", "C1", "--known-at", LATE), "--known-at"),
        (("replay", "--as-of", LATE), "--as-of"),
        (("replay", "--known-at", "1969-12-31T23:59:59.999999Z"), "--known-at"),
        (("findings", "--since", "2200-01-01T00:00:00Z"), "--since"),
    ],
)
def test_a_time_option_outside_the_range_exits_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store_url: str,
    args: tuple[str, ...], option: str,
) -> None:
    code, err = run(capsys, monkeypatch, store_url, *args)
    assert code == 2
    assert f"regledger: {option} {RANGE}" in err


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1970-01-01", "2200-01-01"])
def test_a_report_day_outside_the_range_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store_url: str,
    tmp_path: Path, day: str,
) -> None:
    code, err = run(capsys, monkeypatch, store_url, "report", "nightly", "--date", day,
                    "--out", str(tmp_path))
    assert code == 2
    assert f"--date: {day} is out of range: a report day is from 1970-01-02 to 2199-12-31" in err


def test_the_first_and_last_report_days_are_exactly_those_whose_window_is_in_range() -> None:
    def in_range(day: date) -> bool:
        window = Window(day)
        return window.start >= TIME_MIN and window.cutoff < TIME_END

    assert in_range(REPORT_DAY_FIRST) and not in_range(REPORT_DAY_FIRST - timedelta(days=1))
    assert in_range(REPORT_DAY_LAST) and not in_range(REPORT_DAY_LAST + timedelta(days=1))


def test_the_first_report_day_is_reported_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store_url: str,
    tmp_path: Path,
) -> None:
    code, err = run(capsys, monkeypatch, store_url, "report", "nightly", "--date", "1970-01-02",
                    "--out", str(tmp_path))
    assert code == 0, err

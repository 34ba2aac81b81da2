"""Options and argument parsing every command shares (the ``--db`` option, timestamps)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, NoReturn

import typer

from domain.values import TIME_RANGE_TEXT, time_in_range
from ops.settings import load_settings

EXIT_UNREADABLE = 2

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL: sqlite:///FILE or postgresql://... "
        "[env REGLEDGER_DATABASE_URL; default sqlite:///regledger.db]",
        show_default=False,
    ),
]


def database_url(db: str | None) -> str:
    return db or load_settings().database_url


def fail(message: str, code: int = EXIT_UNREADABLE) -> NoReturn:
    typer.echo(f"regledger: {message}", err=True)
    raise typer.Exit(code)


# The report days whose window (00:00 to 24:00 HKT) lies in events.md's range of times: no
# event outside it can be stored, and a day at the ends of the calendar would not even convert.
REPORT_DAY_FIRST = date(1970, 1, 2)
REPORT_DAY_LAST = date(2199, 12, 31)


def time_problem(option: str, moment: datetime) -> str | None:
    """Why a time a user gives (a filter, an as-of, a known-at) cannot be used, if it cannot:
    the one check of the CLI, the API and the console. A time outside events.md's range is
    refused rather than clamped, so that what was asked is never silently changed."""
    if moment.tzinfo is None:
        return f"{option} needs a UTC offset, e.g. 2026-03-02T09:00:00+08:00"
    if not time_in_range(moment):
        return f"{option} must lie in {TIME_RANGE_TEXT} once converted to UTC"
    return None


def report_day_problem(option: str, day: date) -> str | None:
    """Why a report day cannot be reported on, if it cannot."""
    if not REPORT_DAY_FIRST <= day <= REPORT_DAY_LAST:
        return (f"{option}: {day.isoformat()} is out of range: a report day is from "
                f"{REPORT_DAY_FIRST.isoformat()} to {REPORT_DAY_LAST.isoformat()}")
    return None


def parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not an RFC 3339 timestamp")
    problem = time_problem(option, moment)
    if problem is not None:
        fail(f"{problem} (not {value!r})")
    return moment

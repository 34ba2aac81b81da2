"""Options and argument parsing every command shares (the ``--db`` option, timestamps and
plain Hong Kong dates; as an upper bound or an as-of, a plain day means its last instant)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, NoReturn, TypeVar

import typer

from domain.values import TIME_RANGE_TEXT, time_in_range
from ops.render import HONG_KONG
from ops.settings import load_settings

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE, EXIT_FINDINGS = 0, 1, 2, 3  # cli.md's exit codes

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL: sqlite:///FILE or postgresql://... "
        "[env REGLEDGER_DATABASE_URL; default sqlite:///regledger.db]",
        show_default=False,
    ),
]

ReadDbOption = Annotated[
    str | None,
    typer.Option(
        "--read-db",
        help="A hot standby of --db that answers this read: postgresql://... "
        "[env REGLEDGER_READ_DATABASE_URL; default: read --db]",
        show_default=False,
    ),
]


def database_url(db: str | None) -> str:
    return db or load_settings().database_url


def read_database_url(read_db: str | None) -> str | None:
    return read_db or load_settings().read_database_url


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


T = TypeVar("T")
PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAY_WORDS = {"today": 0, "yesterday": 1}
TIME_FORMS = "a date (2026-03-04, today, yesterday: Hong Kong days) or an RFC 3339 timestamp with its offset"


def moment_of(value: str, option: str, *, end_of_day: bool = False, now: datetime | None = None) -> datetime:
    """A time a user types: a timestamp with its offset, or a plain Hong Kong day, which as a
    lower bound (``--since``) is its first instant and as an upper bound (``--until``) its last,
    so that ``--since 2026-03-04 --until 2026-03-04`` is that whole day. ``today`` and
    ``yesterday`` are days in Hong Kong at ``now`` (the wall clock: what the officer means).
    Raises ValueError with the one sentence the CLI, the API and the console all show."""
    text = value.strip().lower()
    if text in DAY_WORDS or PLAIN_DATE.fullmatch(text):
        if text in DAY_WORDS:
            day = (now or datetime.now(UTC)).astimezone(HONG_KONG).date() - timedelta(days=DAY_WORDS[text])
        else:
            day = _parsed(date.fromisoformat, text, f"{option}: {value!r} is not a date of the calendar")
        _refuse(report_day_problem(option, day))
        start = datetime.combine(day, time(0), HONG_KONG)
        return start + timedelta(days=1, microseconds=-1) if end_of_day else start
    moment = _parsed(datetime.fromisoformat, value, f"{option}: {value!r} is not {TIME_FORMS}")
    problem = time_problem(option, moment)
    _refuse(None if problem is None else f"{problem} (not {value!r})")
    return moment


def _parsed(parse: Callable[[str], T], text: str, refusal: str) -> T:
    try:
        return parse(text)
    except ValueError:
        raise ValueError(refusal) from None


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


def parse_time(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    if value is None:
        return None
    try:
        return moment_of(value, option, end_of_day=end_of_day)
    except ValueError as e:
        fail(str(e))

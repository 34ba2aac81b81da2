"""Options and argument parsing every command shares (the ``--db`` option, timestamps)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

import typer

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


def parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not an RFC 3339 timestamp")
    if moment.tzinfo is None:
        fail(f"{option}: {value!r} needs a UTC offset, e.g. 2026-03-02T09:00:00+08:00")
    return moment

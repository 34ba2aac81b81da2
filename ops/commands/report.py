"""``regledger report nightly``: the report of one Hong Kong day, as HTML, JSON and CSV.

Exit code 4 when a critical finding is new that day, so that a scheduler can alert."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import InvalidRequest
from ops.options import ReadDbOption, read_database_url, report_day_problem
from ops.report import write_report
from ops.settings import load_settings
from ops.wiring import build_monitor, open_read_store
from projections.nightly import build
from projections.nightly.window import HONG_KONG

EXIT_CRITICAL = 4


def parse_day(value: str | None) -> date:
    if value is None:
        raise InvalidRequest("--date is required, e.g. --date 2026-03-04 (a Hong Kong day)")
    if value == "yesterday":  # the one reading of the wall clock: which day a scheduler means
        return datetime.now(HONG_KONG).date() - timedelta(days=1)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"--date: {value!r} is not a date (YYYY-MM-DD, or 'yesterday')") from None
    problem = report_day_problem("--date", day)
    if problem is not None:
        raise InvalidRequest(problem)
    return day


def run_nightly(url: str, day: date, out: Path, stale_days: int, catch_up: bool = True,
                read_url: str | None = None) -> tuple[dict[str, object], Path]:
    store = open_read_store(url, read_url)
    try:
        if catch_up:
            build_monitor(store).catch_up()
        report = build(store, day, stale_days=stale_days)
    finally:
        store.close()
    return report, write_report(report, out).html


def register(app: typer.Typer) -> None:
    report_app = typer.Typer(help="Reports for management and responsible officers.", no_args_is_help=True)
    app.add_typer(report_app, name="report")

    @report_app.command("nightly")
    def nightly(
        day: Annotated[str | None, typer.Option("--date", help="the Hong Kong day (YYYY-MM-DD, or 'yesterday')", show_default=False)] = None,
        out: Annotated[Path | None, typer.Option("--out", help="directory to write nightly-DATE/ into [env REGLEDGER_REPORT_DIR; default reports]", show_default=False)] = None,
        db: Annotated[str | None, typer.Option("--db", help="store URL [env REGLEDGER_DATABASE_URL]", show_default=False)] = None,
        read_db: ReadDbOption = None,
        stale_days: Annotated[int, typer.Option(help="list cases open longer than this many days", min=1, max=3650)] = 7,
    ) -> None:
        """Write the nightly report of a Hong Kong day (00:00-24:00 HKT). Exit 4 when a
        critical finding is new that day."""
        when = parse_day(day)
        settings = load_settings()
        report, page = run_nightly(db or settings.database_url, when, out or Path(settings.report_dir), stale_days,
                                   read_url=read_database_url(read_db))
        summary = report["summary"]
        assert isinstance(summary, dict)
        typer.echo(f"nightly report {when.isoformat()}: {summary['new']} new findings "
                   f"({summary['critical_new']} critical), {summary['open']} open at the cut-off")
        typer.echo(f"open {page}")
        if summary["critical_new"]:
            raise typer.Exit(EXIT_CRITICAL)

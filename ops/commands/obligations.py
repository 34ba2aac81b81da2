"""The officer's deadlines board: ``obligations`` (every open obligation of the deadline
rules with the time left by the wall clock, soonest first)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from ops.commands.audit import opened
from ops.options import DbOption, parse_time
from ops.render import hk_time, to_csv, to_json, to_table
from projections.deadlines import board
from projections.stress.query import state_for_stress

COLUMNS = ("deadline", "time_left", "rule_id", "due", "subject", "client_id", "started_at", "start_event_id")


class BoardFormat(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def obligations_board(store: Any, now: datetime | None = None, as_of: datetime | None = None,
                      known_at: datetime | None = None) -> dict[str, Any]:
    """The board over the state as of a moment (the same replay as ``state``), counted from
    the wall clock, read here at the edge unless ``now`` is given."""
    return board(state_for_stress(store, as_of, known_at), now or datetime.now(UTC).replace(microsecond=0))


def register(app: typer.Typer) -> None:
    @app.command()
    def obligations(
        db: DbOption = None,
        now: Annotated[str | None, typer.Option("--now", help="count the time left from this moment [default: the wall clock]")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="business time: the obligations open as of then [default: everything]")] = None,
        known_at: Annotated[str | None, typer.Option("--known-at", help="ledger time: only what had been recorded by then")] = None,
        output: Annotated[BoardFormat, typer.Option("--format")] = BoardFormat.table,
    ) -> None:
        """Every open obligation of the deadline rules (MF-07, MF-08, PERP-05, PERP-06,
        PERP-08) with its deadline and the time left, soonest first; one already past by the
        wall clock is overdue here (its finding comes with the next event)."""
        moment, known, at = parse_time(as_of, "--as-of"), parse_time(known_at, "--known-at"), parse_time(now, "--now")
        store = opened(db)
        try:
            result = obligations_board(store, at, moment, known)
        finally:
            store.close()
        rows = result["obligations"]
        if output is BoardFormat.json:
            typer.echo(to_json(result))
        elif output is BoardFormat.csv:
            typer.echo(to_csv(rows, (*COLUMNS, "seconds_left", "overdue")), nl=False)
        else:
            for r in rows:
                r["deadline"] = hk_time(datetime.fromisoformat(r["deadline"]))
                r["started_at"] = hk_time(datetime.fromisoformat(r["started_at"]))
                r["client_id"] = r["client_id"] or ""
            title = (f"{result['open']} open obligations, {result['overdue']} overdue by the clock at "
                     f"{hk_time(datetime.fromisoformat(result['now']))}")
            typer.echo(to_table(rows, COLUMNS, title), nl=False)

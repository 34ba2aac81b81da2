"""The compliance officer's questions: ``audit`` (events by subject, type, source, time),
``state`` (derived state as of a moment) and ``explain`` (why a finding fired)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import psycopg
import structlog
import typer

from ops.options import DbOption, ReadDbOption, database_url, parse_time, read_database_url
from ops.queries import explanation, state_of
from ops.render import Format, flat_rows, hk_time, to_csv, to_json, to_table
from ops.wiring import build_audit_index, open_read_store
from projections.audit import AuditQuery, audit_events
from projections.audit.query import AUDIT_PAGE_MAX
from projections.explain.plain import as_text, plain
from projections.store.base import Store

log = structlog.get_logger("regledger.audit")
AUDIT_COLUMNS = ("position", "event_id", "type", "occurred_at", "recorded_at", "source", "data")


class StateFormat(StrEnum):
    json = "json"
    table = "table"


class ExplainFormat(StrEnum):
    text = "text"
    json = "json"
    table = "table"


def opened(db: str | None, read_db: str | None = None) -> Store:
    """The store, with the audit index brought up to date (cheap when it is). A reader
    without the right to write (the regulator's role) is served from the index as it is."""

    store = open_read_store(database_url(db), read_database_url(read_db))
    try:
        build_audit_index(store).catch_up()
    except psycopg.errors.InsufficientPrivilege:
        log.warning("audit_index_not_caught_up", reason="no right to write the index")
    except BaseException:
        store.close()
        raise
    return store


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        db: DbOption = None,
        read_db: ReadDbOption = None,
        subject: Annotated[str | None, typer.Option(help="any id: client (with everything of its), account, pledge, loan, call, order, trade, contract, market maker, asset, rule, finding, officer")] = None,
        event_type: Annotated[list[str] | None, typer.Option("--type", help="event type (repeatable)")] = None,
        source: Annotated[str | None, typer.Option(help="producing system")] = None,
        since: Annotated[str | None, typer.Option(help="occurred_at >= this")] = None,
        until: Annotated[str | None, typer.Option(help="occurred_at <= this")] = None,
        known_at: Annotated[str | None, typer.Option("--known-at", help="only what the ledger had recorded by this time")] = None,
        after: Annotated[int, typer.Option(min=0, help="page: events after this ledger position")] = 0,
        limit: Annotated[int, typer.Option(min=1, max=AUDIT_PAGE_MAX, help="page size")] = 100,
        output: Annotated[Format, typer.Option("--format")] = Format.table,
    ) -> None:
        """Events in ledger order, from the audit index."""

        query = AuditQuery(
            subject=subject, types=tuple(event_type or ()), source=source,
            since=parse_time(since, "--since"), until=parse_time(until, "--until", end_of_day=True),
            known_at=parse_time(known_at, "--known-at", end_of_day=True), after=after, limit=limit,
        )
        store = opened(db, read_db)
        try:
            rows = [entry.as_json() for entry in audit_events(store, query)]
        finally:
            store.close()
        if output is Format.json:
            typer.echo(to_json(rows))
        elif output is Format.csv:
            typer.echo(to_csv(rows, AUDIT_COLUMNS), nl=False)
        else:
            for row in rows:
                row["occurred_at"] = hk_time(_instant(row["occurred_at"]))
                row["data"] = to_json(row["data"])
            more = f"; next page: --after {rows[-1]['position']}" if len(rows) == limit else ""
            columns = ("position", "occurred_at", "type", "event_id", "source", "data")
            typer.echo(to_table(rows, columns, f"{len(rows)} events{more}"), nl=False)

    @app.command()
    def state(
        client_id: Annotated[str | None, typer.Argument(help="the client")] = None,
        db: DbOption = None,
        read_db: ReadDbOption = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="business time: leave out what occurred later [default: everything]")] = None,
        known_at: Annotated[str | None, typer.Option("--known-at", help="ledger time: only what had been recorded by then")] = None,
        contract: Annotated[str | None, typer.Option("--contract", help="a contract instead of a client")] = None,
        market_maker: Annotated[str | None, typer.Option("--market-maker", help="a market maker instead of a client")] = None,
        output: Annotated[StateFormat, typer.Option("--format")] = StateFormat.json,
    ) -> None:
        """Derived state of a client, a contract or a market maker at a moment, with the
        rulebook's figures. Replays the ledger: linear in its length."""

        moment, known = parse_time(as_of, "--as-of", end_of_day=True), parse_time(known_at, "--known-at", end_of_day=True)
        store = opened(db, read_db)
        try:
            result = state_of(store, client_id=client_id, contract=contract, market_maker=market_maker,
                              as_of=moment, known_at=known)
        finally:
            store.close()
        if output is StateFormat.json:
            typer.echo(to_json(result))
        else:
            typer.echo(to_table(flat_rows(result), ("field", "value"), "state"), nl=False)

    @app.command(name="explain")
    def explain_finding(
        finding_id: Annotated[str, typer.Argument(help="the finding")],
        db: DbOption = None,
        read_db: ReadDbOption = None,
        output: Annotated[ExplainFormat, typer.Option("--format", help="text: as an officer reads it; json: every figure exact")] = ExplainFormat.text,
    ) -> None:
        """Why a finding fired: what its rule requires and where that comes from, what
        happened, the arithmetic with the figures, the parameters in force and the events
        behind it (with --format json: the state it judged, exact)."""
        store = opened(db, read_db)
        try:
            result = explanation(store, finding_id)
        finally:
            store.close()
        if output is ExplainFormat.json:
            typer.echo(to_json(result))
        elif output is ExplainFormat.text:
            typer.echo(as_text(plain(result)), nl=False)
        else:
            typer.echo(to_table(flat_rows(result), ("field", "value"), f"finding {finding_id}"), nl=False)


def _instant(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)

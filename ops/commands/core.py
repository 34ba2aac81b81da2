"""The core commands of cli.md: ``ingest``, ``findings``, ``check``, ``monitor`` and
``migrate``. Their machine-readable output is the stable contract; ``findings`` and ``check``
print findings through one renderer (``ops.render.render_findings``)."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from enum import StrEnum
from typing import Annotated

import psycopg
import structlog
import typer
from eventsourcing.persistence import PersistenceError

from domain.cases import CASE_STATUSES
from domain.errors import EventRejected
from domain.ledger import EVENTS_PER_BATCH_MAX, IngestSummary, Rejection
from ops import progress
from ops.lines import check_readable, open_inputs, total_bytes
from ops.options import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_REJECTED,
    DbOption,
    ReadDbOption,
    database_url,
    fail,
    read_database_url,
)
from ops.pipeline import IngestPipeline
from ops.projector import ProjectorFailed, ProjectorProcess, worth_a_process
from ops.queue import SEVERITIES, QueueAsk, queue_json, read_queue
from ops.render import Format, finding_json, render_findings
from ops.settings import load_settings
from ops.wiring import build_audit_index, build_ledger, build_monitor, open_read_store, open_store
from projections.evidence.replay import as_row
from projections.queue import PAGE_ROWS_MAX, SORTS, catch_up_owners
from projections.rebuild.models import read_model_tables
from projections.sql import Sql
from projections.store.base import Store

# A follower looks again at once while the ledger has new events, and waits this long once it
# has none: the bound on detection latency from an idle start (ops/bench/latency.py).
FOLLOW_POLL_S = 0.05
FOLLOW_RETRY_MIN_S, FOLLOW_RETRY_MAX_S = 0.5, 30.0
FOLLOW_AUDIT_SLICE_EVENTS = 500  # indexed between two monitor catch-ups (~25 ms of work)
DATABASE_ERRORS = (psycopg.Error, sqlite3.Error, PersistenceError)

log = structlog.get_logger("regledger.cli")

CaseStatusChoice = StrEnum("CaseStatusChoice", {s: s for s in CASE_STATUSES})  # type: ignore[misc]  # built from the workflow's statuses
# cli.md says `findings` lists "in detection order": the CLI keeps that default (scripts rely
# on it) and offers --sort; the console and the API, which are the officers' queue, default to
# newest first. cli.md's JSON keys stay; case_status, assignee and age_s are added.
SortChoice = StrEnum("SortChoice", {s: s for s in SORTS})  # type: ignore[misc]  # built from the queue's sorts
SeverityChoice = StrEnum("SeverityChoice", {s: s for s in SEVERITIES})  # type: ignore[misc]  # the rulebook's severities
TIME_HELP = "a Hong Kong day (2026-03-04, today, yesterday) or a timestamp with offset"


class SummaryFormat(StrEnum):
    json = "json"
    table = "table"


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def rejection_line(r: Rejection, many_files: bool) -> str:
    where = f"{r.origin}:{r.line_no}" if many_files else f"line {r.line_no}"
    event = f" event {r.event_id}" if r.event_id else ""
    return f"{where}{event}: " + "; ".join(f"{x.field}: {x.reason}" for x in r.reasons)


def ingest(
    paths: Annotated[list[str], typer.Argument(help="JSON Lines files, or - for standard input")],
    db: DbOption = None,
    output: Annotated[SummaryFormat, typer.Option("--format", help="summary format")] = SummaryFormat.table,
    batch_size: Annotated[int, typer.Option(
        help=f"events per transaction (1-{EVENTS_PER_BATCH_MAX})", min=1, max=EVENTS_PER_BATCH_MAX)] = 1000,
    monitor: Annotated[bool, typer.Option(
        "--monitor/--no-monitor",
        help="bring the monitor and the audit index up to date batch by batch; --no-monitor leaves"
        " them to a `regledger monitor --follow` running beside (on another core)",
    )] = True,
) -> None:
    """Validate and append events, then bring the compliance monitor up to date."""
    check_readable(paths)
    url = database_url(db)
    store = open_store(url, create=True)
    # A large input is projected in a second process, on the other core (ops.projector).
    projector = ProjectorProcess(url) if monitor and worth_a_process(
        url, total_bytes(paths), load_settings().ingest_process_min_bytes) else None
    try:
        many = len(paths) > 1
        with progress.bytes_bar("ingesting", total_bytes(paths)) as advance:

            def report_rejections(batch: IngestSummary) -> None:
                for r in batch.rejections:
                    typer.echo(rejection_line(r, many), err=True)

            summary = IngestPipeline(store, projections=monitor and projector is None).ingest(
                open_inputs(paths, advance), batch_size, report_rejections
            )
        if projector is not None:
            with progress.spinner("bringing the monitor up to date"):
                projector.finish(summary.last_position)
            projector = None
        if summary.accepted >= STATISTICS_AFTER_EVENTS:
            refresh_statistics(store)
    except ProjectorFailed as e:
        projector = None
        fail(f"{e}; the events are stored, and `regledger monitor` resumes the monitor and the audit index")
    finally:
        if projector is not None:
            projector.stop()
        store.close()
    counts = {"accepted": summary.accepted, "duplicates": summary.duplicates, "rejected": summary.rejected}
    if output is SummaryFormat.json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"accepted {summary.accepted}, duplicates {summary.duplicates}, "
            f"rejected {summary.rejected}; ledger position {summary.last_position}"
        )
    raise typer.Exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


# A bulk load changes the tables' shape, and PostgreSQL plans on the statistics autovacuum
# refreshes when it gets to them (never, where it is switched off): on 10M events never
# analysed, a proof's one-row reads ran as parallel scans (107 ms median), 4.9 ms analysed.
STATISTICS_AFTER_EVENTS = 100_000


def refresh_statistics(store: Store) -> None:
    """The ledger's and every read model's statistics, after a large ingest (a no-op on SQLite)."""
    Sql(store).store.refresh_statistics(("ledger_events", *sorted(read_model_tables())))


def findings(
    db: DbOption = None,
    read_db: ReadDbOption = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="rule id, as rulebook.md spells it (repeatable)")] = None,
    severity: Annotated[list[SeverityChoice] | None, typer.Option("--severity", help="repeatable")] = None,
    subject: Annotated[str | None, typer.Option(
        help="client, pledge, loan, contract, order, trade or market maker id: findings on it and on"
        " everything it owns (a client's loans, pledges, deposits, orders and trades)")] = None,
    since: Annotated[str | None, typer.Option(help=f"occurred_at of the triggering event >= this: {TIME_HELP}")] = None,
    until: Annotated[str | None, typer.Option(help=f"occurred_at <= this (a day: through its end): {TIME_HELP}")] = None,
    case_status: Annotated[CaseStatusChoice | None, typer.Option("--case-status", help="only findings whose case is in this status")] = None,
    assignee: Annotated[str | None, typer.Option(help="only cases assigned to this officer; 'me' is REGLEDGER_OPERATOR")] = None,
    sort: Annotated[SortChoice, typer.Option(
        help="detection (cli.md's order), newest, age (oldest first), severity, rule")] = SortChoice.detection,  # type: ignore[attr-defined]  # a member built from SORTS
    limit: Annotated[int | None, typer.Option(min=1, max=PAGE_ROWS_MAX, help="a page of this many [default: all]")] = None,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    output: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """List compliance findings (in detection order unless --sort says otherwise), with each
    case's status, assignee and age."""
    ask = QueueAsk(
        rule_ids=tuple(rule or ()), severities=tuple(s.value for s in severity or ()), subject=subject,
        since=since, until=until, case_status=None if case_status is None else case_status.value,
        assignee=assignee, sort=sort.value, limit=limit, offset=offset,
    )
    store = open_read_store(database_url(db), read_database_url(read_db))
    try:
        page = read_queue(store, ask, me=load_settings().operator, prefix="--")
    finally:
        store.close()
    rows = [queue_json(r, page.clock) for r in page.rows]
    shown = f"{offset + 1:,}-{offset + len(rows):,} of {page.total:,}" if rows else f"none of {page.total:,}"
    typer.echo(render_findings(rows, output, f"findings {shown} (sorted by {sort.value})"), nl=False)


def check(
    path: Annotated[str, typer.Argument(help="one JSON object: a file, or - for standard input")],
    db: DbOption = None,
) -> None:
    """Pre-trade gate: the findings one proposed event would raise. Stores nothing.
    Exit 0 if none, 3 if any, 1 if the event would be rejected."""
    check_readable([path])
    raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    store = open_store(database_url(db))
    try:
        ledger = build_ledger(store)
        try:
            envelope = ledger.check(raw, store.load_entities, store.stored_states)
        except EventRejected as e:
            for r in e.reasons:
                typer.echo(f"rejected: {r.field}: {r.reason}", err=True)
            raise typer.Exit(EXIT_REJECTED) from None
        if envelope is None:
            typer.echo(render_findings([], Format.json), nl=False)
            typer.echo("note: this event_id is already recorded; a duplicate raises nothing", err=True)
            raise typer.Exit(EXIT_OK)
        found = build_monitor(store).preview(envelope)
    finally:
        store.close()
    rows = [finding_json(as_row(f, seq)) for seq, f in enumerate(found, 1)]
    typer.echo(render_findings(rows, Format.json), nl=False)
    raise typer.Exit(EXIT_FINDINGS if rows else EXIT_OK)


def monitor(
    db: DbOption = None,
    follow: Annotated[bool, typer.Option("--follow", help="keep running, following new events")] = False,
    poll_s: Annotated[float, typer.Option(help="seconds to wait, when following, once no new event is left")] = FOLLOW_POLL_S,
) -> None:
    """Bring the compliance monitor up to date with the ledger (once, or continuously)."""
    store = open_store(database_url(db), create=True)
    runner = build_monitor(store)
    audit_index = build_audit_index(store)
    try:
        retry_in_s = 0.0
        while True:
            try:
                done = runner.catch_up()
                # Following, the monitor comes first: between its catch-ups the audit index takes
                # a bounded slice, so new events wait for the index one slice at most.
                indexed = audit_index.catch_up(
                    until=audit_index.position + FOLLOW_AUDIT_SLICE_EVENTS
                    if follow and audit_index.position is not None else None
                )
                catch_up_owners(store)  # the findings the audit index has reached, filed by owner
            except DATABASE_ERRORS as e:
                if not follow:
                    raise
                # A follower outlives database restarts: back off, reconnect, resume from tracking.
                retry_in_s = min(FOLLOW_RETRY_MAX_S, max(FOLLOW_RETRY_MIN_S, retry_in_s * 2))
                log.warning("monitor_store_unavailable", error=first_line(e), retry_in_s=retry_in_s)
                time.sleep(retry_in_s)
                continue
            retry_in_s = 0.0
            if done.events:
                log.info("monitor_caught_up", events=done.events, findings=done.findings, position=done.position)
            if not follow:
                typer.echo(f"monitor at position {done.position}: {done.events} events, {done.findings} findings")
                return
            if not (done.events or indexed.events):
                time.sleep(poll_s)
    except KeyboardInterrupt:
        return
    finally:
        store.close()


def migrate(db: DbOption = None) -> None:
    """Create or upgrade the store's schema (idempotent; safe to run from several workers)."""
    store = open_store(database_url(db), create=True)
    store.close()
    typer.echo("schema up to date")


def register(app: typer.Typer) -> None:
    for command in (ingest, findings, check, monitor, migrate):
        app.command()(command)

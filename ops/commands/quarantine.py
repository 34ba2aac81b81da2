"""The ``regledger quarantine`` group. ``list``: the rejected lines with their reasons and
status. ``show ID``, ``regledger quarantine resubmit ID --file FIXED`` and
``regledger quarantine dismiss ID --actor NAME --reason TEXT``: one rejected line with its
reasons and links; its corrected version sent through ingestion like any other line and linked
to the quarantined one (``resubmitted_as``); or the line dismissed. Both are new link rows of
the chained quarantine, never an edit of the line (domain.quarantine).

The resubmission link is written right after the corrected line is accepted, in its own
transaction. A crash in between leaves the event accepted and the line unlinked; resubmitting
the same corrected line again is then a duplicate, which links it (and stores nothing twice).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import InputUnreadable, InvalidRequest, NotFound
from domain.quarantine import QUARANTINE_STATUSES, entry_label, parse_entry
from ops.lines import LINE_BYTES_MAX
from ops.options import EXIT_OK, EXIT_REJECTED, DbOption, database_url
from ops.pipeline import IngestPipeline
from ops.quarantine_view import dismissal_json, listed_json, quarantine_json, reasons_text
from ops.queries import resubmit_quarantined
from ops.render import Format, TextFormat, to_csv, to_json, to_table
from ops.wiring import open_store
from projections.quarantine import dismiss, quarantine_page, quarantined_line

app = typer.Typer(help="Rejected input lines, kept with their reasons.", no_args_is_help=True)
QuarantineStatus = StrEnum("QuarantineStatus", {s: s for s in QUARANTINE_STATUSES})  # type: ignore[misc]  # a choice per status


def default_actor() -> str:
    """Who resubmits from the command line when ``--actor`` is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password database
        return "unknown"


def read_corrected(path: str) -> bytes:
    """One JSON object: a file's only non-blank line, or standard input's."""
    try:
        data = sys.stdin.buffer.read(LINE_BYTES_MAX + 1) if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise InputUnreadable(f"cannot read {path}: {e.strerror or e}") from None
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) != 1:
        raise InvalidRequest(f"{path}: expected exactly one corrected line (one JSON object), found {len(lines)}")
    return lines[0].strip()


@app.command("list")
def quarantine_list(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1)] = 1000,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    output: Annotated[Format, typer.Option("--format")] = Format.table,
    status: Annotated[QuarantineStatus | None, typer.Option("--status", help="only entries in this status")] = None,
) -> None:
    """List rejected lines with their reasons, status (open, resubmitted, dismissed) and how
    often each was received; entries are named Q-000017 (``quarantine show`` takes that or 17)."""
    store = open_store(database_url(db))
    try:
        rows = [listed_json(q) for q in quarantine_page(store, limit, offset, None if status is None else status.value)]
    finally:
        store.close()
    for row in rows:
        del row["quarantine_id"]  # the number behind ``id``, which ``quarantine show`` takes too
    if output is Format.json:
        typer.echo(to_json(rows))
    elif output is Format.csv:
        for row in rows:
            row["caused_by"] = " ".join(row["caused_by"])
        typer.echo(to_csv(rows, ("id", "received_at", "origin", "line", "event_id", "reasons", "raw", "status",
                                 "count", "caused_by")), nl=False)
    else:
        for row in rows:
            row["reasons"] = reasons_text(row["reasons"])
            row["caused_by"] = " ".join(row["caused_by"])
        typer.echo(to_table(rows, ("id", "origin", "line", "event_id", "status", "count", "caused_by", "reasons"),
                            f"{len(rows)} quarantined lines"), nl=False)


@app.command("show")
def show(
    entry: Annotated[str, typer.Argument(help="the entry from quarantine list: Q-000017, or 17")],
    db: DbOption = None,
    output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """One rejected line, with its reasons, status, every time it was received, the
    earlier rejected lines that caused it, its links and the line exactly as received."""
    quarantine_id = parse_entry(entry)
    store = open_store(database_url(db))
    try:
        row = quarantined_line(store, quarantine_id)
    finally:
        store.close()
    if row is None:
        raise NotFound(f"no quarantined line {entry_label(quarantine_id)}")
    shown = quarantine_json(row)
    if output is TextFormat.json:
        typer.echo(to_json(shown))
        return
    where = f"{shown['origin']}" + (f" line {shown['line']}" if shown["line"] is not None else "")
    typer.echo(f"quarantine entry {shown['id']}, received {shown['received_at']} from {where}")
    typer.echo(f"event_id: {shown['event_id'] or '(unreadable)'}")
    typer.echo(f"status: {shown['status']}")
    typer.echo(f"received {shown['count']} time(s):")
    for seen in shown["sightings"]:
        typer.echo(f"  {seen['received_at']} from {seen['origin']}" + (f" line {seen['line']}" if seen["line"] is not None else ""))
    if shown["resubmitted_as"]:
        typer.echo(f"resubmitted as: {shown['resubmitted_as']}")
    for cause in shown["caused_by"]:
        typer.echo(f"caused by: {cause} (an earlier rejected line; quarantine show {cause})")
    for link in shown["links"]:
        if link["kind"] == "seen_again":
            continue  # listed as a sighting above
        detail = link["event_id"] or link["reason"] or ""
        if link["kind"] == "caused_by":
            detail = f"{link['related']}: {link['reason']}"
        elif link["kind"] == "dismissed" and link["event_id"]:
            detail = f"{link['reason']} (ledger event {link['event_id']})"
        typer.echo(f"{link['kind']} by {link['actor']} at {link['recorded_at']}: {detail}")
    typer.echo(to_table(shown["reasons"], ("field", "reason"), "reasons"), nl=False)
    typer.echo(shown["raw"])

@app.command("resubmit")
def resubmit(
    entry: Annotated[str, typer.Argument(help="the entry being corrected: Q-000017, or 17")],
    file: Annotated[str, typer.Option("--file", help="the corrected line: a file, or - for standard input")] = "-",
    db: DbOption = None,
    output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
    actor: Annotated[str | None, typer.Option("--actor", help="who resubmits (default: the OS user)")] = None,
) -> None:
    """Ingest a corrected line like ``ingest`` does and link it to the quarantined one.
    Exit 0 when accepted (or already stored), 1 when rejected again (quarantined anew)."""
    quarantine_id = parse_entry(entry)
    raw = read_corrected(file)
    store = open_store(database_url(db))
    try:
        result, summary = resubmit_quarantined(
            IngestPipeline(store), quarantine_id, raw, actor=actor or default_actor(), at=datetime.now(UTC),
        )
    finally:
        store.close()
    for r in summary.rejections:
        event = f" event {r.event_id}" if r.event_id else ""
        typer.echo(f"{r.origin}{event}: " + "; ".join(map(str, r.reasons)), err=True)
    if output is TextFormat.json:
        typer.echo(to_json(result))
    elif result["resubmitted_as"]:
        how = "accepted" if summary.accepted else "already stored"
        typer.echo(f"quarantine entry {entry_label(quarantine_id)} resubmitted as {result['resubmitted_as']} ({how})")
    else:
        typer.echo(f"quarantine entry {entry_label(quarantine_id)}: the corrected line was rejected again")
    raise typer.Exit(EXIT_REJECTED if summary.rejected else EXIT_OK)

@app.command("dismiss")
def dismiss_line(
    entry: Annotated[str, typer.Argument(help="the entry being dismissed: Q-000017, or 17")],
    actor: Annotated[str, typer.Option("--actor", help="who dismisses it")],
    reason: Annotated[str, typer.Option("--reason", help="why it needs no resubmission")],
    db: DbOption = None,
    output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Record that a rejected line needs no resubmission, and why (a new link row; the
    line itself never changes) and an event on the ledger, covered by its signed digests.
    Exit 2 when the line is unknown or already settled."""
    quarantine_id = parse_entry(entry)
    store = open_store(database_url(db))
    try:
        link = dismiss(store, quarantine_id, actor=actor, reason=reason, at=datetime.now(UTC))
    finally:
        store.close()
    if output is TextFormat.json:
        typer.echo(to_json(dismissal_json(quarantine_id, link)))
    else:
        typer.echo(f"quarantine entry {entry_label(quarantine_id)} dismissed by {link.actor}: {link.reason}"
                   f" (ledger event {link.event_id})")

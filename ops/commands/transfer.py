"""``regledger export`` and ``regledger import``: the whole log as JSON Lines, with positions,
``recorded_at`` and hashes — the migration path from the embedded SQLite file to PostgreSQL;
and ``regledger rebuild``: every read model rebuilt from the log in place."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated

import typer

from domain.chain import ChainedRow
from domain.errors import InputUnreadable, StoreCorrupted
from ops.options import database_url
from ops.wiring import open_store
from projections.rebuild import import_log, positions, replace_read_models
from projections.store.base import FindingFilter

EXPORT_PAGE_EVENTS = 5_000


def export_line(position: int, event_id: str, version: int, topic: str, state: bytes,
                recorded_at: datetime, chain_hash: bytes) -> str:
    return json.dumps(
        {
            "position": position, "originator_id": event_id, "originator_version": version,
            "topic": topic, "recorded_at": recorded_at.isoformat(), "chain_hash": chain_hash.hex(),
            "state": state.decode("utf-8"),
        },
        ensure_ascii=False, separators=(",", ":"),
    )


def parse_export(stream: IO[bytes]) -> Iterator[ChainedRow]:
    for line_no, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            yield ChainedRow(
                position=int(row["position"]), event_id=str(row["originator_id"]),
                version=int(row["originator_version"]), type=str(row["topic"]),
                state=str(row["state"]).encode("utf-8"),
                recorded_at=datetime.fromisoformat(row["recorded_at"]),
                chain_hash=bytes.fromhex(row["chain_hash"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise StoreCorrupted(f"export line {line_no} is not an exported ledger row ({e})") from e


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        db: Annotated[str | None, typer.Option("--db", help="store URL")] = None,
        out: Annotated[str, typer.Option("--out", help="file to write, or - for standard output")] = "-",
    ) -> None:
        """Write the whole ledger log (envelopes, positions, recorded_at, hashes) as JSON Lines."""

        store = open_store(database_url(db))
        target = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115
        written = 0
        try:
            position = 0
            while True:
                entries = store.read_entries(position, EXPORT_PAGE_EVENTS)
                if not entries:
                    break
                for e in entries:
                    target.write(export_line(e.position, e.event_id, e.version, e.type, e.state,
                                             e.recorded_at, e.chain_hash) + "\n")
                written += len(entries)
                position = entries[-1].position
        finally:
            if target is not sys.stdout:
                target.close()
            store.close()
        typer.echo(f"exported {written} events", err=True)

    @app.command("import")
    def import_(
        path: Annotated[str, typer.Argument(help="an export file, or - for standard input")],
        db: Annotated[str | None, typer.Option("--db", help="store URL (an empty store)")] = None,
    ) -> None:
        """Load an export into an empty store: every hash is checked and every read model
        (registry, monitor, audit index, case statuses) is rebuilt from the log, so the
        result verifies and answers as the source did."""

        if path != "-" and not Path(path).is_file():
            raise InputUnreadable(f"cannot read {path}: no such file")
        store = open_store(database_url(db), create=True)
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
            with stream:
                imported = import_log(store, parse_export(stream))
            findings = len(store.findings(FindingFilter()))
            position = store.tracked_position()
        finally:
            store.close()
        typer.echo(f"imported {imported} events; read models rebuilt; monitor at position {position} with {findings} findings")

    @app.command("rebuild")
    def rebuild(db: Annotated[str | None, typer.Option("--db", help="store URL")] = None) -> None:
        """Drop every read model (registry, monitor, audit index, case statuses) and rebuild it
        from the log, in place: the repair when ``verify --projections`` names drift. Safe
        beside a running ingest, monitor or case action (each model is rebuilt under its
        writers' lock, or dropped and caught up as a tracked projection)."""

        store = open_store(database_url(db))
        try:
            replace_read_models(store)
            built = ", ".join(f"{name} at position {at}" for name, at in positions(store).items())
            findings = len(store.findings(FindingFilter()))
        finally:
            store.close()
        typer.echo(f"rebuilt from the log: {built}; {findings} findings")

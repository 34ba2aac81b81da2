"""``regledger export`` and ``regledger import``: the whole log as JSON Lines, with positions,
``recorded_at`` and hashes — the migration path from the embedded SQLite file to PostgreSQL;
and ``regledger rebuild``: every read model rebuilt from the log in place.

The ledger's lines come first, each exactly as before the quarantine was chained. The
quarantine's rows and links follow, one per line, each with a ``record`` key (``quarantine`` or
``quarantine_link``) that no ledger line has: a reader of ledger rows skips the lines that
carry it. Their ids, ``previous_id`` and hashes are kept; ``raw`` (the bytes upstream sent, not
always UTF-8) travels as base64.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from domain.chain import ChainedRow
from domain.errors import InputUnreadable, InvalidRequest, StoreCorrupted
from domain.quarantine import QuarantineLink, QuarantineRecord
from ops.options import database_url
from ops.wiring import open_store
from projections.quarantine import import_quarantine, quarantine_is_empty
from projections.rebuild import import_log, positions, replace_read_models
from projections.sql import Sql
from projections.store import quarantine_log
from projections.store.base import FindingFilter, Store
from projections.store.quarantine_log import LINKS, QUARANTINE

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


def record_line(r: QuarantineRecord | QuarantineLink) -> str:
    return json.dumps(quarantine_log.export_json(r), ensure_ascii=False, separators=(",", ":"))


def parse_ledger_row(row: dict[str, Any]) -> ChainedRow:
    return ChainedRow(
        position=int(row["position"]), event_id=str(row["originator_id"]),
        version=int(row["originator_version"]), type=str(row["topic"]),
        state=str(row["state"]).encode("utf-8"),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        chain_hash=bytes.fromhex(row["chain_hash"]),
    )


@dataclass
class ExportReader:
    """Reads an export once: the ledger's rows as they come, the quarantine's kept aside
    (they follow the ledger's; the whole quarantine is held in memory until it is written)."""

    stream: IO[bytes]
    records: list[QuarantineRecord] = field(default_factory=list)
    links: list[QuarantineLink] = field(default_factory=list)

    def ledger_rows(self) -> Iterator[ChainedRow]:
        for line_no, line in enumerate(self.stream, 1):
            if not line.strip():
                continue
            what = "ledger"
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise TypeError("not a JSON object")
                if "record" not in row:
                    yield parse_ledger_row(row)
                    continue
                what = "quarantine"
                found = quarantine_log.from_export(row)
                if isinstance(found, QuarantineRecord):
                    self.records.append(found)
                else:
                    self.links.append(found)
            except (ValueError, KeyError, TypeError) as e:
                raise StoreCorrupted(f"export line {line_no} is not an exported {what} row ({e})") from e


def parse_export(stream: IO[bytes]) -> Iterator[ChainedRow]:
    """The ledger rows of an export (its quarantine lines skipped)."""
    return ExportReader(stream).ledger_rows()


def export_quarantine(store: Store, target: IO[str]) -> int:
    written = 0
    for table in (QUARANTINE, LINKS):
        for r in quarantine_log.iter_table(Sql(store).rows, table):
            target.write(record_line(r) + "\n")
            written += 1
    return written


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        db: Annotated[str | None, typer.Option("--db", help="store URL")] = None,
        out: Annotated[str, typer.Option("--out", help="file to write, or - for standard output")] = "-",
    ) -> None:
        """Write the whole ledger log (envelopes, positions, recorded_at, hashes) and then the
        quarantine's rows and links (each with a "record" key) as JSON Lines."""

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
            records = export_quarantine(store, target)
        finally:
            if target is not sys.stdout:
                target.close()
            store.close()
        typer.echo(f"exported {written} events and {records} quarantine rows and links", err=True)

    @app.command("import")
    def import_(
        path: Annotated[str, typer.Argument(help="an export file, or - for standard input")],
        db: Annotated[str | None, typer.Option("--db", help="store URL (an empty store)")] = None,
    ) -> None:
        """Load an export into an empty store: every hash is checked (the ledger's and the
        quarantine's) and every read model (registry, monitor, audit index, case statuses) is
        rebuilt from the log, so the result verifies and answers as the source did, with the
        same quarantine."""

        if path != "-" and not Path(path).is_file():
            raise InputUnreadable(f"cannot read {path}: no such file")
        store = open_store(database_url(db), create=True)
        try:
            if not quarantine_is_empty(store):
                raise InvalidRequest("import needs an empty store: this one already holds quarantined lines")
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
            with stream:
                reader = ExportReader(stream)
                imported = import_log(store, reader.ledger_rows())
            import_quarantine(store, reader.records, reader.links)
            findings = len(store.findings(FindingFilter()))
            position = store.tracked_position()
        finally:
            store.close()
        typer.echo(
            f"imported {imported} events and {len(reader.records)} quarantined lines with"
            f" {len(reader.links)} links; read models rebuilt; monitor at position {position}"
            f" with {findings} findings"
        )

    @app.command("rebuild")
    def rebuild(db: Annotated[str | None, typer.Option("--db", help="store URL")] = None) -> None:
        """Drop every read model (registry, monitor, audit index, case statuses, Merkle subtree
        roots) and rebuild it from the log, in place: the repair when ``verify --projections``
        names drift. Safe beside a running ingest, monitor or case action (each model is rebuilt
        under its writers' lock, or dropped and caught up as a tracked projection)."""

        store = open_store(database_url(db))
        try:
            replace_read_models(store)
            built = ", ".join(f"{name} at position {at}" for name, at in positions(store).items())
            findings = len(store.findings(FindingFilter()))
        finally:
            store.close()
        typer.echo(f"rebuilt from the log: {built}; {findings} findings")

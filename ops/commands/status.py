"""``regledger status``: where the ledger and the monitor stand and, with a read replica
(``--read-db``), how far the standby is behind the primary (issue 23)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ops.options import DbOption, ReadDbOption, database_url, read_database_url
from ops.render import TextFormat, to_json
from ops.wiring import open_read_store, open_store
from projections.replica import lag, primary_of


def status_of(db: str | None, read_db: str | None) -> dict[str, Any]:
    read_url = read_database_url(read_db)
    store = open_read_store(database_url(db), read_url) if read_url else open_store(database_url(db))
    try:
        primary = primary_of(store)
        found: dict[str, Any] = {"position": primary.tip().position, "monitor_position": primary.tracked_position()}
        found["replica"] = lag(store, primary).as_json() if read_url else None
        return found
    finally:
        store.close()


def status_text(found: dict[str, Any]) -> str:
    lines = [f"ledger at position {found['position']}, monitor at position {found['monitor_position']}"]
    replica = found.get("replica")
    if replica is None:
        lines.append("no read replica: none is configured (--read-db or REGLEDGER_READ_DATABASE_URL), every read goes to --db")
    else:
        if not replica["in_recovery"]:
            lines.append("read replica: NOT a standby (pg_is_in_recovery() is false): reads go to another primary")
        lines.append(
            f"read replica at position {replica['replica_position']}: {replica['lag_bytes']} bytes of log"
            f" ({replica['lag_positions']} positions, {replica['replay_delay_s']} s) behind the primary"
        )
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        db: DbOption = None,
        read_db: ReadDbOption = None,
        output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
    ) -> None:
        """Where the ledger and the monitor stand, and the read replica's lag behind the primary."""
        found = status_of(db, read_db)
        typer.echo(to_json(found) if output is TextFormat.json else status_text(found))

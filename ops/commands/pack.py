"""``regledger evidence FINDING_ID --out FILE.zip``: a finding's evidence pack
(``ops.evidence_pack``), for an examiner to check offline."""

from __future__ import annotations

from typing import Annotated

import typer

from ops import keys
from ops.commands.audit import opened
from ops.evidence_pack import evidence_pack
from ops.options import DbOption
from ops.settings import load_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def evidence(
        finding_id: Annotated[str, typer.Argument(help="the finding")],
        out: Annotated[str, typer.Option("--out", help="the zip file to write")],
        key: Annotated[str | None, typer.Option("--key", help="PEM signing key [env REGLEDGER_SIGNING_KEY]")] = None,
        db: DbOption = None,
    ) -> None:
        """The finding, its explanation (HTML, text, JSON), the events behind it as stored, a
        signed digest of the ledger, an inclusion proof of each event, the public key and a
        README on checking it all offline."""
        private = keys.signing_key(key or load_settings().signing_key)  # before any work: a clear error
        store = opened(db)
        try:
            data = evidence_pack(store, finding_id, private)
        finally:
            store.close()
        keys.write_bytes(out, data)
        typer.echo(f"evidence pack for {finding_id}: {out} ({len(data):,} bytes); check it as its README.txt says")

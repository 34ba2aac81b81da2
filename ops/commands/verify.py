"""``regledger verify``: the hash chain recomputed from every row, a signed digest checked to
still hold, and with ``--projections`` the monitor compared with a rebuild (ops/VERIFYING.md).
Exit code 0 only when everything checked is intact, 1 when not, 2 when unreadable."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from domain.errors import InvalidRequest
from domain.evidence.digest import signature_valid
from ops import keys
from ops.commands.evidence import (
    EXIT_INTACT,
    EXIT_TAMPERED,
    checkpoint_json,
    load_digest,
)
from ops.options import DbOption, ReadDbOption, database_url, read_database_url
from ops.render import TextFormat, to_json
from ops.wiring import open_read_store
from projections.evidence.attest import verify_log
from projections.evidence.drift import Drift, check_projections
from projections.quarantine import verify_quarantine


def register(app: typer.Typer) -> None:

    @app.command()
    def verify(
        db: DbOption = None,
        read_db: ReadDbOption = None,
        digest_file: Annotated[str | None, typer.Option("--digest", help="a digest the ledger must still hold")] = None,
        public_key_file: Annotated[str | None, typer.Option("--public-key", help="the public key that signed it")] = None,
        projections: Annotated[bool, typer.Option("--projections", help="also rebuild every read model from the log and compare it with the stored one")] = False,
        output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
    ) -> None:
        """Recompute the hash chains of the ledger and of the quarantine and name the first bad
        position or row; exit 0 only when intact."""
        if (digest_file is None) != (public_key_file is None):
            raise InvalidRequest("--digest and --public-key go together")
        signed = None
        if digest_file is not None and public_key_file is not None:
            signed = load_digest(digest_file)
            public = keys.public_key(public_key_file)
            if not signature_valid(signed, public):
                reason = f"the digest {digest_file} is not signed by this public key"
                typer.echo(to_json({"intact": False, "reason": reason}) if output is TextFormat.json else f"NOT VERIFIED: {reason}")
                raise typer.Exit(EXIT_TAMPERED)
        store = open_read_store(database_url(db), read_database_url(read_db))
        try:
            result = verify_log(store, None if signed is None else signed.checkpoint)
            quarantine = verify_quarantine(store)
            drift = check_projections(store) if projections and result.intact else None
        finally:
            store.close()
        intact = result.intact and quarantine.intact and (drift is None or drift.intact)
        broken = result.broken
        report: dict[str, Any] = {
            "intact": intact,
            "checked": result.checked,
            "first_bad_position": None if broken is None else broken.position,
            "reason": None if broken is None else broken.reason,
            "tip": None if result.tip is None else checkpoint_json(result.tip),
            "digest": None if signed is None else {**checkpoint_json(signed.checkpoint), "key_id": signed.key_id},
            "merkle_subtrees": {"intact": result.subtrees is None, "reason": result.subtrees},
            "quarantine": quarantine.as_json(),
        }
        if drift is not None:
            report["projections"] = drift.as_json()
        typer.echo(to_json(report) if output is TextFormat.json else verify_text(report, drift))
        raise typer.Exit(EXIT_INTACT if intact else EXIT_TAMPERED)


def quarantine_text(report: dict[str, Any]) -> str:
    if report["intact"]:
        return f"quarantine intact: {report['rows']} rows and {report['links']} links recompute"
    return f"QUARANTINE TAMPERED: {report['reason']}"


def verify_text(report: dict[str, Any], drift: Drift | None = None) -> str:
    lines = []
    if report["first_bad_position"] is not None:
        lines.append(f"TAMPERED: first bad position {report['first_bad_position']}: {report['reason']}")
        lines.append(f"the {report['checked']} positions before it recompute")
    elif report["tip"] is None:
        lines.append("the ledger is empty: nothing to verify")
    else:
        tip = report["tip"]
        lines.append(
            f"chain intact: positions 1..{tip['position']} recompute; chain hash {tip['chain_hash']},"
            f" Merkle root {tip['merkle_root']}, recorded_at {tip['recorded_at']}"
        )
        if report["digest"] is not None:
            lines.append(
                f"the log still holds the digest at position {report['digest']['position']}"
                f" signed by key {report['digest']['key_id']}"
            )
    if report["merkle_subtrees"]["reason"] is not None:
        lines.append(f"MERKLE SUBTREES TAMPERED: {report['merkle_subtrees']['reason']}")
    if drift is not None:
        models = ", ".join(f"{c.model} ({c.rows} rows at position {c.position})" for c in drift.checked)
        if drift.difference is None:
            lines.append(f"projections intact: every read model matches a rebuild from the log: {models}")
        else:
            lines.append(f"PROJECTION DRIFT in {drift.difference}")
    lines.append(quarantine_text(report["quarantine"]))  # last: the lines above keep their places
    return "\n".join(lines)

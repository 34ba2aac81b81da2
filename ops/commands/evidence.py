"""Tamper evidence for regulators: ``keys generate``, ``digest``, ``prove`` and ``verify-proof``
(``verify`` is in ``ops.commands.verify``). Encodings and checks: ``ops/VERIFYING.md``.

Exit codes: 0 intact / valid, 1 tampered, drifted or a proof that does not verify, 2 when an
input (store, digest, proof, key) cannot be read at all.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from domain.chain import format_recorded_at
from domain.errors import EvidenceUnreadable, InvalidRequest
from domain.evidence.digest import (
    Checkpoint,
    Digest,
    digest_json,
    parse_digest,
    sign,
)
from domain.evidence.proofs import (
    CONSISTENCY_FORMAT,
    INCLUSION_FORMAT,
    check_consistency,
    check_inclusion,
    consistency_json,
    inclusion_json,
    parse_consistency,
    parse_inclusion,
    proof_format,
)
from ops import keys
from ops.options import DbOption, database_url
from ops.render import TextFormat, to_json
from ops.settings import load_settings
from ops.wiring import open_store
from projections.evidence.attest import (
    checkpoint_at,
    consistency_proof,
    inclusion_proof,
)

EXIT_INTACT, EXIT_TAMPERED = 0, 1


def checkpoint_json(c: Checkpoint) -> dict[str, Any]:
    return {
        "position": c.position, "merkle_root": c.merkle_root.hex(),
        "chain_hash": c.chain_hash.hex(), "recorded_at": format_recorded_at(c.recorded_at),
    }


def emit(text: str, out: str | None) -> None:
    if out is None or out == "-":
        sys.stdout.write(text)
    else:
        keys.write_output(out, text)


def load_digest(path: str, what: str = "digest") -> Digest:
    return parse_digest(keys.read_evidence(path, what), f"{what} {path}")




def register(app: typer.Typer) -> None:

    keys_app = typer.Typer(help="Ed25519 keys that sign ledger digests.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")

    @keys_app.command("generate")
    def keys_generate(
        out: Annotated[str, typer.Option("--out", help="directory to write the key pair to")],
    ) -> None:
        """Write a new Ed25519 signing key (PEM, mode 0600) and its public key."""
        private, public = keys.generate_keys(out)
        typer.echo(f"signing key {private} (keep it secret); public key {public} (give it to regulators)")

    @app.command()
    def digest(
        db: DbOption = None,
        key: Annotated[str | None, typer.Option("--key", help="PEM signing key [env REGLEDGER_SIGNING_KEY]")] = None,
        position: Annotated[int | None, typer.Option(min=1, help="digest the ledger as of this position (default: the tip)")] = None,
        out: Annotated[str | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
    ) -> None:
        """Sign the ledger's tip: position, Merkle root, chain hash and recorded_at. The chain
        is verified first: a broken chain is never signed."""
        private = keys.signing_key(key or load_settings().signing_key)
        store = open_store(database_url(db))
        try:
            checkpoint = checkpoint_at(store, position)
        finally:
            store.close()
        emit(digest_json(sign(checkpoint, private)), out)

    @app.command()
    def prove(
        event_id: Annotated[str | None, typer.Argument(help="the event to prove is in the digest")] = None,
        digest_file: Annotated[str, typer.Option("--digest", help="the digest to prove against")] = "",
        since: Annotated[str | None, typer.Option("--since", help="an earlier digest: prove --digest extends it")] = None,
        version: Annotated[int, typer.Option(min=1, help="originator version (aggregate events)")] = 1,
        db: DbOption = None,
        out: Annotated[str | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
    ) -> None:
        """An inclusion proof of EVENT_ID in a digest, or with --since a consistency proof that
        the digest extends an earlier one. Check either offline with `regledger verify-proof`."""
        if not digest_file:
            raise InvalidRequest("--digest FILE is required")
        if (event_id is None) == (since is None):
            raise InvalidRequest("give either EVENT_ID (inclusion) or --since OLD_DIGEST (consistency)")
        target = load_digest(digest_file).checkpoint
        earlier = None if since is None else load_digest(since, "earlier digest").checkpoint
        store = open_store(database_url(db))
        try:
            if earlier is not None:
                text = consistency_json(consistency_proof(store, earlier, target))
            else:
                assert event_id is not None
                text = inclusion_json(inclusion_proof(store, event_id, target, version))
        finally:
            store.close()
        emit(text, out)

    @app.command("verify-proof")
    def verify_proof(
        proof_file: Annotated[str, typer.Argument(help="a proof from `regledger prove`")],
        digest_file: Annotated[str, typer.Option("--digest", help="the digest the proof is against")],
        public_key_file: Annotated[str, typer.Option("--public-key", help="the firm's PEM public key")],
        since: Annotated[str | None, typer.Option("--since", help="the earlier digest (consistency proofs)")] = None,
        output: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
        event_file: Annotated[str | None, typer.Option("--event", help="the event's file (an evidence pack's events/N.json): must be the proven row's bytes")] = None,
    ) -> None:
        """Check a proof offline: only the proof, the digest(s) and the public key; no database."""
        raw = keys.read_evidence(proof_file, "proof")
        target = load_digest(digest_file)
        public = keys.public_key(public_key_file)
        kind = proof_format(raw)
        if kind == INCLUSION_FORMAT:
            proof = parse_inclusion(raw, f"proof {proof_file}")
            problems = check_inclusion(proof, target, public)
            if event_file is not None and keys.read_evidence(event_file, "event") != proof.state:
                problems.append(f"the event file {event_file} is not byte for byte the proven row")
            claim = f"event {proof.event_id} is at position {proof.position} of the ledger digested at position {proof.tree_size}"
        elif kind == CONSISTENCY_FORMAT:
            if since is None:
                raise InvalidRequest("a consistency proof needs the earlier digest: --since FILE")
            growth = parse_consistency(raw, f"proof {proof_file}")
            problems = check_consistency(growth, load_digest(since, "earlier digest"), target, public)
            claim = f"the ledger digested at position {growth.new_size} extends the one at position {growth.old_size}"
        else:
            raise EvidenceUnreadable(f"proof {proof_file}: not a proof regledger writes")
        if output is TextFormat.json:
            typer.echo(to_json({"valid": not problems, "claim": claim, "problems": problems}))
        elif problems:
            typer.echo("proof INVALID: " + "; ".join(problems))
        else:
            typer.echo(f"proof valid: {claim}, signed by key {target.key_id}")
        raise typer.Exit(EXIT_TAMPERED if problems else EXIT_INTACT)

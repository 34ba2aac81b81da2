"""Tamper evidence and replay over HTTP: digests and proofs for readers, verification and
counterfactual replay for regulators. Same functions as the CLI; see ops/VERIFYING.md."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from domain.evidence.digest import digest_json, parse_digest, sign
from domain.evidence.proofs import consistency_json, inclusion_json
from ops import keys
from ops.api.deps import POSITION_MAX, Reader, Regulator, aware, store_of
from ops.commands.evidence import checkpoint_json
from ops.commands.replay import by_rule, parse_overrides
from ops.render import finding_json
from ops.settings import load_settings
from projections.evidence.attest import (
    checkpoint_at,
    consistency_proof,
    inclusion_proof,
    verify_log,
)
from projections.evidence.drift import check_projections
from projections.evidence.replay import ReplayWindow, as_row, diff, replay
from projections.quarantine import verify_quarantine


class InclusionRequest(BaseModel):
    event_id: str = Field(min_length=1, max_length=128)
    digest: dict[str, Any] = Field(description="a digest as `regledger digest` writes it")
    version: int = Field(default=1, ge=1, le=POSITION_MAX)


class ConsistencyRequest(BaseModel):
    since: dict[str, Any] = Field(description="the earlier digest")
    digest: dict[str, Any] = Field(description="the later digest")


class ReplayRequest(BaseModel):
    as_of: datetime | None = None
    known_at: datetime | None = None
    set: list[str] = Field(default_factory=list, max_length=100, description="RULE_ID.param=value")
    diff: bool = False


def json_text(text: str) -> JSONResponse:
    """A document already rendered in its canonical form (digests, proofs) is sent as is."""
    return JSONResponse(json.loads(text))


def register_evidence_routes(app: FastAPI) -> None:
    @app.get("/v1/digest", tags=["evidence"])
    async def get_digest(
        request: Request, principal: Reader,
        position: Annotated[int | None, Query(ge=1, le=POSITION_MAX)] = None,
    ) -> JSONResponse:
        """The ledger's tip (or a position): Merkle root, chain hash, recorded_at; signed when
        the server holds a signing key (REGLEDGER_SIGNING_KEY). The chain is verified first."""
        checkpoint = await run_in_threadpool(checkpoint_at, store_of(request), position)
        key_path = load_settings().signing_key
        if key_path:
            return json_text(digest_json(sign(checkpoint, keys.signing_key(key_path))))
        return JSONResponse({**checkpoint_json(checkpoint), "signed": False})

    @app.post("/v1/proofs/inclusion", tags=["evidence"])
    async def post_inclusion(request: Request, body: InclusionRequest, principal: Reader) -> JSONResponse:
        """An inclusion proof of an event in a digest, to check offline with `verify-proof`."""
        target = parse_digest(json.dumps(body.digest).encode(), "digest").checkpoint
        proof = await run_in_threadpool(inclusion_proof, store_of(request), body.event_id, target, body.version)
        return json_text(inclusion_json(proof))

    @app.post("/v1/proofs/consistency", tags=["evidence"])
    async def post_consistency(request: Request, body: ConsistencyRequest, principal: Reader) -> JSONResponse:
        """A consistency proof that the later digest extends the earlier one."""
        old = parse_digest(json.dumps(body.since).encode(), "earlier digest").checkpoint
        new = parse_digest(json.dumps(body.digest).encode(), "digest").checkpoint
        proof = await run_in_threadpool(consistency_proof, store_of(request), old, new)
        return json_text(consistency_json(proof))

    @app.post("/v1/verify", tags=["evidence"])
    async def post_verify(
        request: Request, principal: Regulator, projections: bool = False
    ) -> dict[str, Any]:
        """Recompute the chains of the ledger and the quarantine (and with ``projections``
        rebuild every read model from the log and compare)."""

        def run() -> dict[str, Any]:
            store = store_of(request)
            result = verify_log(store)
            quarantine = verify_quarantine(store)
            drift = check_projections(store) if projections and result.intact else None
            broken = result.broken
            return {
                "intact": result.intact and quarantine.intact and (drift is None or drift.intact),
                "checked": result.checked,
                "first_bad_position": None if broken is None else broken.position,
                "reason": None if broken is None else broken.reason,
                "merkle_subtrees": {"intact": result.subtrees is None, "reason": result.subtrees},
                "quarantine": quarantine.as_json(),
                "projections": None if drift is None else drift.as_json(),
            }

        return await run_in_threadpool(run)

    @app.post("/v1/replay", tags=["evidence"])
    async def post_replay(request: Request, body: ReplayRequest, principal: Regulator) -> Any:
        """The monitor rebuilt in memory from the log, up to ``as_of`` / ``known_at`` and under
        amended parameters; the findings in the shape of `/v1/findings`, or the difference."""
        aware("as_of", body.as_of)
        aware("known_at", body.known_at)
        overrides = parse_overrides(body.set)

        def run() -> Any:
            store = store_of(request)
            done = replay(store, ReplayWindow(body.as_of, body.known_at), overrides)
            if body.diff:
                changes = diff(store, done)
                added = [finding_json(r) for r in changes.added]
                removed = [finding_json(r) for r in changes.removed]
                return {"by_rule": by_rule(added, removed), "added": added, "removed": removed}
            return [finding_json(as_row(f, seq)) for seq, f in enumerate(done.findings, 1)]

        return await run_in_threadpool(run)

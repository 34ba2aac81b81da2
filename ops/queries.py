"""Answers the CLI and the API both give, composed once: a finding's explanation with its
case, and a client's, contract's or market maker's state as of a moment."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.errors import InvalidRequest, NotFound
from domain.ledger import IngestSummary, InputLine
from domain.quarantine import RESUBMITTED, entry_label
from ops.pipeline import IngestPipeline
from ops.render import case_action_json, finding_json
from projections.asof import (
    check_one_target,
    client_state,
    contract_state,
    market_maker_state,
    replay,
)
from projections.audit import known_through
from projections.cases import case_history, case_summary, find_finding, investigation_findings
from projections.explain import explain
from projections.quarantine import settle, settled_text, settling_link
from projections.store.base import Store


def explanation(store: Store, finding_id: str) -> dict[str, Any]:
    row = find_finding(store, finding_id)
    if row is None:
        raise NotFound(f"no finding {finding_id!r}")
    return {"finding": finding_json(row), "case": case_json(store, finding_id), **explain(store, row)}


def case_json(store: Store, finding_id: str) -> dict[str, Any]:
    """A finding's case: its status, who asked for a resolution awaiting approval, its
    investigation with the findings grouped in it, and every action with its reason."""
    summary = case_summary(store, finding_id)
    investigation = None if summary is None else summary.investigation_id
    return {
        "status": "open" if summary is None else summary.status,
        "assignee": None if summary is None else summary.assignee,
        "resolution": None if summary is None else summary.resolution,
        "requested_by": None if summary is None else summary.requested_by,
        "investigation_id": investigation,
        "investigation_findings": investigation_findings(store, investigation) if investigation else [],
        "actions": [case_action_json(a) for a in case_history(store, finding_id)],
    }


def state_of(
    store: Store,
    *,
    client_id: str | None = None,
    contract: str | None = None,
    market_maker: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """Replays the ledger up to the moment, from the newest midnight snapshot within it."""
    check_one_target(client_id, contract, market_maker)
    through = None if known_at is None else known_through(store, known_at)
    replayed = replay(store, as_of=as_of, through=through, from_snapshot=True)
    if client_id is not None:
        result = client_state(replayed, client_id)
    elif contract is not None:
        result = contract_state(replayed, contract)
    else:
        assert market_maker is not None
        result = market_maker_state(replayed, market_maker)
    return {**result, "known_at": None if known_at is None else known_at.isoformat()}


def resubmit_quarantined(pipeline: IngestPipeline, quarantine_id: int, raw: bytes, *, actor: str,
                         at: datetime) -> tuple[dict[str, Any], IngestSummary]:
    """Ingest a corrected line like any other and link it to the quarantined one (a new link
    row, by ``actor`` at ``at``). The link is written right after the line is accepted;
    resubmitting again after a crash in between is a duplicate, which links it (and stores
    nothing twice)."""
    store = pipeline.store
    settled = settling_link(store, quarantine_id)
    if settled is not None:
        raise InvalidRequest(f"quarantined line {entry_label(quarantine_id)} was already {settled_text(settled)}")
    summary = pipeline.ingest(iter([InputLine(f"quarantine#{quarantine_id}", None, raw)]), 1)
    event_id = event_id_of(raw) if summary.rejected == 0 else None
    linked = False
    if event_id is not None:
        link, _ = settle(store, quarantine_id, RESUBMITTED, actor=actor, at=at, event_id=event_id)
        linked = link.kind == RESUBMITTED and link.event_id == event_id
    result = {
        "id": entry_label(quarantine_id), "quarantine_id": quarantine_id, "accepted": summary.accepted,
        "duplicates": summary.duplicates, "rejected": summary.rejected,
        "resubmitted_as": event_id if linked else None,
    }
    return result, summary


def event_id_of(raw: bytes) -> str | None:
    try:
        value = json.loads(raw).get("event_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None

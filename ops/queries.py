"""Answers the CLI and the API both give, composed once: a finding's explanation with its
case, and a client's, contract's or market maker's state as of a moment."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.errors import InvalidRequest, NotFound
from domain.ledger import IngestSummary, InputLine
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
from projections.cases import case_history, case_summary, find_finding
from projections.explain import explain
from projections.quarantine import link_resubmission, quarantined_line
from projections.store.base import Store


def explanation(store: Store, finding_id: str) -> dict[str, Any]:
    row = find_finding(store, finding_id)
    if row is None:
        raise NotFound(f"no finding {finding_id!r}")
    summary = case_summary(store, finding_id)
    return {
        "finding": finding_json(row),
        "case": {
            "status": "open" if summary is None else summary.status,
            "assignee": None if summary is None else summary.assignee,
            "resolution": None if summary is None else summary.resolution,
            "actions": [case_action_json(a) for a in case_history(store, finding_id)],
        },
        **explain(store, row),
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


def resubmit_quarantined(pipeline: IngestPipeline, quarantine_id: int, raw: bytes) -> tuple[dict[str, Any], IngestSummary]:
    """Ingest a corrected line like any other and link it to the quarantined one. The link is
    written right after the line is accepted; resubmitting again after a crash in between is
    a duplicate, which links it (and stores nothing twice)."""
    store = pipeline.store
    row = quarantined_line(store, quarantine_id)
    if row is None:
        raise NotFound(f"no quarantined line {quarantine_id}")
    if row["resubmitted_as"]:
        raise InvalidRequest(f"quarantined line {quarantine_id} was already resubmitted as {row['resubmitted_as']}")
    summary = pipeline.ingest(iter([InputLine(f"quarantine#{quarantine_id}", None, raw)]), 1)
    event_id = event_id_of(raw) if summary.rejected == 0 else None
    linked = event_id is not None and link_resubmission(store, quarantine_id, event_id)
    result = {
        "quarantine_id": quarantine_id, "accepted": summary.accepted,
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

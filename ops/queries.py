"""Answers the CLI and the API both give, composed once: a finding's explanation with its
case, and a client's, contract's or market maker's state as of a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import NotFound
from ops.render import finding_json
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
            "actions": [a.as_json() for a in case_history(store, finding_id)],
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
    """Replays the ledger up to the moment: linear in its length."""
    check_one_target(client_id, contract, market_maker)
    through = None if known_at is None else known_through(store, known_at)
    replayed = replay(store, as_of=as_of, through=through)
    if client_id is not None:
        result = client_state(replayed, client_id)
    elif contract is not None:
        result = contract_state(replayed, contract)
    else:
        assert market_maker is not None
        result = market_maker_state(replayed, market_maker)
    return {**result, "known_at": None if known_at is None else known_at.isoformat()}

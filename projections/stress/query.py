"""Stress as the CLI, the API and the nightly report ask it: over the state as of a moment
(the same replay as ``regledger state``), shocks, ladders and a path in one result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.errors import InvalidRequest
from projections.asof.replay import Replay, replay
from projections.audit import AuditQuery, audit_events, known_through
from projections.audit.query import AUDIT_PAGE_MAX
from projections.store.base import Store
from projections.stress.fast import FastLadder
from projections.stress.run import StressRun
from projections.stress.scenario import Scenario, Shock, ladder, scenario_of, worst_daily_move

LADDERS_MAX = 16
HISTORY_PAGES_MAX = 1_000  # 10M observations of one asset: far beyond any ledger here


def state_for_stress(store: Store, as_of: datetime | None = None, known_at: datetime | None = None) -> Replay:
    through = None if known_at is None else known_through(store, known_at)
    return replay(store, as_of=as_of, through=through, from_snapshot=True)


def price_history(store: Store, asset: str, state: Replay) -> Iterator[tuple[datetime, Decimal]]:
    """The asset's observed prices in ledger order, within the state's bounds (from the
    audit index: the replayed state keeps only the latest price)."""
    after = 0
    for _ in range(HISTORY_PAGES_MAX):
        page = audit_events(store, AuditQuery(
            subject=asset, types=("PriceObserved",), until=state.as_of, after=after,
            through=state.position, limit=AUDIT_PAGE_MAX,
        ))
        for entry in page:
            if entry.data.get("asset") == asset:
                yield entry.occurred_at, Decimal(str(entry.data["price"]))
        if len(page) < AUDIT_PAGE_MAX:
            return
        after = page[-1].position


def ladder_of(store: Store, state: Replay, asset: str) -> list[Scenario]:
    return ladder(asset, worst_daily_move(price_history(store, asset, state)))


def run_stress(
    store: Store,
    *,
    shocks: Sequence[Shock] = (),
    ladders: Sequence[str] = (),
    path: Sequence[tuple[str, Decimal]] = (),
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    state: Replay | None = None,
    totals_only: bool = False,
) -> dict[str, Any]:
    """Scenarios in this order: the shocks together (one scenario), each ladder's rungs, the
    path's worst point. ``totals_only``: each scenario's aggregates alone, by the fast ladder
    (``projections.stress.fast``; no path), cheap enough to run after every price tick."""
    if not (shocks or ladders or path):
        raise InvalidRequest("name a --shock, a --ladder or a --path")
    if len(ladders) > LADDERS_MAX:
        raise InvalidRequest(f"at most {LADDERS_MAX} ladders")
    scenarios = [scenario_of(shocks)] if shocks else []
    state = state or state_for_stress(store, as_of, known_at)
    for asset in ladders:
        scenarios += ladder_of(store, state, asset)
    run = StressRun(state)
    if totals_only:
        if path:
            raise InvalidRequest("a path is replayed through the monitor: leave out --totals")
        fast = FastLadder(run)
        return {**run.header(), "known_at": None if known_at is None else known_at.isoformat(),
                "scenarios": [{**fast.summary(s), "kind": s.kind} for s in scenarios]}
    results = [run.scenario(s) for s in scenarios]
    if path:
        results.append(run.path(path))
    return {**run.header(), "known_at": None if known_at is None else known_at.isoformat(), "scenarios": results}

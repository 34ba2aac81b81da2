"""``state`` and ``explain`` start from the monitor's own state when it has seen nothing past
the window, else from the newest usable midnight snapshot: the same answer, to the byte, as a
replay from nothing, whatever the window (as of, known at, through), and from nothing when no
snapshot is usable or the one there is damaged."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ops.simulate import SimConfig, write_stream
from ops.wiring import build_audit_index, open_store
from projections.asof import Replay, client_state, contract_state, market_maker_state, replay
from projections.asof.replay import LATEST_BY
from projections.audit.query import known_through
from projections.monitor.snapshots import HONG_KONG
from projections.sql import Sql
from projections.store.base import FindingFilter, Store
from tests.conftest import fresh_store_url
from tests.simulate.helpers import ingest

explain_module = importlib.import_module("projections.explain.explain")  # the module, not its function

CONFIG = SimConfig(clients=30, days=4, seed=11, violations=0.02)
DAY_2_NOON = datetime(2026, 3, 3, 12, 0, tzinfo=HONG_KONG)
DAY_3_MIDNIGHT = datetime(2026, 3, 4, 0, 0, tzinfo=HONG_KONG)  # a cut-off: its snapshot is usable


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "sim.jsonl"
    write_stream(CONFIG, path)
    return path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, stream: Path) -> Iterator[Store]:
    """The simulated days ingested once per store kind with monitor and audit index: the tests
    only read it (the one that damages a snapshot mends it)."""
    with fresh_store_url(request.param, tmp_path_factory.mktemp("ledger")) as url:
        assert ingest(url, stream).rejected == 0
        store = open_store(url)
        try:
            build_audit_index(store).catch_up()
            yield store
        finally:
            store.close()


def snapshot_positions(store: Store) -> list[int]:
    return [r[0] for r in Sql(store).rows("SELECT position FROM monitor_snapshots ORDER BY position")]


def everything(state: Replay) -> dict[str, Any]:
    """Every answer ``state`` can give from this replay, as the JSON it prints."""
    book = state.engine.book
    return json.loads(json.dumps({
        "clients": [client_state(state, c) for c in sorted(book.clients.keys())],
        "contracts": [contract_state(state, c) for c in sorted(book.contracts.keys())],
        "market_makers": [market_maker_state(state, m) for m in sorted(book.market_makers.keys())],
        "digest": state.engine.state_digest(),
        "header": [state.position, state.applied, state.left_out_count, str(state.latest_occurred_at)],
    }, default=str))


def both(store: Store, **window: Any) -> tuple[Replay, Replay]:
    return replay(store, **window), replay(store, from_snapshot=True, **window)


def test_the_ledger_has_a_snapshot_at_each_midnight(ledger: Store) -> None:
    assert len(snapshot_positions(ledger)) >= CONFIG.days - 1  # (and one after the set-up day)


def tip(store: Store) -> int:
    return store.tip().position


def test_state_from_the_newest_snapshot_equals_a_replay_from_nothing(ledger: Store) -> None:
    through = tip(ledger) - 1  # the monitor has seen the tip: its own state is not usable
    full, started = both(ledger, through=through)
    assert started.started_from == snapshot_positions(ledger)[-1] < through
    assert started.applied == full.applied > started.started_from - 1
    assert everything(started) == everything(full)


def test_with_nothing_past_the_window_the_replay_starts_from_the_monitors_own_state(ledger: Store) -> None:
    assert ledger.tracked_position() == tip(ledger)
    full, started = both(ledger)
    assert started.started_from == tip(ledger) > snapshot_positions(ledger)[-1]
    assert started.applied == full.applied
    assert everything(started) == everything(full)
    full, started = both(ledger, as_of=datetime(2099, 1, 1, tzinfo=HONG_KONG))  # every event occurred by then
    assert started.started_from == tip(ledger) and everything(started) == everything(full)


@pytest.mark.parametrize("as_of", [DAY_2_NOON, DAY_3_MIDNIGHT, DAY_3_MIDNIGHT + timedelta(microseconds=1),
                                   DAY_3_MIDNIGHT - timedelta(microseconds=1)])
def test_as_of_starts_from_the_newest_snapshot_that_occurred_by_then(ledger: Store, as_of: datetime) -> None:
    full, started = both(ledger, as_of=as_of)
    first_after = Sql(ledger).rows(
        "SELECT MIN(position) FROM audit_events WHERE occurred_at > ?", (Sql(ledger).time(as_of),)
    )[0][0]
    usable = [p for p in snapshot_positions(ledger) if p < first_after]
    assert usable, "each as-of time here lies after the first midnight"
    assert started.started_from == usable[-1]
    assert everything(started) == everything(full)


def test_known_at_and_through_bound_the_snapshot_too(ledger: Store) -> None:
    positions = snapshot_positions(ledger)
    through = positions[1]  # exactly at a snapshot: nothing left to apply after it
    full, started = both(ledger, through=through)
    assert started.started_from == through and everything(started) == everything(full)
    full, started = both(ledger, through=through - 1)
    assert started.started_from == positions[0] and everything(started) == everything(full)
    [recorded_at] = Sql(ledger).rows("SELECT recorded_at FROM audit_events WHERE position = ?", (positions[1] + 5,))[0]
    known = known_through(ledger, Sql(ledger).instant(recorded_at))
    full, started = both(ledger, through=known, as_of=DAY_3_MIDNIGHT)
    assert started.started_from <= known and everything(started) == everything(full)


def test_before_the_first_snapshot_the_replay_starts_from_nothing(ledger: Store) -> None:
    first = snapshot_positions(ledger)[0]
    full, started = both(ledger, through=first - 1)
    assert started.started_from == 0 and everything(started) == everything(full)


@pytest.mark.parametrize("back", [0, 1])  # from the monitor's state, from the newest snapshot
def test_the_latest_events_before_the_snapshot_are_found_in_the_audit_trail(ledger: Store, back: int) -> None:
    full, started = both(ledger, through=tip(ledger) - back)
    checked = 0
    for (event_type, key), event in full.latest.items():
        if event.position <= started.started_from:  # not seen by the replay after the snapshot
            assert (event_type, key) not in started.latest
            found = started.last(event_type, key)
            assert found is not None and found.position == event.position and found.envelope == event.envelope
            checked += 1
    assert checked > 0 and {t for t, _ in full.latest} <= set(LATEST_BY)
    assert started.last("PriceObserved", "no-such-asset") is None


def test_a_damaged_snapshot_is_not_trusted(ledger: Store) -> None:
    newest = snapshot_positions(ledger)[-1]
    update = "UPDATE monitor_snapshots SET state_digest = ? WHERE position = ?"
    [(digest,)] = Sql(ledger).rows("SELECT state_digest FROM monitor_snapshots WHERE position = ?", (newest,))
    with Sql(ledger).writing() as c:
        c.execute(update, ("0" * 64, newest))
    try:
        full, started = both(ledger, through=tip(ledger) - 1)
        assert started.started_from == 0 and everything(started) == everything(full)
    finally:
        with Sql(ledger).writing() as c:
            c.execute(update, (digest, newest))


def test_explain_from_a_snapshot_equals_explain_from_nothing(ledger: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    newest = snapshot_positions(ledger)[-1]
    rows = [r for r in ledger.findings(FindingFilter(limit=10_000)) if r.position > newest]
    rules = {r.rule_id.split("-")[0]: r for r in rows}  # one finding of each family after the snapshot
    assert sorted(rules) == ["MF", "MM", "PERP", "PI"], sorted(rules)
    started = {rule_id: explain_module.explain(ledger, row) for rule_id, row in rules.items()}
    monkeypatch.setattr(explain_module, "replay", lambda store, **kw: replay(store, **{**kw, "from_snapshot": False}))
    for rule_id, row in rules.items():
        assert started[rule_id] == explain_module.explain(ledger, row), rule_id

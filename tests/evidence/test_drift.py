"""``verify --projections``: every read model rebuilt from the log against the stored one, at
the stored model's own position: a monitor that is only behind is not drift; an edited state
record or a lost finding is, named by model, table and key."""

from __future__ import annotations

from ops.wiring import build_monitor
from projections.evidence.drift import check_projections
from projections.store.base import FindingFilter, Store
from tests.evidence.tamper import Dba, fill


def monitor_check(store: Store) -> tuple[bool, int, int]:
    drift = check_projections(store)
    [monitor] = [c for c in drift.checked if c.model == "monitor"]
    return drift.intact, monitor.position, len(store.findings(FindingFilter()))


def test_a_live_monitor_matches_its_rebuild_even_when_behind(store: Store) -> None:
    fill(store)
    build_monitor(store).catch_up(until=20)
    assert monitor_check(store) == (True, 20, 1)
    build_monitor(store).catch_up()
    assert monitor_check(store) == (True, 38, 6)


def test_an_edited_state_record_is_named(store: Store, store_url: str) -> None:
    fill(store)
    build_monitor(store).catch_up()
    kind, key, state = next(iter(store.monitor_records()))
    Dba(store_url).run(("UPDATE monitor_state SET state = '{}' WHERE kind = ? AND key = ?", (kind, key)))
    drift = check_projections(store).difference
    assert drift is not None
    assert (drift.model, drift.table, drift.key, drift.stored, drift.rebuilt) == (
        "monitor", "monitor_state", {"kind": kind, "key": key}, {"state": "{}"}, {"state": state})


def test_a_lost_finding_is_named(store: Store, store_url: str) -> None:
    fill(store)
    build_monitor(store).catch_up()
    last = store.findings(FindingFilter())[-1]
    Dba(store_url).run(("DELETE FROM findings WHERE finding_id = ?", (last.finding_id,)))
    drift = check_projections(store).difference
    assert drift is not None
    assert (drift.model, drift.table, drift.key, drift.stored) == (
        "monitor", "findings", {"finding_id": last.finding_id}, None)
    assert drift.rebuilt is not None and drift.rebuilt["rule_id"] == last.rule_id

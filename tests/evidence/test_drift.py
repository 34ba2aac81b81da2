"""``verify --projections``: the monitor rebuilt from the log against the live one, at the
live monitor's position: a monitor that is only behind is not drift; an edited state record
or a lost finding is."""

from __future__ import annotations

from ops.wiring import build_monitor
from projections.evidence.drift import check_projections
from projections.store.base import FindingFilter, Store
from tests.evidence.tamper import Dba, fill


def test_a_live_monitor_matches_its_rebuild_even_when_behind(store: Store) -> None:
    fill(store)
    build_monitor(store).catch_up(until=20)
    behind = check_projections(store)
    assert (behind.intact, behind.position, behind.findings, behind.difference) == (True, 20, 1, None)
    build_monitor(store).catch_up()
    level = check_projections(store)
    assert (level.intact, level.position, level.findings, level.difference) == (True, 38, 6, None)
    assert level.live_state == level.rebuilt_state


def test_an_edited_state_record_is_drift_of_the_state_hash(store: Store, store_url: str) -> None:
    fill(store)
    build_monitor(store).catch_up()
    kind, key, _ = next(iter(store.monitor_records()))
    Dba(store_url).run(("UPDATE monitor_state SET state = '{}' WHERE kind = ? AND key = ?", (kind, key)))
    drift = check_projections(store)
    assert (drift.intact, drift.difference) == (False, None)
    assert drift.live_state != drift.rebuilt_state


def test_a_lost_finding_is_named(store: Store, store_url: str) -> None:
    fill(store)
    build_monitor(store).catch_up()
    last = store.findings(FindingFilter())[-1]
    Dba(store_url).run(("DELETE FROM findings WHERE finding_id = ?", (last.finding_id,)))
    drift = check_projections(store)
    assert (drift.intact, drift.difference) == (
        False, f"the live monitor has 5 findings, the rebuilt one 6: rebuilt has {last.finding_id} beyond them",
    )

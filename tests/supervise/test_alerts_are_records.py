"""A regulator's supervisory alerts sit in its store's findings but are records of what it saw
on the firm's feed, not derived from its own log: a rebuild keeps them and a check against a
rebuild does not call them drift."""

from __future__ import annotations

from datetime import UTC, datetime

from policies.supervisory import chain_alert
from projections.evidence.drift import check_projections
from projections.rebuild import replace_read_models
from projections.sql import Sql
from projections.store.base import FindingFilter, Store
from projections.supervise.follower import record_alerts
from tests.audit.helpers import ingest, lines_of

AT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def findings_by_rule(store: Store) -> dict[str, int]:
    counted: dict[str, int] = {}
    for f in store.findings(FindingFilter()):
        counted[f.rule_id] = counted.get(f.rule_id, 0) + 1
    return counted


def test_supervisory_alerts_survive_a_rebuild_and_are_not_drift(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    before = findings_by_rule(store)
    alerts = [chain_alert("firm-a", "broken", 5, "", AT), chain_alert("firm-a", "gap", 7, "", AT)]
    assert record_alerts(Sql(store), "firm-a", alerts) == 2
    assert record_alerts(Sql(store), "firm-a", alerts) == 0  # each once

    assert check_projections(store).intact
    replace_read_models(store)

    after = findings_by_rule(store)
    assert after.pop("SUP-01") == 2
    assert after == before
    assert check_projections(store).intact

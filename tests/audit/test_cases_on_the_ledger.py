"""Case actions are events on the hash-chained ledger: they get positions and chain hashes,
keep the status read model consistent, and change no finding and no monitor state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.cases import CasePolicy, Cases, FindingRef
from domain.chain import GENESIS_HASH, chain_hash
from domain.errors import CaseActionRefused
from domain.ledger import Ledger
from ops.wiring import build_monitor
from policies.registry import parameter_catalogue
from projections.audit import AuditQuery, audit_events
from projections.cases import case_history, case_recorder, case_summary
from projections.monitor.engine import MonitorEngine
from projections.sql import Sql
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import event, ingest, lines_of

OFFICE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def cases(store: Store, minutes: int = 0) -> Cases:
    """One officer closes cases alone here; four-eyes closing has its own tests."""
    return Cases(case_recorder(store), clock=lambda: OFFICE + timedelta(minutes=minutes),
                 policy=CasePolicy(four_eyes_severities=frozenset()))


def mf07(store: Store) -> FindingRef:
    [row] = store.findings(FindingFilter(rule_ids=("MF-07",)))
    return FindingRef.of(row)


def test_case_actions_change_no_finding_and_no_monitor_state(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    findings_before = store.findings(FindingFilter())
    state_before = MonitorEngine.restore(store.monitor_records()).state_digest()
    finding = mf07(store)
    cases(store).acknowledge(finding, "alice")
    cases(store, 5).resolve(finding, "alice", "remediated", "call issued")
    runner = build_monitor(store)
    done = runner.catch_up()
    assert (done.events, done.findings, done.position) == (3, 0, 41)
    assert store.findings(FindingFilter()) == findings_before
    assert MonitorEngine.restore(store.monitor_records()).state_digest() == state_before
    # ... and ingesting after them goes on as before.
    ingest(store, [event("after-1", "PriceObserved", "2026-03-02T14:00:00+08:00",
                         {"asset": "BTC", "price": "360000", "price_source": "vatp-a"})])
    assert store.tracked_position() == 42


def test_case_actions_are_chained_ledger_entries_with_positions(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = mf07(store)
    cases(store).acknowledge(finding, "alice", "looking into it")
    cases(store, 1).assign(finding, "alice", "bob")
    entries = store.read_entries(0, 100)
    assert [(e.position, e.type.rsplit(".", 1)[-1]) for e in entries[38:]] == [
        (39, "Opened"), (40, "Acknowledged"), (41, "Assigned"),
    ]
    sql = Sql(store)
    previous = GENESIS_HASH
    for position, originator_id, version, topic, state, recorded_at, stored_hash in sql.rows(
        "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at,"
        " chain_hash FROM ledger_events ORDER BY notification_id"
    ):
        expected = chain_hash(
            position, sql.instant(recorded_at), previous, originator_id, version, topic, sql.blob(state)
        )
        assert sql.blob(stored_hash) == expected, position
        previous = expected
    assert [a.as_json() for a in case_history(store, finding.finding_id)] == [
        {"position": 39, "recorded_at": OFFICE.isoformat(), "action": "CaseOpened", "actor": "alice",
         "actor_source": None, "at": OFFICE.isoformat(), "rule_id": "MF-07", "subject": "C1"},
        {"position": 40, "recorded_at": OFFICE.isoformat(), "action": "CaseAcknowledged", "actor": "alice",
         "actor_source": None, "at": OFFICE.isoformat(), "note": "looking into it"},
        {"position": 41, "recorded_at": (OFFICE + timedelta(minutes=1)).isoformat(), "action": "CaseAssigned",
         "actor": "alice", "actor_source": None, "at": (OFFICE + timedelta(minutes=1)).isoformat(), "assignee": "bob"},
    ]


def test_the_status_read_model_follows_the_events_and_filters_findings(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = mf07(store)
    all_ids = [f.finding_id for f in store.findings(FindingFilter())]

    def listed(status: str) -> list[str]:
        return [f.finding_id for f in store.findings(FindingFilter(case_status=status))]

    assert (listed("open"), listed("acknowledged"), listed("resolved")) == (all_ids, [], [])
    cases(store).acknowledge(finding, "alice")
    assert (listed("acknowledged"), finding.finding_id in listed("open")) == ([finding.finding_id], False)
    cases(store, 2).resolve(finding, "bob", "false_positive")
    summary = case_summary(store, finding.finding_id)
    assert summary is not None
    assert (summary.status, summary.resolution, summary.updated_by, summary.updated_at, summary.version) == (
        "resolved", "false_positive", "bob", OFFICE + timedelta(minutes=2), 3,
    )
    assert listed("resolved") == [finding.finding_id]
    cases(store, 3).reopen(finding, "carol", "new information")
    assert listed("open") == all_ids and listed("resolved") == []
    assert store.findings(FindingFilter(case_status="open", rule_ids=("MF-07",)))[0].finding_id == finding.finding_id


def test_a_refused_action_stores_nothing(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = mf07(store)
    with pytest.raises(CaseActionRefused, match="a resolution needs a code"):
        cases(store).resolve(finding, "alice", None)
    with pytest.raises(CaseActionRefused, match="nothing to reopen"):
        cases(store).reopen(finding, "alice")
    assert store.tip().position == 38 and case_summary(store, finding.finding_id) is None


def test_two_officers_acting_on_the_same_case_at_once_cannot_both_win(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(store, lines_of("mf-day"))
    finding = mf07(store)
    cases(store).comment(finding, "alice", "first")
    first, second = cases(store, 1), cases(store, 1)
    stale = second.case(finding.finding_id)  # bob loads the case ...
    first.acknowledge(finding, "alice")  # ... alice acknowledges it ...
    monkeypatch.setattr(second, "case", lambda finding_id: stale)
    with pytest.raises(CaseActionRefused, match="changed while this action was prepared: try again"):
        second.acknowledge(finding, "bob")  # ... bob's acknowledgement is refused, not lost
    summary = case_summary(store, finding.finding_id)
    assert summary is not None and (summary.status, summary.updated_by, summary.version) == (
        "acknowledged", "alice", 3,
    )
    assert store.tip().position == 41


def test_case_actions_are_in_the_audit_trail_of_the_finding_and_the_officers(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = mf07(store)
    cases(store).assign(finding, "alice", "bob")
    ingest(store, [])  # the index catches up as after any ingest
    for subject in (finding.finding_id, "alice", "bob"):
        trail = audit_events(store, AuditQuery(subject=subject))
        assert [(e.type, e.source) for e in trail] == [
            ("CaseOpened", "regledger-cases"), ("CaseAssigned", "regledger-cases"),
        ][-len(trail):], subject
    [assigned] = audit_events(store, AuditQuery(subject="bob"))
    assert assigned.as_json()["data"] == {
        "finding_id": finding.finding_id, "actor": "alice", "at": OFFICE.isoformat(), "assignee": "bob",
    }


def test_the_ledger_application_reads_past_case_actions(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    cases(store).acknowledge(mf07(store), "alice")
    ledger = Ledger(store, parameter_catalogue())
    assert [e.position for e in ledger.read(35, 10)] == [36, 37, 38]

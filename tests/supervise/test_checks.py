"""The regulator's checks as pure functions: same rows in, same alerts out (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.chain import Tip, chain_hash
from domain.evidence.digest import Checkpoint, sign
from policies.finding import finding_id
from policies.supervisory import RULE_IDS, TITLES, chain_alert, feed_alert, finding_alert
from projections.supervise.checks import (
    LedgerRow,
    compare_findings,
    digest_problem,
    feed_state,
    journal_alerts,
    link_problem,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def row(position: int, previous: bytes, state: bytes = b"{}") -> LedgerRow:
    hashed = chain_hash(position, T0, previous, f"e{position}", 1, "Topic", state)
    return LedgerRow(position, f"e{position}", 1, "Topic", state, T0, hashed)


def a_finding(the_id: str, position: int) -> dict[str, object]:
    return {"finding_id": the_id, "rule_id": "MF-05", "event_id": f"e{position}", "subject": "C1",
            "occurred_at": T0, "detected_at": T0, "position": position}


def test_the_reserved_ids_are_sup_01_to_sup_04_each_with_a_title() -> None:
    assert RULE_IDS == ("SUP-01", "SUP-02", "SUP-03", "SUP-04")
    assert all(TITLES[r] for r in RULE_IDS)


def test_a_row_continuing_the_chain_has_no_problem() -> None:
    first = row(1, Tip.empty().chain_hash)
    assert link_problem(Tip.empty(), first) is None
    assert link_problem(Tip(1, first.chain_hash, T0), row(2, first.chain_hash)) is None


def test_a_row_whose_hash_does_not_recompute_is_broken() -> None:
    first = row(1, Tip.empty().chain_hash)
    edited = LedgerRow(1, first.event_id, 1, first.topic, b'{"x":1}', T0, first.chain_hash)
    assert link_problem(Tip.empty(), edited) == "broken"


def test_a_row_after_a_missing_position_is_a_gap() -> None:
    assert link_problem(Tip.empty(), row(2, bytes(32))) == "gap"


def test_a_sup_01_names_its_position_and_the_same_rows_give_the_same_id() -> None:
    alert = chain_alert("firm_a", "edited", 5, "e5", T0)
    assert alert == chain_alert("firm_a", "edited", 5, "e5", T0)
    assert (alert.rule_id, alert.severity, alert.position, alert.subject) == ("SUP-01", "critical", 5, "firm_a")
    assert alert.finding_id == finding_id("SUP-01", "edited@5", "firm_a")
    assert "ledger position 5" in alert.message
    assert chain_alert("firm_a", "deleted", 5, "e5", T0).finding_id != alert.finding_id


def test_journal_changes_to_ledger_rows_and_digests_are_sup_01() -> None:
    entries: list[dict[str, Any]] = [
        {"table_name": "ledger_events", "op": "UPDATE", "old": {"notification_id": 3, "originator_id": "e3",
                                                                "recorded_at": T0.isoformat()}, "new": {}},
        {"table_name": "ledger_events", "op": "DELETE", "old": {"notification_id": 4, "originator_id": "e4",
                                                                "recorded_at": T0.isoformat()}, "new": None},
        {"table_name": "ledger_events", "op": "UPDATE", "old": {"notification_id": -3, "originator_id": "e3",
                                                                "recorded_at": T0.isoformat()},
         "new": {"notification_id": 4}},
        {"table_name": "ledger_events", "op": "TRUNCATE", "old": None, "new": None},
        {"table_name": "supervisory_digests", "op": "DELETE", "old": {"position": 4, "recorded_at": T0.isoformat()},
         "new": None},
    ]
    alerts = journal_alerts("firm_a", entries, Tip(9, bytes(32), T0), 0, lambda _: None, lambda _: False)
    assert [(a.rule_id, a.position, a.evidence["kind"]) for a in alerts] == [
        ("SUP-01", 3, "edited"), ("SUP-01", 4, "deleted"), ("SUP-01", 4, "edited"), ("SUP-01", 1, "truncated"),
        ("SUP-01", 4, "digest-changed")]


def test_a_compared_finding_the_firm_deleted_is_sup_02_lacks_and_one_it_added_in_addition() -> None:
    ours = {"F-1": a_finding("F-1", 2)}
    entries = [
        {"table_name": "findings", "op": "DELETE", "old": {**a_finding("F-1", 2), "occurred_at": T0.isoformat(),
                                                           "detected_at": T0.isoformat()}, "new": None},
        {"table_name": "findings", "op": "INSERT", "old": None, "new": a_finding("F-9", 2)},
        {"table_name": "findings", "op": "INSERT", "old": None, "new": a_finding("F-8", 7)},  # not compared yet
    ]
    alerts = journal_alerts("firm_a", entries, Tip(9, bytes(32), T0), 5, ours.get, lambda _: False)
    assert [(a.rule_id, a.evidence["kind"], a.evidence["finding_id"]) for a in alerts] == [
        ("SUP-02", "lacks", "F-1"), ("SUP-02", "in-addition", "F-9")]


def test_comparing_equal_findings_is_silent_and_each_one_sided_finding_is_sup_02() -> None:
    both = [a_finding("F-1", 1), a_finding("F-2", 2)]
    assert compare_findings("firm_a", both, list(both)) == []
    alerts = compare_findings("firm_a", [both[0], a_finding("F-3", 3)], both)
    assert [(a.evidence["kind"], a.evidence["finding_id"], a.position) for a in alerts] == [
        ("lacks", "F-2", 2), ("in-addition", "F-3", 3)]
    assert alerts[0] == finding_alert("firm_a", "lacks", a_finding("F-2", 2))


def test_a_digest_holds_only_when_signed_by_the_key_and_agreeing_with_the_verified_ledger() -> None:
    key = Ed25519PrivateKey.generate()
    checkpoint = Checkpoint(4, b"r" * 32, b"h" * 32, T0)
    digest = sign(checkpoint, key)
    assert digest_problem(digest, key.public_key(), checkpoint) is None
    assert digest_problem(digest, key.public_key(), Checkpoint(4, b"x" * 32, b"h" * 32, T0)) == "digest-contradicted"
    assert digest_problem(digest, Ed25519PrivateKey.generate().public_key(), checkpoint) == "digest-unsigned"


def test_a_feed_heard_from_recently_is_healthy() -> None:
    state = feed_state("firm_a", enabled=True, running=True, last_message_at=T0, unhealthy_since=None,
                       now=T0 + timedelta(seconds=10), silent_after_s=60, position=9)
    assert state.healthy and state.alert is None and state.unhealthy_since is None


def test_a_stopped_feed_is_sup_04_once_stopped_for_the_threshold_one_alert_per_episode() -> None:
    first = feed_state("firm_a", enabled=True, running=False, last_message_at=None, unhealthy_since=None,
                       now=T0, silent_after_s=60, position=9)
    assert not first.healthy and first.alert is None and first.unhealthy_since == T0
    later = feed_state("firm_a", enabled=True, running=False, last_message_at=None, unhealthy_since=first.unhealthy_since,
                       now=T0 + timedelta(seconds=60), silent_after_s=60, position=9)
    assert later.alert == feed_alert("firm_a", T0, T0 + timedelta(seconds=60), 9, "stopped (no replication worker)", 60)
    assert later.alert is not None and later.alert.parameters == {"silent_after_s": "60"}  # the threshold it was judged by
    again = feed_state("firm_a", enabled=True, running=False, last_message_at=None, unhealthy_since=T0,
                       now=T0 + timedelta(seconds=90), silent_after_s=60, position=9)
    assert again.alert is not None and again.alert.finding_id == later.alert.finding_id


def test_a_silent_feed_is_sup_04_from_its_last_message() -> None:
    state = feed_state("firm_a", enabled=True, running=True, last_message_at=T0, unhealthy_since=None,
                       now=T0 + timedelta(seconds=61), silent_after_s=60, position=9)
    assert state.alert is not None and state.alert.rule_id == "SUP-04" and state.unhealthy_since == T0


def test_a_case_closed_by_one_officer_is_sup_03_only_under_four_eyes_severities() -> None:
    from domain.cases.codec import CaseFact
    from projections.supervise.checks import four_eyes_alert

    resolved = CaseFact("CaseResolved", "F-1", "alice", T0, {"code": "remediated"})
    alert = four_eyes_alert("firm_a", 12, resolved, "high", frozenset({"critical", "high"}))
    assert alert is not None and (alert.rule_id, alert.position, alert.evidence["kind"]) == ("SUP-03", 12, "one-officer")
    assert alert.parameters == {"four_eyes_severities": ["critical", "high"]}
    assert four_eyes_alert("firm_a", 12, resolved, "low", frozenset({"critical", "high"})) is None
    approved = CaseFact("CaseResolutionApproved", "F-1", "bob", T0, {"requested_by": "alice", "code": "remediated"})
    assert four_eyes_alert("firm_a", 13, approved, "high", frozenset({"high"})) is None
    own = CaseFact("CaseResolutionApproved", "F-1", "alice", T0, {"requested_by": "alice", "code": "remediated"})
    found = four_eyes_alert("firm_a", 13, own, "high", frozenset({"high"}))
    assert found is not None and found.evidence["kind"] == "self-approved"

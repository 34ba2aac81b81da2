"""Cases an auditor trusts: four-eyes closing, known officers, escalation, investigations and
where each actor name came from, all on the ledger and in the status read model, both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.cases import CasePolicy, Cases, FindingRef
from domain.cases.case import Case
from domain.errors import CaseActionRefused, UnknownOfficer
from projections.cases import case_history, case_recorder, case_summary, investigation_findings
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import ingest, lines_of

OFFICE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
OFFICERS = frozenset({"alice", "bob", "carol"})


def cases(store: Store, minutes: int = 0, severities: frozenset[str] = frozenset({"critical", "high"})) -> Cases:
    return Cases(case_recorder(store), clock=lambda: OFFICE + timedelta(minutes=minutes),
                 policy=CasePolicy(severities, OFFICERS), actor_source="token")


def one(store: Store, severity: str) -> FindingRef:
    return FindingRef.of(next(r for r in store.findings(FindingFilter()) if r.severity == severity))


def test_resolving_a_high_finding_waits_for_a_second_officer_who_approves_it(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = one(store, "high")
    pending = cases(store).resolve(finding, "alice", "remediated", "margin call issued")
    assert (pending.status, pending.resolution, pending.requested_by) == ("pending_approval", None, "alice")
    with pytest.raises(CaseActionRefused, match="alice asked for this resolution and may not approve it"):
        cases(store, 1).approve(finding, "alice")
    done = cases(store, 2).approve(finding, "bob", "checked the call log")
    summary = case_summary(store, finding.finding_id)
    assert summary == done
    assert (done.status, done.resolution, done.requested_by, done.updated_by) == ("resolved", "remediated", None, "bob")
    history = [(a.fact.type, a.fact.actor, a.fact.actor_source, a.fact.details) for a in case_history(store, finding.finding_id)]
    assert history[1:] == [
        ("CaseResolutionRequested", "alice", "token", {"code": "remediated", "note": "margin call issued"}),
        ("CaseResolutionApproved", "bob", "token",
         {"code": "remediated", "requested_by": "alice", "note": "checked the call log"}),
    ]


def test_a_rejected_resolution_returns_the_case_to_where_it_was_with_the_reason(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = one(store, "critical")
    cases(store).acknowledge(finding, "alice")
    cases(store, 1).resolve(finding, "alice", "false_positive")
    with pytest.raises(CaseActionRefused, match="reason must not be empty"):
        cases(store, 2).reject(finding, "bob", " ")
    back = cases(store, 2).reject(finding, "bob", "the price feed was right")
    assert (back.status, back.resolution, back.requested_by) == ("acknowledged", None, None)
    assert case_history(store, finding.finding_id)[-1].fact.details == {
        "requested_by": "alice", "reason": "the price feed was right",
    }
    with pytest.raises(CaseActionRefused, match="no resolution awaits approval"):
        cases(store, 3).approve(finding, "bob")


@pytest.mark.parametrize(("severity", "status"), [("medium", "resolved"), ("high", "pending_approval"), ("critical", "pending_approval")])
def test_which_severities_need_a_second_officer_is_the_policy(store: Store, severity: str, status: str) -> None:
    ingest(store, lines_of("mf-day"))
    assert cases(store).resolve(one(store, severity), "alice", "remediated").status == status


def test_a_deployment_can_require_four_eyes_for_medium_and_drop_it_for_high(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    only_medium = frozenset({"medium"})
    assert cases(store, severities=only_medium).resolve(one(store, "medium"), "alice", "remediated").status == "pending_approval"
    assert cases(store, severities=only_medium).resolve(one(store, "high"), "alice", "remediated").status == "resolved"


def test_a_pending_resolution_blocks_a_second_request_and_an_acknowledgement(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = one(store, "high")
    cases(store).resolve(finding, "alice", "remediated")
    for act in (lambda c: c.resolve(finding, "bob", "remediated"), lambda c: c.acknowledge(finding, "bob"),
                lambda c: c.escalate(finding, "bob", "why")):
        with pytest.raises(CaseActionRefused, match="awaits approval of its resolution by a second officer"):
            act(cases(store, 1))


def test_assigning_to_an_unknown_officer_or_acting_as_one_is_refused_and_stores_nothing(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = one(store, "high")
    with pytest.raises(UnknownOfficer, match=r"assignee 'mallory' is not a known officer \(known: alice, bob, carol\)"):
        cases(store).assign(finding, "alice", "mallory")
    with pytest.raises(UnknownOfficer, match="actor 'mallory' is not a known officer"):
        cases(store).acknowledge(finding, "mallory")
    assert case_history(store, finding.finding_id) == []
    assert cases(store).assign(finding, "alice", "bob").assignee == "bob"


def test_escalation_takes_a_reason_shows_in_the_status_and_can_still_be_resolved(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    finding = one(store, "medium")
    with pytest.raises(CaseActionRefused, match="reason must not be empty"):
        cases(store).escalate(finding, "alice", None)
    assert cases(store).escalate(finding, "alice", "client disputes the haircut").status == "escalated"
    with pytest.raises(CaseActionRefused, match="already escalated"):
        cases(store, 1).escalate(finding, "bob", "again")
    assert case_history(store, finding.finding_id)[-1].fact.details == {"reason": "client disputes the haircut"}
    assert cases(store, 2).resolve(finding, "bob", "accepted_risk").status == "resolved"


def test_grouping_links_several_findings_to_one_investigation_in_one_transaction(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    rows = [FindingRef.of(r) for r in store.findings(FindingFilter())[:3]]
    summaries = cases(store).group(rows, "alice", "INV-2026-014", "same client, same day")
    assert {s.investigation_id for s in summaries} == {"INV-2026-014"}
    assert investigation_findings(store, "INV-2026-014") == sorted(r.finding_id for r in rows)
    assert case_history(store, rows[0].finding_id)[-1].fact.details == {
        "investigation_id": "INV-2026-014", "reason": "same client, same day",
    }
    # one case already in it refuses the whole group: nothing of it is stored
    more = [FindingRef.of(store.findings(FindingFilter())[3]), rows[0]]
    with pytest.raises(CaseActionRefused, match="already in investigation INV-2026-014"):
        cases(store, 1).group(more, "alice", "INV-2026-014")
    assert case_history(store, more[0].finding_id) == []
    with pytest.raises(CaseActionRefused, match="is not 1-64 letters"):
        cases(store, 1).group(more[:1], "alice", "INV 14; drop")


def test_a_case_event_stored_before_actor_source_reads_back_as_not_recorded() -> None:
    """Stored topics and payloads are schema: a v1 event (no class_version, no actor_source)
    still reconstructs the case, upcast with ``actor_source`` None."""
    case = Case.open("F-1", "MF-07", "C1", "alice", OFFICE, "cli-setting")
    case.escalate("alice", OFFICE, "why", "cli-setting")
    app = Cases(_memory_recorder())
    app.save(case)
    [opened, escalated] = app.recorder.select_events(case.id)
    assert json.loads(escalated.state)["class_version"] == 2
    v1 = {k: v for k, v in json.loads(opened.state).items() if k not in ("class_version", "actor_source")}
    upcast = app.mapper.to_domain_event(type(opened)(opened.originator_id, 1, opened.topic, json.dumps(v1).encode()))
    assert (upcast.actor_source, upcast.actor, upcast.rule_id) == (None, "alice", "MF-07")


def _memory_recorder():  # type: ignore[no-untyped-def]  # eventsourcing's in-memory recorder
    from eventsourcing.popo import POPOApplicationRecorder

    return POPOApplicationRecorder()


def test_the_case_status_read_model_is_rebuilt_from_the_ledger_alone_exactly_as_it_was(store: Store) -> None:
    from projections.cases.rebuild import replace_case_statuses
    from projections.sql import Sql

    ingest(store, lines_of("mf-day"))
    refs = [FindingRef.of(r) for r in store.findings(FindingFilter())]
    cases(store).resolve(refs[0], "alice", "remediated")  # pending
    cases(store, 1).escalate(refs[1], "bob", "MLRO")
    cases(store, 2).group(refs[1:4], "carol", "INV-1")
    cases(store, 3).resolve(refs[4], "alice", "remediated")
    cases(store, 4).approve(refs[4], "carol")
    sql = Sql(store)

    def read_model() -> list[object]:
        return [case_summary(store, r.finding_id) for r in refs]

    before = read_model()
    assert [s.status if s else None for s in before] == [
        "pending_approval", "escalated", "open", "open", "resolved", None]
    with sql.writing() as c:
        c.execute("DELETE FROM finding_cases")
        c.execute("UPDATE case_workflow SET investigation_id = 'wrong'")
    assert read_model() != before
    replace_case_statuses(store)
    assert read_model() == before

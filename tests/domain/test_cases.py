"""The case workflow: transitions the aggregate allows and refuses, and what each event holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.cases import RESOLUTION_CODES, Case, case_id
from domain.errors import CaseActionRefused

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def opened() -> Case:
    return Case.open("F-1", "MF-07", "C1", "alice", T0)


def test_a_case_opens_with_its_finding_actor_and_time_and_an_id_derived_from_the_finding() -> None:
    case = opened()
    assert (case.id, case.finding_id, case.rule_id, case.subject) == (case_id("F-1"), "F-1", "MF-07", "C1")
    assert (case.status, case.assignee, case.resolution, case.updated_by, case.modified_on) == (
        "open", None, None, "alice", T0,
    )
    assert case_id("F-1") == case_id("F-1") != case_id("F-2")


def test_the_full_workflow_records_one_event_per_action_with_actor_and_time() -> None:
    case = opened()
    case.acknowledge("alice", T0 + timedelta(minutes=1), "looking")
    case.assign("alice", T0 + timedelta(minutes=2), "bob")
    case.comment("bob", T0 + timedelta(minutes=3), "call was 75 minutes late")
    case.resolve("bob", T0 + timedelta(minutes=4), "remediated", "process fixed")
    case.reopen("carol", T0 + timedelta(minutes=5), "regulator asked")
    events = case.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Opened", "Acknowledged", "Assigned", "Commented", "Resolved", "Reopened",
    ]
    assert [(e.actor, e.at, e.timestamp, e.finding_id) for e in events] == [
        (actor, T0 + timedelta(minutes=i), T0 + timedelta(minutes=i), "F-1")
        for i, actor in enumerate(["alice", "alice", "alice", "bob", "bob", "carol"])
    ]
    assert (case.status, case.assignee, case.resolution, case.updated_by, case.version) == (
        "open", "bob", None, "carol", 6,
    )


@pytest.mark.parametrize("code", RESOLUTION_CODES)
def test_every_resolution_code_resolves(code: str) -> None:
    case = opened()
    case.resolve("alice", T0, code)
    assert (case.status, case.resolution) == ("resolved", code)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (None, "a resolution needs a code: one of remediated, false_positive, accepted_risk, reported_to_sfc"),
        ("", "a resolution needs a code: one of remediated, false_positive, accepted_risk, reported_to_sfc"),
        ("fixed", "unknown resolution code 'fixed': use one of remediated, false_positive, accepted_risk, reported_to_sfc"),
    ],
)
def test_a_case_cannot_be_resolved_without_a_known_code(code: str | None, message: str) -> None:
    case = opened()
    with pytest.raises(CaseActionRefused) as refused:
        case.resolve("alice", T0, code)
    assert str(refused.value) == message
    assert case.status == "open" and case.version == 1


def test_refused_transitions_say_why_and_record_nothing() -> None:
    case = opened()
    with pytest.raises(CaseActionRefused, match="is open, not resolved: nothing to reopen"):
        case.reopen("alice", T0)
    case.acknowledge("alice", T0)
    with pytest.raises(CaseActionRefused, match="already acknowledged"):
        case.acknowledge("alice", T0)
    case.assign("alice", T0, "bob")
    with pytest.raises(CaseActionRefused, match="already assigned to bob"):
        case.assign("alice", T0, "bob")
    case.resolve("bob", T0, "false_positive")
    with pytest.raises(CaseActionRefused, match=r"already resolved \(false_positive\)"):
        case.resolve("bob", T0, "remediated")
    with pytest.raises(CaseActionRefused, match="resolved: reopen it first"):
        case.acknowledge("bob", T0)
    with pytest.raises(CaseActionRefused, match="resolved: reopen it first"):
        case.assign("bob", T0, "carol")
    assert len(case.collect_events()) == 4  # opened, acknowledged, assigned, resolved


def test_comments_are_allowed_in_every_status_but_never_empty() -> None:
    case = opened()
    case.resolve("alice", T0, "accepted_risk")
    case.comment("bob", T0, "noted")
    with pytest.raises(CaseActionRefused, match="comment must not be empty"):
        case.comment("bob", T0, "   ")
    with pytest.raises(CaseActionRefused, match="actor must not be empty"):
        case.comment(" ", T0, "text")
    assert case.status == "resolved" and case.version == 3


def test_a_four_eyes_resolution_is_a_request_until_another_officer_approves_it() -> None:
    case = opened()
    case.resolve("alice", T0, "remediated", "done", four_eyes=True)
    assert (case.status, case.resolution, case.requested_by, case.requested_code) == (
        "pending_approval", None, "alice", "remediated")
    for verb in ("approve", "reject"):
        with pytest.raises(CaseActionRefused, match=f"alice asked for this resolution and may not {verb} it"):
            getattr(case, verb)(" alice ", T0, "x")  # the same name, however it is spaced
    case.approve("bob", T0 + timedelta(minutes=1))
    assert (case.status, case.resolution, case.requested_by, case.updated_by) == ("resolved", "remediated", None, "bob")
    assert [type(e).__name__ for e in case.collect_events()][-2:] == ["ResolutionRequested", "ResolutionApproved"]


@pytest.mark.parametrize(("before", "status"), [(None, "open"), ("acknowledge", "acknowledged"), ("escalate", "escalated")])
def test_a_rejected_request_returns_the_case_to_the_status_it_had(before: str | None, status: str) -> None:
    case = opened()
    if before == "acknowledge":
        case.acknowledge("alice", T0)
    elif before == "escalate":
        case.escalate("alice", T0, "MLRO")
    case.resolve("alice", T0, "remediated", four_eyes=True)
    case.reject("bob", T0, "not yet")
    assert (case.status, case.requested_by) == (status, None)


@pytest.mark.parametrize(("investigation_id", "accepted"), [
    ("I", True), ("INV-2026.014_a", True), ("A" * 64, True), ("A" * 65, False), ("-INV", False),
    ("", False), ("INV 1", False), ("INV/1", False),
])
def test_investigation_ids_are_one_to_sixty_four_plain_characters(investigation_id: str, accepted: bool) -> None:
    case = opened()
    if accepted:
        case.group("alice", T0, investigation_id)
        assert case.investigation_id == investigation_id
    else:
        with pytest.raises(CaseActionRefused, match="is not 1-64 letters"):
            case.group("alice", T0, investigation_id)

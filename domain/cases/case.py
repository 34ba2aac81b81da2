"""A finding's case: what compliance officers did about it, as an event-sourced aggregate.

Each finding is a case from the moment it is recorded (status ``open``); the case aggregate
exists from the first officer action on. Every action is an event with its actor and time,
appended to the same hash-chained ledger as the upstream facts. A case never changes or
deletes its finding: resolving it only records what was decided.

Workflow: ``open`` -acknowledge-> ``acknowledged``; ``open``/``acknowledged`` -resolve(code)->
``resolved`` -reopen-> ``open``. Assigning and commenting change no status; assigning a
resolved case is refused (reopen it first), commenting is always possible.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from eventsourcing.domain import Aggregate

from domain.errors import CaseActionRefused

CaseStatus = Literal["open", "acknowledged", "resolved"]
ResolutionCode = Literal["remediated", "false_positive", "accepted_risk", "reported_to_sfc"]
CASE_STATUSES: tuple[str, ...] = get_args(CaseStatus)
RESOLUTION_CODES: tuple[str, ...] = get_args(ResolutionCode)
CASE_NAMESPACE = uuid.UUID("5d0c6f0e-3a53-5a0e-9d43-72656764676d")  # fixed forever: ids derive from it
ACTOR_CHARS_MAX = 128
TEXT_CHARS_MAX = 4_000


def case_id(finding_id: str) -> uuid.UUID:
    """The case of a finding has one id, derived from the finding id."""
    return uuid.uuid5(CASE_NAMESPACE, finding_id)


def _text(what: str, value: str | None, *, required: bool) -> str | None:
    text = None if value is None else value.strip()
    if not text:
        if required:
            raise CaseActionRefused(f"{what} must not be empty")
        return None
    limit = ACTOR_CHARS_MAX if what in ("actor", "assignee") else TEXT_CHARS_MAX
    if len(text) > limit:
        raise CaseActionRefused(f"{what} is longer than {limit} characters")
    return text


class Case(Aggregate):
    """Created by the first action on its finding. Each event names its finding, its actor and
    ``at`` (the officer's time, which is also the event's timestamp), so that every stored
    action reads on its own."""

    class Event(Aggregate.Event):
        finding_id: str
        actor: str
        at: datetime

        def apply(self, case: Any) -> None:
            case.updated_by = self.actor  # ``modified_on`` is ``at``: it is the timestamp

    class Opened(Event, Aggregate.Created):
        rule_id: str
        subject: str

    class Acknowledged(Event):
        note: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status = "acknowledged"

    class Assigned(Event):
        assignee: str

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.assignee = self.assignee

    class Commented(Event):
        text: str

    class Resolved(Event):
        code: str
        note: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status = "resolved"
            case.resolution = self.code

    class Reopened(Event):
        reason: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status = "open"
            case.resolution = None

    def __init__(self, finding_id: str, rule_id: str, subject: str, actor: str, at: datetime):
        self.finding_id = finding_id
        self.rule_id = rule_id
        self.subject = subject
        self.status: CaseStatus = "open"
        self.assignee: str | None = None
        self.resolution: str | None = None
        self.updated_by = actor

    # -- the officers' actions -----------------------------------------------------------
    @classmethod
    def open(cls, finding_id: str, rule_id: str, subject: str, actor: str, at: datetime) -> Case:
        return cls._create(
            cls.Opened, id=case_id(finding_id), timestamp=at, finding_id=finding_id,
            rule_id=rule_id, subject=subject, actor=_actor(actor), at=at,
        )

    def acknowledge(self, actor: str, at: datetime, note: str | None = None) -> None:
        self.check_acknowledge()
        self._record(self.Acknowledged, actor, at, note=_text("note", note, required=False))

    def assign(self, actor: str, at: datetime, assignee: str) -> None:
        to = _text("assignee", assignee, required=True)
        self.check_assign(to)
        self._record(self.Assigned, actor, at, assignee=to)

    def comment(self, actor: str, at: datetime, text: str) -> None:
        self._record(self.Commented, actor, at, text=_text("comment", text, required=True))

    def resolve(self, actor: str, at: datetime, code: str | None, note: str | None = None) -> None:
        self.check_resolve(code)
        self._record(self.Resolved, actor, at, code=code, note=_text("note", note, required=False))

    def reopen(self, actor: str, at: datetime, reason: str | None = None) -> None:
        self.check_reopen()
        self._record(self.Reopened, actor, at, reason=_text("reason", reason, required=False))

    def _record(self, kind: type[Event], actor: str, at: datetime, **fields: Any) -> None:
        self.trigger_event(kind, timestamp=at, finding_id=self.finding_id, actor=_actor(actor), at=at, **fields)

    # -- invariants ------------------------------------------------------------------------
    def check_acknowledge(self) -> None:
        if self.status == "acknowledged":
            raise CaseActionRefused(f"the case of {self.finding_id} is already acknowledged")
        if self.status == "resolved":
            raise CaseActionRefused(f"the case of {self.finding_id} is resolved: reopen it first")

    def check_assign(self, assignee: str | None) -> None:
        if self.status == "resolved":
            raise CaseActionRefused(f"the case of {self.finding_id} is resolved: reopen it first")
        if self.assignee == assignee:
            raise CaseActionRefused(f"the case of {self.finding_id} is already assigned to {assignee}")

    def check_resolve(self, code: str | None) -> None:
        choices = ", ".join(RESOLUTION_CODES)
        if not code:
            raise CaseActionRefused(f"a resolution needs a code: one of {choices}")
        if code not in RESOLUTION_CODES:
            raise CaseActionRefused(f"unknown resolution code {code!r}: use one of {choices}")
        if self.status == "resolved":
            raise CaseActionRefused(f"the case of {self.finding_id} is already resolved ({self.resolution})")

    def check_reopen(self) -> None:
        if self.status != "resolved":
            raise CaseActionRefused(f"the case of {self.finding_id} is {self.status}, not resolved: nothing to reopen")


def _actor(actor: str) -> str:
    text = _text("actor", actor, required=True)
    assert text is not None
    return text


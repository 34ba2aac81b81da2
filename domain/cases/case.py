"""A finding's case: what compliance officers did about it, as an event-sourced aggregate.

Each finding is a case from the moment it is recorded (status ``open``); the case aggregate
exists from the first officer action on. Every action is an event with its actor and time,
appended to the same hash-chained ledger as the upstream facts. A case never changes or
deletes its finding: resolving it only records what was decided.

Workflow: ``open`` -acknowledge-> ``acknowledged``; ``open``/``acknowledged``/``escalated``
-resolve(code)-> ``resolved`` -reopen-> ``open``; -escalate(reason)-> ``escalated``.
Four-eyes closing (``resolve(..., four_eyes=True)``, chosen by the application from the
finding's severity): resolving records a *request* (``pending_approval``); a second, different
officer approves it (``resolved``, with the requested code) or rejects it with a reason (back
to the status before the request). Assigning and commenting change no status; assigning a
resolved case is refused (reopen it first), commenting is always possible. Grouping links the
case to an investigation id shared by several findings' cases.

Every event names its actor and, from class version 2 on, where that name came from
(``actor_source``: ``token``, ``console-session``, ``cli-setting``); events stored before
that read back with ``actor_source`` None, i.e. "not recorded".
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from eventsourcing.domain import Aggregate

from domain.errors import CaseActionRefused
from domain.values import ACTOR_CHARS_MAX, NOTE_CHARS_MAX

CaseStatus = Literal["open", "acknowledged", "escalated", "pending_approval", "resolved"]
ResolutionCode = Literal["remediated", "false_positive", "accepted_risk", "reported_to_sfc"]
CASE_STATUSES: tuple[str, ...] = get_args(CaseStatus)
RESOLUTION_CODES: tuple[str, ...] = get_args(ResolutionCode)
CASE_NAMESPACE = uuid.UUID("5d0c6f0e-3a53-5a0e-9d43-72656764676d")  # fixed forever: ids derive from it
# Officers type investigation ids (``INV-2026-014``): short, no spaces, nothing to escape.
INVESTIGATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def case_id(finding_id: str) -> uuid.UUID:
    """The case of a finding has one id, derived from the finding id."""
    return uuid.uuid5(CASE_NAMESPACE, finding_id)


def _text(what: str, value: str | None, *, required: bool) -> str | None:
    text = None if value is None else value.strip()
    if not text:
        if required:
            raise CaseActionRefused(f"{what} must not be empty")
        return None
    limit = ACTOR_CHARS_MAX if what in ("actor", "assignee") else NOTE_CHARS_MAX
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
        actor_source: str | None

        # v2 added ``actor_source``; a v1 event did not record where its actor came from.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["actor_source"] = None

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

    class ResolutionRequested(Event):
        code: str
        note: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status_before_request = case.status
            case.status = "pending_approval"
            case.requested_by, case.requested_code = self.actor, self.code

    class ResolutionApproved(Event):
        code: str  # the approved code, repeated so that the event reads on its own
        requested_by: str
        note: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status, case.resolution = "resolved", self.code
            case.requested_by = case.requested_code = None

    class ResolutionRejected(Event):
        requested_by: str
        reason: str

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status = case.status_before_request
            case.requested_by = case.requested_code = None

    class Escalated(Event):
        reason: str

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.status = "escalated"

    class Grouped(Event):
        investigation_id: str
        reason: str | None

        def apply(self, case: Any) -> None:
            super().apply(case)
            case.investigation_id = self.investigation_id

    def __init__(self, finding_id: str, rule_id: str, subject: str, actor: str, at: datetime):
        self.finding_id = finding_id
        self.rule_id = rule_id
        self.subject = subject
        self.status: CaseStatus = "open"
        self.assignee: str | None = None
        self.resolution: str | None = None
        self.updated_by = actor
        self.requested_by: str | None = None  # while pending_approval: who asked, for what code
        self.requested_code: str | None = None
        self.status_before_request: CaseStatus = "open"
        self.investigation_id: str | None = None

    # -- the officers' actions -----------------------------------------------------------
    @classmethod
    def open(cls, finding_id: str, rule_id: str, subject: str, actor: str, at: datetime,
             source: str | None = None) -> Case:
        return cls._create(
            cls.Opened, id=case_id(finding_id), timestamp=at, finding_id=finding_id,
            rule_id=rule_id, subject=subject, actor=_actor(actor), at=at, actor_source=source,
        )

    def acknowledge(self, actor: str, at: datetime, note: str | None = None, source: str | None = None) -> None:
        self.check_acknowledge()
        self._record(self.Acknowledged, actor, at, source, note=_text("note", note, required=False))

    def assign(self, actor: str, at: datetime, assignee: str, source: str | None = None) -> None:
        to = _text("assignee", assignee, required=True)
        self.check_assign(to)
        self._record(self.Assigned, actor, at, source, assignee=to)

    def comment(self, actor: str, at: datetime, text: str, source: str | None = None) -> None:
        self._record(self.Commented, actor, at, source, text=_text("comment", text, required=True))

    def resolve(self, actor: str, at: datetime, code: str | None, note: str | None = None,
                source: str | None = None, *, four_eyes: bool = False) -> None:
        """Resolve, or with ``four_eyes`` ask a second officer to approve the resolution."""
        self.check_resolve(code)
        kind = self.ResolutionRequested if four_eyes else self.Resolved
        self._record(kind, actor, at, source, code=code, note=_text("note", note, required=False))

    def approve(self, actor: str, at: datetime, note: str | None = None, source: str | None = None) -> None:
        self.check_decide(actor, "approve")
        self._record(self.ResolutionApproved, actor, at, source, code=self.requested_code,
                     requested_by=self.requested_by, note=_text("note", note, required=False))

    def reject(self, actor: str, at: datetime, reason: str | None, source: str | None = None) -> None:
        text = _text("reason", reason, required=True)  # the requester must learn why
        self.check_decide(actor, "reject")
        self._record(self.ResolutionRejected, actor, at, source, requested_by=self.requested_by, reason=text)

    def escalate(self, actor: str, at: datetime, reason: str | None, source: str | None = None) -> None:
        text = _text("reason", reason, required=True)
        self.check_escalate()
        self._record(self.Escalated, actor, at, source, reason=text)

    def group(self, actor: str, at: datetime, investigation_id: str, reason: str | None = None,
              source: str | None = None) -> None:
        self.check_group(investigation_id)
        self._record(self.Grouped, actor, at, source, investigation_id=investigation_id,
                     reason=_text("reason", reason, required=False))

    def reopen(self, actor: str, at: datetime, reason: str | None = None, source: str | None = None) -> None:
        self.check_reopen()
        self._record(self.Reopened, actor, at, source, reason=_text("reason", reason, required=False))

    def _record(self, kind: type[Event], actor: str, at: datetime, source: str | None, **fields: Any) -> None:
        self.trigger_event(kind, timestamp=at, finding_id=self.finding_id, actor=_actor(actor), at=at,
                           actor_source=source, **fields)

    # -- invariants ------------------------------------------------------------------------
    def check_not_pending(self) -> None:
        if self.status == "pending_approval":
            raise CaseActionRefused(
                f"the case of {self.finding_id} awaits approval of its resolution by a second officer:"
                " approve or reject it first"
            )

    def check_acknowledge(self) -> None:
        self.check_not_pending()
        if self.status in ("acknowledged", "escalated"):
            raise CaseActionRefused(f"the case of {self.finding_id} is already {self.status}")
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
        self.check_not_pending()

    def check_decide(self, actor: str, verb: str) -> None:
        if self.status != "pending_approval":
            raise CaseActionRefused(
                f"the case of {self.finding_id} is {self.status}: no resolution awaits approval"
            )
        if _actor(actor) == self.requested_by:
            raise CaseActionRefused(
                f"{self.requested_by} asked for this resolution and may not {verb} it:"
                " a second, different officer must"
            )

    def check_escalate(self) -> None:
        if self.status in ("resolved", "escalated"):
            raise CaseActionRefused(f"the case of {self.finding_id} is already {self.status}")
        self.check_not_pending()

    def check_group(self, investigation_id: str) -> None:
        if not INVESTIGATION_ID.fullmatch(investigation_id):
            raise CaseActionRefused(
                f"investigation id {investigation_id[:80]!r} is not 1-64 letters, digits, '.', '_' or '-'"
                " starting with a letter or digit"
            )
        if self.investigation_id == investigation_id:
            raise CaseActionRefused(f"the case of {self.finding_id} is already in investigation {investigation_id}")

    def check_reopen(self) -> None:
        if self.status != "resolved":
            raise CaseActionRefused(f"the case of {self.finding_id} is {self.status}, not resolved: nothing to reopen")


def _actor(actor: str) -> str:
    text = _text("actor", actor, required=True)
    assert text is not None
    return text


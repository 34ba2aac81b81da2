"""The case application: officers' actions on findings, appended to the ledger itself.

Its recorder is the store's chained ledger recorder (the one ``domain.ledger.Ledger``'s
storage appends through), so a case action gets a ledger position and a chain hash like every
upstream fact. Saving passes
the cases' summaries along (``case_statuses``); the store's case recorder writes them to the
status read model in the same transaction as the events, so the two never disagree. A summary
is a pure function of the case's events (``CaseSummary.of`` a case rebuilt from them), so the
read model can be rebuilt from the ledger alone.

What the application decides beyond one case is its ``CasePolicy``: which severities need a
second officer's approval to close, and who counts as an officer (actor and assignee).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from domain.cases.case import Case, case_id
from domain.errors import CaseActionRefused, UnknownOfficer

Clock = Callable[[], datetime]  # injected by ops (``ops.wiring``): the domain never reads the time


@dataclass(frozen=True, slots=True)
class FindingRef:
    """What a case needs to know of its finding."""

    finding_id: str
    rule_id: str
    subject: str
    severity: str

    @classmethod
    def of(cls, row: FindingLike) -> FindingRef:
        return cls(row.finding_id, row.rule_id, row.subject, row.severity)


class FindingLike(Protocol):
    @property
    def finding_id(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def severity(self) -> str: ...


# A careful reading of "needs a second, different officer": by default the two highest
# severities; a deployment may widen or narrow it (REGLEDGER_FOUR_EYES_SEVERITIES).
FOUR_EYES_SEVERITIES_DEFAULT = frozenset({"critical", "high"})


@dataclass(frozen=True, slots=True)
class CasePolicy:
    four_eyes_severities: frozenset[str] = FOUR_EYES_SEVERITIES_DEFAULT
    # Who may act and be assigned: None leaves it unchecked (tests of the workflow alone);
    # ``ops`` always passes the known officers (active officer tokens + the configured list).
    officers: frozenset[str] | None = field(default=None)

    def check_officer(self, what: str, name: str) -> None:
        if self.officers is not None and name.strip() not in self.officers:
            known = ", ".join(sorted(self.officers)) or "none: create an officer token or set REGLEDGER_OFFICERS"
            raise UnknownOfficer(f"{what} {name.strip()[:128]!r} is not a known officer (known: {known})")


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One row of the status read model."""

    finding_id: str
    case_id: str
    status: str
    assignee: str | None
    resolution: str | None
    updated_at: datetime
    updated_by: str
    version: int
    investigation_id: str | None = None
    requested_by: str | None = None  # while pending_approval: the officer who asked

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls(
            case.finding_id, str(case.id), case.status, case.assignee, case.resolution,
            case.modified_on, case.updated_by, case.version, case.investigation_id, case.requested_by,
        )


class Cases(Application[UUID]):
    name = "cases"
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "n"}

    def __init__(self, recorder: ApplicationRecorder, clock: Clock | None = None,
                 policy: CasePolicy | None = None, actor_source: str | None = None):
        """``clock`` gives the time of each action (an instance without one only reads cases);
        ``actor_source`` says where every actor name this instance is given comes from
        (``token``, ``console-session``, ``cli-setting``); it is recorded on each event."""
        self._store_recorder = recorder
        super().__init__()
        self.clock = clock
        self.policy = policy or CasePolicy()
        self.actor_source = actor_source

    def construct_recorder(self) -> ApplicationRecorder:
        return self._store_recorder

    def case(self, finding_id: str) -> Case | None:
        try:
            # By its text: the ledger stores ids as text, and eventsourcing's SQLite recorder
            # would look a UUID up by its hex digits.
            found: Case = self.repository.get(str(case_id(finding_id)))  # type: ignore[arg-type]  # see above
        except AggregateNotFoundError:
            return None
        assert isinstance(found, Case)
        return found

    def act(self, finding: FindingRef, actor: str, action: Callable[[Case, datetime], None]) -> CaseSummary:
        """Apply one action to the finding's case (opening it first if it has none) and
        append the resulting events, with the new summary, in one transaction."""
        return self.act_on_all([finding], actor, action)[0]

    def act_on_all(self, findings: Sequence[FindingRef], actor: str,
                   action: Callable[[Case, datetime], None]) -> list[CaseSummary]:
        """The same action on several findings' cases, all saved in one transaction or none."""
        self.policy.check_officer("actor", actor)
        assert self.clock is not None, "acting on cases needs the clock ops.wiring injects"
        at = self.clock()
        changed = []
        for finding in findings:
            case = self.case(finding.finding_id)
            if case is None:
                case = Case.open(finding.finding_id, finding.rule_id, finding.subject, actor, at, self.actor_source)
            action(case, at)
            changed.append(case)
        summaries = [CaseSummary.of(case) for case in changed]
        try:
            self.save(*changed, case_statuses=summaries, recorded_at=at)
        except IntegrityError:
            names = ", ".join(f.finding_id for f in findings)
            raise CaseActionRefused(
                f"the case of {names} changed while this action was prepared: try again"
            ) from None
        return summaries

    def acknowledge(self, finding: FindingRef, actor: str, note: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.acknowledge(actor, at, note, self.actor_source))

    def assign(self, finding: FindingRef, actor: str, assignee: str) -> CaseSummary:
        self.policy.check_officer("assignee", assignee)
        return self.act(finding, actor, lambda case, at: case.assign(actor, at, assignee, self.actor_source))

    def comment(self, finding: FindingRef, actor: str, text: str) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.comment(actor, at, text, self.actor_source))

    def resolve(self, finding: FindingRef, actor: str, code: str | None, note: str | None = None) -> CaseSummary:
        """Resolves, or for a severity under four-eyes closing asks for a second officer's approval."""
        four_eyes = finding.severity in self.policy.four_eyes_severities
        return self.act(finding, actor, lambda case, at: case.resolve(
            actor, at, code, note, self.actor_source, four_eyes=four_eyes))

    def approve(self, finding: FindingRef, actor: str, note: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.approve(actor, at, note, self.actor_source))

    def reject(self, finding: FindingRef, actor: str, reason: str | None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.reject(actor, at, reason, self.actor_source))

    def escalate(self, finding: FindingRef, actor: str, reason: str | None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.escalate(actor, at, reason, self.actor_source))

    def reopen(self, finding: FindingRef, actor: str, reason: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.reopen(actor, at, reason, self.actor_source))

    def group(self, findings: Sequence[FindingRef], actor: str, investigation_id: str,
              reason: str | None = None) -> list[CaseSummary]:
        """Link several findings' cases to one investigation, in one transaction."""
        if not findings:
            raise CaseActionRefused("grouping needs at least one finding")
        if len({f.finding_id for f in findings}) != len(findings):
            raise CaseActionRefused("a finding is named twice")
        return self.act_on_all(findings, actor, lambda case, at: case.group(
            actor, at, investigation_id, reason, self.actor_source))

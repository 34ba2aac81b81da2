"""The case application: officers' actions on findings, appended to the ledger itself.

Its recorder is the store's chained ledger recorder (as ``domain.ledger.Ledger``'s is), so a
case action gets a ledger position and a chain hash like every upstream fact. Saving passes
the case's summary along (``case_status``); the store's case recorder writes it to the
status read model in the same transaction as the events, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from domain.cases.case import Case, case_id
from domain.errors import CaseActionRefused

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FindingRef:
    """What a case needs to know of its finding."""

    finding_id: str
    rule_id: str
    subject: str


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

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls(
            case.finding_id, str(case.id), case.status, case.assignee, case.resolution,
            case.modified_on, case.updated_by, case.version,
        )


class Cases(Application[UUID]):
    name = "cases"
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "n"}

    def __init__(self, recorder: ApplicationRecorder, clock: Clock = utc_now):
        self._store_recorder = recorder
        super().__init__()
        self.clock = clock

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
        at = self.clock()
        case = self.case(finding.finding_id)
        if case is None:
            case = Case.open(finding.finding_id, finding.rule_id, finding.subject, actor, at)
        action(case, at)
        summary = CaseSummary.of(case)
        try:
            self.save(case, case_status=summary, recorded_at=at)
        except IntegrityError:
            raise CaseActionRefused(
                f"the case of {finding.finding_id} changed while this action was prepared: try again"
            ) from None
        return summary

    def acknowledge(self, finding: FindingRef, actor: str, note: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.acknowledge(actor, at, note))

    def assign(self, finding: FindingRef, actor: str, assignee: str) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.assign(actor, at, assignee))

    def comment(self, finding: FindingRef, actor: str, text: str) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.comment(actor, at, text))

    def resolve(self, finding: FindingRef, actor: str, code: str | None, note: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.resolve(actor, at, code, note))

    def reopen(self, finding: FindingRef, actor: str, reason: str | None = None) -> CaseSummary:
        return self.act(finding, actor, lambda case, at: case.reopen(actor, at, reason))

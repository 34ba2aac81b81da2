"""Reading findings, case summaries and case histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.cases import CaseFact, CaseSummary, FindingRef, case_id, decode_case_event
from domain.errors import NotFound
from projections.sql import Sql
from projections.store.base import FindingRow, Store

SELECT_FINDING = (
    "SELECT seq, finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at,"
    " position, message, parameters, evidence FROM findings WHERE finding_id = ?"
)


def find_finding(store: Store, finding_id: str) -> FindingRow | None:
    sql = Sql(store)
    rows = sql.rows(SELECT_FINDING, (finding_id,))
    if not rows:
        return None
    r = rows[0]
    return FindingRow(
        r[0], r[1], r[2], r[3], r[4], r[5], sql.instant(r[6]), sql.instant(r[7]), r[8], r[9],
        r[10], r[11],
    )


def finding_refs(store: Store, finding_ids: list[str]) -> list[FindingRef]:
    """What the cases of these findings need of them; NotFound names the first unknown one."""
    refs = []
    for finding_id in finding_ids:
        row = find_finding(store, finding_id)
        if row is None:
            raise NotFound(f"no finding {finding_id!r}")
        refs.append(FindingRef.of(row))
    return refs


def case_summary(store: Store, finding_id: str) -> CaseSummary | None:
    sql = Sql(store)
    rows = sql.rows(
        "SELECT c.finding_id, c.case_id, c.status, c.assignee, c.resolution, c.updated_at,"
        " c.updated_by, c.version, w.investigation_id, w.requested_by"
        " FROM finding_cases c LEFT JOIN case_workflow w ON w.finding_id = c.finding_id"
        " WHERE c.finding_id = ?",
        (finding_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return CaseSummary(r[0], r[1], r[2], r[3], r[4], sql.instant(r[5]), r[6], r[7], r[8], r[9])


INVESTIGATION_FINDINGS_MAX = 1_000


def investigation_findings(store: Store, investigation_id: str) -> list[str]:
    """The findings grouped in one investigation (at most ``INVESTIGATION_FINDINGS_MAX``)."""
    rows = Sql(store).rows(
        "SELECT finding_id FROM case_workflow WHERE investigation_id = ? ORDER BY finding_id LIMIT ?",
        (investigation_id, INVESTIGATION_FINDINGS_MAX),
    )
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class RecordedCaseAction:
    position: int
    recorded_at: datetime
    version: int
    fact: CaseFact

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position, "recorded_at": self.recorded_at.isoformat(),
            "action": self.fact.type, "actor": self.fact.actor, "actor_source": self.fact.actor_source,
            "at": self.fact.at.isoformat(), **self.fact.details,
        }


def case_history(store: Store, finding_id: str) -> list[RecordedCaseAction]:
    """The case's actions as the ledger holds them, with their positions."""
    sql = Sql(store)
    rows = sql.rows(
        "SELECT notification_id, recorded_at, originator_version, topic, state FROM ledger_events"
        " WHERE originator_id = ? ORDER BY originator_version",
        (str(case_id(finding_id)),),
    )
    return [
        RecordedCaseAction(r[0], sql.instant(r[1]), r[2], decode_case_event(r[3], sql.blob(r[4])))
        for r in rows
    ]

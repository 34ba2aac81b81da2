"""Reading findings, case summaries and case histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.cases import CaseFact, CaseSummary, case_id, decode_case_event
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


def case_summary(store: Store, finding_id: str) -> CaseSummary | None:
    sql = Sql(store)
    rows = sql.rows(
        "SELECT finding_id, case_id, status, assignee, resolution, updated_at, updated_by, version"
        " FROM finding_cases WHERE finding_id = ?",
        (finding_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return CaseSummary(r[0], r[1], r[2], r[3], r[4], sql.instant(r[5]), r[6], r[7])


@dataclass(frozen=True, slots=True)
class CaseAction:
    position: int
    recorded_at: datetime
    version: int
    fact: CaseFact

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position, "recorded_at": self.recorded_at.isoformat(),
            "action": self.fact.type, "actor": self.fact.actor, "at": self.fact.at.isoformat(),
            **self.fact.details,
        }


def case_history(store: Store, finding_id: str) -> list[CaseAction]:
    """The case's actions as the ledger holds them, with their positions."""
    sql = Sql(store)
    rows = sql.rows(
        "SELECT notification_id, recorded_at, originator_version, topic, state FROM ledger_events"
        " WHERE originator_id = ? ORDER BY originator_version",
        (str(case_id(finding_id)),),
    )
    return [
        CaseAction(r[0], sql.instant(r[1]), r[2], decode_case_event(r[3], sql.blob(r[4])))
        for r in rows
    ]

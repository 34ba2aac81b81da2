"""The store side of compliance officers' cases: the recorder that keeps the status read
model with the case events, and the queries over both."""

from projections.cases.queries import (
    RecordedCaseAction,
    case_history,
    case_summary,
    find_finding,
    finding_refs,
    investigation_findings,
)
from projections.cases.recorders import case_recorder

__all__ = ["RecordedCaseAction", "case_history", "case_recorder", "case_summary", "find_finding", "finding_refs", "investigation_findings"]

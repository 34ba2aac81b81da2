"""Compliance officers' cases: one per finding, every action an event on the ledger."""

from domain.cases.application import (
    FOUR_EYES_SEVERITIES_DEFAULT,
    CasePolicy,
    Cases,
    CaseSummary,
    FindingRef,
)
from domain.cases.case import CASE_STATUSES, RESOLUTION_CODES, Case, case_id
from domain.cases.codec import (
    CASE_EVENT_SOURCE,
    CASE_TOPIC_PREFIX,
    CaseFact,
    decode_case_event,
    is_case_topic,
)

__all__ = [
    "CASE_EVENT_SOURCE", "CASE_STATUSES", "FOUR_EYES_SEVERITIES_DEFAULT", "CasePolicy", "CASE_TOPIC_PREFIX", "RESOLUTION_CODES", "Case", "CaseFact", "CaseSummary",
    "Cases", "FindingRef", "case_id", "decode_case_event", "is_case_topic",
]

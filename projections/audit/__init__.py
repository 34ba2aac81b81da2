"""The audit trail: an index of the ledger by subject, and the queries it serves."""

from projections.audit.index import AuditIndex, IndexCatchUp, case_action_id
from projections.audit.query import (
    AuditEntry,
    AuditQuery,
    audit_events,
    entries_at,
    event_at,
    known_through,
    owners_of,
)

__all__ = [
    "AuditEntry", "AuditIndex", "AuditQuery", "IndexCatchUp", "audit_events", "case_action_id",
    "entries_at", "event_at", "known_through", "owners_of",
]

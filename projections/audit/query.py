"""Questions to the audit trail: which events, in ledger order, concern a subject, of which
types and sources, in which business-time window, known to the ledger by when.

Filters and paging read the index only (keyset paging on the position); the page's events
are then fetched from the ledger by position, as stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.cases import CASE_EVENT_SOURCE, decode_case_event, is_case_topic
from domain.events import DEFAULT_SOURCE
from domain.ledger import is_catalogue_topic
from domain.quarantine_decisions import (
    DECISION_EVENT_SOURCE,
    DECISION_EVENT_TYPE,
    decode_dismissal,
    dismissal_audit_id,
    is_decision_topic,
)
from domain.values import POSITION_MAX
from projections.audit.index import case_action_id, parse_instant
from projections.audit.storage import load_owners
from projections.audit.subjects import OWNER_FIELDS
from projections.sql import Sql
from projections.store.base import Store

AUDIT_PAGE_MAX = 10_000

# Fixed statements; a NULL parameter switches its filter off. The subject (or the position
# range) is always a real predicate, so the index range scan holds under a generic plan.
_FILTERS = {
    "sqlite": (
        " AND position > ? AND position <= ?"
        " AND (? IS NULL OR type IN (SELECT value FROM json_each(?)))"
        " AND (? IS NULL OR source = ?)"
        " AND (? IS NULL OR occurred_at >= ?) AND (? IS NULL OR occurred_at <= ?)"
    ),
    "postgresql": (
        " AND position > ? AND position <= ?"
        " AND (?::text[] IS NULL OR type = ANY(?::text[]))"
        " AND (?::text IS NULL OR source = ?::text)"
        " AND (?::timestamptz IS NULL OR occurred_at >= ?::timestamptz)"
        " AND (?::timestamptz IS NULL OR occurred_at <= ?::timestamptz)"
    ),
}
_ORDER = {"asc": " ORDER BY position ASC LIMIT ?", "desc": " ORDER BY position DESC LIMIT ?"}
_ENTRY_COLUMNS = "SELECT notification_id, originator_id, topic, state, recorded_at FROM ledger_events"
# The page's positions from the index, then those rows of the ledger: one round trip.
_PAGE = _ENTRY_COLUMNS + " JOIN ({0}) page ON notification_id = page.position ORDER BY notification_id"
SUBJECT_QUERIES = {
    (kind, order): _PAGE.format("SELECT position FROM audit_subjects WHERE subject = ?" + filters + _ORDER[order])  # noqa: S608  # constants
    for kind, filters in _FILTERS.items() for order in _ORDER
}
EVENTS_QUERIES = {
    (kind, order): _PAGE.format("SELECT position FROM audit_events WHERE TRUE" + filters + _ORDER[order])  # noqa: S608  # constants
    for kind, filters in _FILTERS.items() for order in _ORDER
}
ENTRIES_AT = {
    "sqlite": _ENTRY_COLUMNS + " WHERE notification_id IN (SELECT value FROM json_each(?))"  # noqa: S608  # constants
    " ORDER BY notification_id",
    "postgresql": _ENTRY_COLUMNS + " WHERE notification_id = ANY(?::bigint[]) ORDER BY notification_id",
}
EVENT_BY_ID = _ENTRY_COLUMNS + " WHERE originator_id = ? AND originator_version = 1"


@dataclass(frozen=True, slots=True)
class AuditQuery:
    subject: str | None = None
    types: Sequence[str] = ()
    source: str | None = None
    since: datetime | None = None  # occurred_at >= since
    until: datetime | None = None  # occurred_at <= until
    known_at: datetime | None = None  # recorded_at <= known_at
    after: int = 0  # keyset paging: positions strictly after this one
    through: int | None = None  # positions up to and including this one
    limit: int = 100
    newest_first: bool = False  # the newest ``limit`` events (still returned in ledger order)

    def __post_init__(self) -> None:
        assert 0 < self.limit <= AUDIT_PAGE_MAX and self.after >= 0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    position: int
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """``occurred_at`` with the offset it was sent with; ``data`` exactly as stored."""
        return {
            "position": self.position, "event_id": self.event_id, "type": self.type,
            "occurred_at": self.occurred_at.isoformat(), "recorded_at": self.recorded_at.isoformat(),
            "source": self.source, "data": self.data,
        }


def known_through(store: Store, known_at: datetime) -> int:
    """The last position recorded at or before ``known_at`` (``recorded_at`` never decreases
    along the ledger, so what was known then is exactly a prefix of it)."""
    sql = Sql(store)
    rows = sql.rows(
        "SELECT position FROM audit_events WHERE recorded_at <= ?"
        " ORDER BY recorded_at DESC, position DESC LIMIT 1",
        (sql.time(known_at),),
    )
    return rows[0][0] if rows else 0


def audit_events(store: Store, query: AuditQuery) -> list[AuditEntry]:
    sql = Sql(store)
    through = POSITION_MAX if query.through is None else query.through
    if query.known_at is not None:
        through = min(through, known_through(store, query.known_at))
    types = sql.text_list(query.types) if query.types else None
    filters = [
        query.after, through, types, types, query.source, query.source,
        sql.time(query.since), sql.time(query.since), sql.time(query.until), sql.time(query.until),
        query.limit,
    ]
    order = "desc" if query.newest_first else "asc"
    if query.subject is None:
        statement = EVENTS_QUERIES[(sql.kind, order)]
    else:
        statement, filters = SUBJECT_QUERIES[(sql.kind, order)], [query.subject, *filters]
    return _entries(sql, sql.rows(statement, filters))


def entries_at(store: Store, positions: Sequence[int]) -> list[AuditEntry]:
    """The ledger's events at ``positions``, in ledger order."""
    if not positions:
        return []
    sql = Sql(store)
    return _entries(sql, sql.rows(ENTRIES_AT[sql.kind], (sql.int_list(positions),)))


def _entries(sql: Sql, rows: Sequence[Sequence[Any]]) -> list[AuditEntry]:
    return [
        entry
        for r in rows
        if (entry := _entry(r[0], r[1], r[2], sql.blob(r[3]), sql.instant(r[4]))) is not None
    ]


def event_at(store: Store, event_id: str) -> AuditEntry | None:
    """An upstream event by its ``event_id``."""
    sql = Sql(store)
    rows = sql.rows(EVENT_BY_ID, (event_id,))
    if not rows or not is_catalogue_topic(rows[0][2]):
        return None
    r = rows[0]
    return _entry(r[0], r[1], r[2], sql.blob(r[3]), sql.instant(r[4]))


def _entry(position: int, originator_id: str, topic: str, state: bytes, recorded_at: datetime) -> AuditEntry | None:
    if is_catalogue_topic(topic):
        envelope = json.loads(state)
        return AuditEntry(
            position, originator_id, topic, envelope.get("source", DEFAULT_SOURCE),
            parse_instant(envelope["occurred_at"]), recorded_at, envelope["data"],
        )
    if is_case_topic(topic):
        fact = decode_case_event(topic, state)
        data = {"finding_id": fact.finding_id, "actor": fact.actor, "at": fact.at.isoformat(), **fact.details}
        return AuditEntry(
            position, case_action_id(fact.finding_id, position), fact.type, CASE_EVENT_SOURCE,
            fact.at, recorded_at, data,
        )
    if is_decision_topic(topic):
        dismissal = decode_dismissal(state)
        return AuditEntry(
            position, dismissal_audit_id(dismissal["entry"], position), DECISION_EVENT_TYPE,
            DECISION_EVENT_SOURCE, dismissal["at"], recorded_at, {**dismissal, "at": dismissal["at"].isoformat()},
        )
    return None


def owners_of(store: Store, natural_id: str) -> dict[str, tuple[str, ...]]:
    """kind -> owners, for each owned kind of entity with this id."""
    sql = Sql(store)
    with sql.reading() as cursor:
        found = load_owners(sql, cursor, [(kind, natural_id) for kind in OWNER_FIELDS])
    return {kind: owners for (kind, _), owners in found.items()}

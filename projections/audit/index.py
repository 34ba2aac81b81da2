"""The audit index: a tracked projection of the ledger, event -> subjects, exactly once.

It follows ``MonitorRunner``'s pattern: pull the log in bounded pages; each page's rows and
the tracking position (application ``audit`` in the store's tracking table) commit in one
transaction; the writer re-reads the tracked position under the lock, so two indexers never
index an event twice. Events are read as the JSON they were stored as (validated at ingest),
not re-validated: the index needs ids and times, not the payload models. In the ingesting
process, a batch that starts at the tracked position is taken as ingest decoded it (as the
monitor takes it): its payload models' fields are the JSON's, and reading them back cost about
a quarter of the index's time.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import TypeAdapter

from domain.cases import CASE_EVENT_SOURCE, decode_case_event, is_case_topic
from domain.events import DEFAULT_SOURCE, RecordedEvent
from domain.events.envelope import recorded_after
from domain.ledger import is_catalogue_topic
from domain.ledger_storage import StoredEntry
from domain.quarantine_decisions import (
    DECISION_EVENT_SOURCE,
    DECISION_EVENT_TYPE,
    decode_dismissal,
    dismissal_audit_id,
    is_decision_topic,
)
from domain.values import STORED, Timestamp, time_in_range
from policies import system
from projections.audit.days import DayRows
from projections.audit.storage import AuditStorage, AuditWriter, EventRow, OwnerRow, SubjectRow
from projections.audit.subjects import (
    EntityKey,
    Owners,
    case_concerns,
    concerns,
    owned_references,
)
from projections.store.base import Store

INDEX_EVENTS_PER_PAGE_MAX = 5_000
OWNERS_CACHED_MAX = 200_000
ANALYZE_AFTER_EVENTS = 100_000
_TIMESTAMP = TypeAdapter(Timestamp)

log = structlog.get_logger("regledger.audit")


@dataclass(slots=True)
class IndexCatchUp:
    events: int = 0
    rows: int = 0
    position: int = 0


# One event to index: position, event id, recorded at, the catalogue event's fields (None for
# an entry of another topic) and its stored entry (None for an event ingest has just decoded).
_Item = tuple[int, str, datetime, "dict[str, Any] | None", "StoredEntry | None"]


@dataclass(slots=True)
class _Page:
    events: list[EventRow]
    subjects: list[SubjectRow]
    owners: list[OwnerRow]
    days: DayRows


class AuditIndex:
    def __init__(self, store: Store, page_size: int = INDEX_EVENTS_PER_PAGE_MAX):
        assert 0 < page_size <= INDEX_EVENTS_PER_PAGE_MAX
        self.store = store
        self.storage = AuditStorage(store)
        self.page_size = page_size
        self.position: int | None = None
        # Owners never change, so a cached answer never goes stale (even one learnt from a
        # page whose commit failed: another indexer commits the same facts).
        self._owners: OrderedDict[EntityKey, Owners] = OrderedDict()

    def catch_up(
        self,
        until: int | None = None,
        on_page: Callable[[IndexCatchUp], None] | None = None,
        recorded: Sequence[RecordedEvent] = (),
    ) -> IndexCatchUp:
        """Index every event up to ``until`` (default: the tip at each page).

        ``recorded``: events this process has just appended (an ingest batch: contiguous, in
        ledger order). Those at the tracked position are indexed as they are, without reading
        and decoding them again; anything else is read from the log."""
        if self.position is None:
            self.position = self.storage.tracked_position()
        total = IndexCatchUp(position=self.position)
        while until is None or self.position < until:
            limit = self.page_size if until is None else min(self.page_size, until - self.position)
            items = self._next_page(limit, recorded)
            if not items:
                break
            done = self._index_page(items)
            if done is None:
                continue  # another indexer got there first; go on from its position
            total.events += done.events
            total.rows += done.rows
            if on_page is not None:
                on_page(done)
        total.position = self.position
        if total.events >= ANALYZE_AFTER_EVENTS:
            # A large backlog changes the index's shape; plan the next queries on fresh
            # statistics rather than wait for the database's own schedule.
            self.storage.refresh_statistics()
        return total

    def _next_page(self, limit: int, recorded: Sequence[RecordedEvent]) -> list[_Item]:
        """The events of at most ``limit`` positions after the tracked one (none at the tip)."""
        assert self.position is not None
        taken = recorded_after(recorded, self.position, limit)
        if taken is not None:
            return [(e.position, e.envelope.event_id, e.recorded_at, _recorded_fields(e), None) for e in taken]
        return [
            (e.position, e.event_id, e.recorded_at, _catalogue_fields(e), e)
            for e in self.store.read_entries(self.position, limit)
        ]

    def _index_page(self, entries: list[_Item]) -> IndexCatchUp | None:
        last = entries[-1][0]
        with self.storage.writer() as writer:
            tracked = writer.tracked_position()
            if tracked != self.position:
                self.position = tracked
                return None
            page = self._rows(entries, writer)
            writer.record(page.events, page.subjects, page.owners, last, page.days)
        self.position = last
        self._trim()
        log.debug("audit_page_indexed", events=len(entries), rows=len(page.subjects), position=last)
        return IndexCatchUp(len(entries), len(page.subjects), last)

    # -- one page ------------------------------------------------------------------------
    def _rows(self, items: list[_Item], writer: AuditWriter) -> _Page:
        page = _Page([], [], [], DayRows())
        self._prefetch_owners(
            (key for _, _, _, fields, _ in items if fields is not None
             for key in owned_references(fields["type"], fields["data"])),
            writer,
        )
        for position, event_id, recorded_at, fields, entry in items:
            if fields is not None:
                row, subjects = self._catalogue_row(position, event_id, recorded_at, fields, page)
            elif entry is None:  # never: only a stored entry is of another topic
                continue
            elif is_case_topic(entry.type):
                fact = decode_case_event(entry.type, entry.state)
                row = (
                    entry.position, case_action_id(fact.finding_id, entry.position), fact.type,
                    CASE_EVENT_SOURCE, fact.at, entry.recorded_at,
                )
                subjects = case_concerns(fact)
            elif is_decision_topic(entry.type):  # filed under its entry (Q-000017) and its actor
                dismissal = decode_dismissal(entry.state)
                row = (
                    entry.position, dismissal_audit_id(dismissal["entry"], entry.position), DECISION_EVENT_TYPE,
                    DECISION_EVENT_SOURCE, dismissal["at"], entry.recorded_at,
                )
                subjects = {dismissal["entry"], dismissal["actor"]}
            else:
                continue  # an entry this index does not know: not an audit subject
            page.events.append(row)
            page.subjects.extend((s, position) for s in sorted(subjects))
        return page

    def _catalogue_row(
        self, position: int, event_id: str, recorded_at: datetime, fields: dict[str, Any], page: _Page
    ) -> tuple[EventRow, set[str] | frozenset[str]]:
        """An upstream event's row and subjects. One this index cannot take whole (stored by
        an earlier version: a time outside events.md's range, which does not even convert to
        UTC, or data its subjects cannot be read from) is still indexed, under the time the
        ledger recorded it and what subjects could be read, and logged: the index goes on."""
        occurred_at = fields["occurred_at"]
        page.days.add(position, fields["type"], occurred_at, fields["data"])
        if not time_in_range(occurred_at):
            log.error("audit_event_time_unusable", position=position,
                      event_id=event_id, occurred_at=occurred_at.isoformat())
            occurred_at = recorded_at
        try:
            found = concerns(fields["type"], fields["data"], self._owners_of)
        except Exception as error:  # a defect on one event must not stop the index for good
            log.error("audit_event_unindexable", position=position,
                      event_id=event_id, reason=system.reason_of(error))
            subjects: set[str] | frozenset[str] = frozenset()
        else:
            for key, owners in found.created.items():
                self._owners[key] = owners
                page.owners.append((*key, owners))
            subjects = found.subjects
        row: EventRow = (position, event_id, fields["type"], fields["source"], occurred_at, recorded_at)
        return row, subjects

    def _prefetch_owners(self, keys: Iterable[EntityKey], writer: AuditWriter) -> None:
        missing = {key for key in keys if key not in self._owners}
        if missing:
            self._owners.update(writer.load_owners(missing))

    def _owners_of(self, key: EntityKey) -> Owners:
        owners = self._owners.get(key)
        if owners is None:
            return ()  # created before the index existed? Never: the index starts at 0
        self._owners.move_to_end(key)
        return owners

    def _trim(self) -> None:
        while len(self._owners) > OWNERS_CACHED_MAX:
            self._owners.popitem(last=False)


def parse_instant(text: str) -> datetime:
    """A stored envelope's timestamp (validated at ingest), read as the ledger reads it."""
    return _TIMESTAMP.validate_python(text, context=STORED)


def case_action_id(finding_id: str, position: int) -> str:
    """How the audit trail names a case action: case actions have no upstream event id, and
    a ledger position never changes."""
    return f"case:{finding_id}:{position}"


def _catalogue_fields(entry: StoredEntry) -> dict[str, Any] | None:
    if not is_catalogue_topic(entry.type):
        return None
    envelope = json.loads(entry.state)
    return {
        "type": envelope["type"],
        "source": envelope.get("source", DEFAULT_SOURCE),
        "occurred_at": parse_instant(envelope["occurred_at"]),
        "data": envelope["data"],
    }



def _recorded_fields(event: RecordedEvent) -> dict[str, Any]:
    """``_catalogue_fields`` of an event ingest has just decoded: the payload model's fields
    are the JSON's (every field the index reads is a plain string, or an optional one that is
    None when the JSON leaves it out; ``tests/audit`` holds the two ways equal)."""
    envelope = event.envelope
    return {
        "type": envelope.type,
        "source": envelope.source,
        "occurred_at": envelope.occurred_at,
        "data": envelope.data.__dict__,
    }

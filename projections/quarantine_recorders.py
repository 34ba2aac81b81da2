"""The store's ledger recorder for quarantine dismissals: the ledger event and its
``dismissed`` link row commit in one transaction, or neither does (``domain.quarantine_decisions``).

Locks are taken in the order every writer takes them: the ledger's, then the links'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from domain.errors import InvalidRequest, NotFound
from domain.quarantine import DISMISSED, entry_label, status_of
from domain.quarantine_decisions import Dismissal
from projections.store import quarantine_log
from projections.store.base import Store
from projections.store.cursors import Cursor
from projections.store.portable import SqlStore
from projections.store.quarantine_log import LINKS


def link_dismissal(c: Cursor, dismissal: Dismissal, events: Sequence[StoredEvent]) -> None:
    """The ``dismissed`` link naming the event just appended; refused (rolling the event back
    with it) when the line is unknown or settled already."""
    c.lock(LINKS)
    label = entry_label(dismissal.quarantine_id)
    if quarantine_log.record(c, dismissal.quarantine_id) is None:
        raise NotFound(f"no quarantined line {label}")
    status, settled = status_of(quarantine_log.links_between(c, dismissal.quarantine_id, dismissal.quarantine_id))
    if settled is not None:
        raise InvalidRequest(f"quarantined line {label} was already {status}")
    [event] = events
    quarantine_log.append_link(c, dismissal.quarantine_id, DISMISSED, actor=dismissal.actor,
                               recorded_at=dismissal.at, event_id=str(event.originator_id), reason=dismissal.reason)


def _link_dismissal(c: Cursor, events: Sequence[StoredEvent], options: Mapping[str, Any]) -> None:
    link_dismissal(c, options["dismissal"], events)


def decision_recorder(store: Store) -> ApplicationRecorder:
    assert isinstance(store, SqlStore), f"unknown store {store!r}"
    recorder: ApplicationRecorder = store.ledger_recorder(also=_link_dismissal)
    return recorder

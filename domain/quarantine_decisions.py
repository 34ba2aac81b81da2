"""An officer's dismissal of a quarantined line, as an event on the ledger.

The quarantine's own chain is not covered by the ledger's signed digests, so a dismissal is
also appended to the ledger (as a case action is, ``domain.cases``): one aggregate per
quarantined line, created by its dismissal, whose id derives from the line's id. The event
names the line, the hash of its quarantine row (so the signed ledger vouches for what was
dismissed), the actor, the reason and the time; the ``dismissed`` link row written in the same
transaction names the event (``event_id`` is the aggregate's id). Readers of the catalogue's
events skip it (``domain.ledger.is_catalogue_topic``), as they skip case actions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from domain.cases.codec import TRANSCODER
from domain.errors import InvalidRequest
from domain.quarantine import entry_label

DECISION_NAMESPACE = uuid.UUID("0b7c4f5e-9a1d-5c3e-8f21-71756172616e")  # fixed forever: ids derive from it
DISMISSED_TOPIC = "domain.quarantine_decisions:QuarantineDecision.Dismissed"
DECISION_EVENT_TYPE = "QuarantineLineDismissed"  # how the audit trail names it
DECISION_EVENT_SOURCE = "regledger-quarantine"


def decision_id(quarantine_id: int) -> UUID:
    return uuid.uuid5(DECISION_NAMESPACE, f"quarantine:{quarantine_id}")


def is_decision_topic(topic: str) -> bool:
    return topic == DISMISSED_TOPIC


@dataclass(frozen=True, slots=True)
class Dismissal:
    """What the recorder writes as the ``dismissed`` link, in the event's transaction."""

    quarantine_id: int
    actor: str
    reason: str
    at: datetime


class QuarantineDecision(Aggregate):
    class Dismissed(Aggregate.Created):
        quarantine_id: int
        entry: str
        row_hash: str  # hex SHA-256 chain hash of the quarantine row dismissed
        actor: str
        reason: str
        at: datetime

    def __init__(self, quarantine_id: int, entry: str, row_hash: str, actor: str, reason: str, at: datetime):
        self.quarantine_id = quarantine_id
        self.entry = entry
        self.row_hash = row_hash
        self.actor = actor
        self.reason = reason

    @classmethod
    def dismiss(cls, quarantine_id: int, row_hash: bytes, actor: str, reason: str, at: datetime) -> QuarantineDecision:
        return cls._create(
            cls.Dismissed, id=decision_id(quarantine_id), timestamp=at, quarantine_id=quarantine_id,
            entry=entry_label(quarantine_id), row_hash=row_hash.hex(), actor=actor, reason=reason, at=at,
        )


def decode_dismissal(state: bytes) -> dict[str, Any]:
    """A stored dismissal's fields (quarantine_id, entry, row_hash, actor, reason, at)."""
    fields: dict[str, Any] = TRANSCODER.decode(state)
    return {k: fields[k] for k in ("quarantine_id", "entry", "row_hash", "actor", "reason", "at")}


def dismissal_audit_id(entry: str, position: int) -> str:
    """How the audit trail names a dismissal: it has no upstream event id; its entry and ledger
    position never change."""
    return f"quarantine:{entry}:{position}"


class QuarantineDecisions(Application[UUID]):
    name = "quarantine"
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "n"}

    def __init__(self, recorder: ApplicationRecorder):
        self._store_recorder = recorder
        super().__init__()

    def construct_recorder(self) -> ApplicationRecorder:
        return self._store_recorder

    def dismiss(self, quarantine_id: int, row_hash: bytes, actor: str, reason: str, at: datetime) -> UUID:
        """Append the dismissal to the ledger and its link row to the quarantine, together;
        the recorder refuses (``InvalidRequest``) a line already settled."""
        decision = QuarantineDecision.dismiss(quarantine_id, row_hash, actor, reason, at)
        try:
            self.save(decision, dismissal=Dismissal(quarantine_id, actor, reason, at), recorded_at=at)
        except IntegrityError:
            raise InvalidRequest(f"quarantined line {entry_label(quarantine_id)} was already dismissed") from None
        return decision.id

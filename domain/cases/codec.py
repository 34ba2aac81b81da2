"""Reading a stored case action back: its type, finding, actor, time and details.

Used by readers of the ledger that show case actions beside upstream facts (the audit trail).
The state is eventsourcing's JSON transcoding, read with the same transcodings as saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

CASE_TOPIC_PREFIX = "domain.cases.case:Case."
CASE_EVENT_SOURCE = "regledger-cases"
# ``class_version`` is eventsourcing's upcasting mark; ``actor_source`` (v2) has its own field.
_BASE_FIELDS = ("originator_topic", "timestamp", "finding_id", "actor", "at", "actor_source", "class_version")


@dataclass(frozen=True, slots=True)
class CaseFact:
    type: str  # "CaseAcknowledged", ...
    finding_id: str
    actor: str
    at: datetime
    details: dict[str, Any]  # the action's own fields (assignee, code, note, text ...)
    actor_source: str | None = None  # token, console-session, cli-setting; None: not recorded (v1)


def is_case_topic(topic: str) -> bool:
    return topic.startswith(CASE_TOPIC_PREFIX)


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


_TRANSCODER = _transcoder()
TRANSCODER = _TRANSCODER  # for the other aggregates on the ledger (domain.quarantine_decisions)


def decode_case_event(topic: str, state: bytes) -> CaseFact:
    assert is_case_topic(topic), f"not a case action: {topic}"
    fields: dict[str, Any] = _TRANSCODER.decode(state)
    details = {k: v for k, v in fields.items() if k not in _BASE_FIELDS and v is not None}
    return CaseFact(
        "Case" + topic.removeprefix(CASE_TOPIC_PREFIX), fields["finding_id"], fields["actor"],
        fields["at"], details, fields.get("actor_source"),
    )

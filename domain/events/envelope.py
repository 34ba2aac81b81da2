"""The envelope every event travels in, and the ledger's record of an accepted one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, SerializeAsAny, model_validator

from domain.events.catalogue import EVENT_TYPES, EventType
from domain.events.payload import Payload
from domain.speedups import quick_init
from domain.values import Id, Source, Timestamp, invalid

DEFAULT_SOURCE = "unknown"


class EnvelopeHead(BaseModel):
    """The envelope's own fields: judged alone when the payload cannot be validated."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    event_id: Id
    type: EventType
    occurred_at: Timestamp
    source: Source = DEFAULT_SOURCE


class Envelope(EnvelopeHead):
    """One event as upstream sent it: ``data`` is the payload model named by ``type``.

    Build one from JSON with ``parse_event`` or ``parse_line``; validating an ``Envelope``
    directly takes ``data`` as an instance of the payload model.
    """

    data: SerializeAsAny[Payload]

    @model_validator(mode="after")
    def check_data_fits_type(self) -> Self:
        if not isinstance(self.data, EVENT_TYPES[self.type]):
            raise invalid(f"must be a {self.type} payload")
        return self


@quick_init  # built for every event appended
@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An accepted event as the ledger stored it."""

    position: int
    recorded_at: datetime
    envelope: Envelope


def canonical_content(obj: dict[str, Any]) -> bytes:
    """The bytes that decide whether a resubmitted ``event_id`` is a duplicate or a conflict.

    Key order and whitespace never make two events differ; an absent ``source`` is the same
    as its default. Values are compared as JSON values, so ``"10"`` and ``10`` differ.
    """
    content = {"source": DEFAULT_SOURCE, **obj}
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def recorded_after(recorded: Sequence[RecordedEvent], position: int, limit: int) -> list[RecordedEvent] | None:
    """At most ``limit`` of ``recorded`` (events just appended: contiguous, in ledger order)
    from ``position + 1`` on; None when they do not start there or are not contiguous, so
    the caller reads the log instead. The monitor and the audit index take an ingest batch so."""
    if recorded and recorded[-1].position - recorded[0].position == len(recorded) - 1:
        offset = position + 1 - recorded[0].position
        if 0 <= offset < len(recorded):
            return list(recorded[offset : offset + limit])
    return None

"""Step 2 of a batch, admission: inside the write transaction, duplicates and conflicts are
decided against what is stored, and each new event is checked by the registry. Also the same
decision for one proposed event, without storing or caching anything (``check``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from domain.errors import EventRejected, Reason
from domain.events import Envelope, canonical_content, parse_line
from domain.ledger.parse import Parsed, Verdicts
from domain.ledger_storage import LedgerWriter
from domain.registry import Registry


def conflict(event_id: str) -> Reason:
    return Reason("event_id", f"{event_id!r} is already stored with different content (conflict)")


def admit(registry: Registry, writer: LedgerWriter, parsed: Sequence[Parsed], verdicts: Verdicts) -> list[Parsed]:
    """The parsed events to append, in input order. An ``event_id`` already stored or
    accepted earlier in the batch is a duplicate (same content) or a conflict; a new event is
    accepted when the registry accepts it."""
    stored = writer.existing({p.envelope.event_id for p in parsed})
    registry.prefetch(
        {key for p in parsed if p.envelope.event_id not in stored for key in registry.references(p.envelope)}
    )
    accepted: dict[str, Parsed] = {}
    for p in parsed:
        event_id = p.envelope.event_id
        if event_id in stored or event_id in accepted:
            earlier = accepted.get(event_id)
            known = earlier.content if earlier is not None else canonical_content(json.loads(stored[event_id]))
            if known == p.content:
                verdicts.duplicate(p.line)
            else:
                verdicts.reject(p.line, event_id, (conflict(event_id),))
            continue
        try:
            registry.accept(p.envelope)
        except EventRejected as e:
            verdicts.reject(p.line, event_id, e.reasons)
            continue
        accepted[event_id] = p
    return list(accepted.values())


def check(
    raw: bytes,
    parameter_catalogue: Mapping[str, Mapping[str, Any]],
    load_entities: Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]],
    stored_states: Callable[[Collection[str]], Mapping[str, bytes]],
) -> Envelope | None:
    """Validate a proposed event as ingest would, without storing or caching anything.
    Returns None for an exact duplicate of a stored event (which raises nothing)."""
    envelope, obj = parse_line(raw)
    stored = stored_states([envelope.event_id]).get(envelope.event_id)
    if stored is not None:
        if canonical_content(json.loads(stored)) == canonical_content(obj):
            return None
        raise EventRejected((conflict(envelope.event_id),), envelope.event_id)
    registry = Registry(load_entities, parameter_catalogue)
    registry.prefetch(registry.references(envelope))
    registry.check(envelope)
    return envelope

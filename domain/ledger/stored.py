"""Reading the stored log: which rows are catalogue events, and one row decoded."""

from __future__ import annotations

from domain.events import EVENT_TYPES, RecordedEvent, parse_line
from domain.ledger_storage import StoredEntry


def is_catalogue_topic(topic: str) -> bool:
    """True for an upstream fact of the catalogue. The ledger table also holds the officers'
    case actions (eventsourcing aggregate events of ``domain.cases``), which readers of the
    catalogue's events must skip."""
    return topic in EVENT_TYPES


def decode_entry(entry: StoredEntry) -> RecordedEvent:
    assert is_catalogue_topic(entry.type), f"not a catalogue event: {entry.type}"
    envelope, _ = parse_line(entry.state, stored=True)
    return RecordedEvent(position=entry.position, recorded_at=entry.recorded_at, envelope=envelope)

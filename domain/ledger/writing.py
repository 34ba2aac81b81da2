"""Step 3 of a batch, writing: the accepted events, the registry's changed records and the
quarantined lines are appended in the admission's transaction, so they commit together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.events import RecordedEvent
from domain.ledger.parse import Parsed, Verdicts
from domain.ledger_storage import LedgerWriter, NewEntry
from domain.registry import Registry


def write(
    writer: LedgerWriter, registry: Registry, accepted: Sequence[Parsed], verdicts: Verdicts, now: datetime
) -> tuple[RecordedEvent, ...]:
    """Append what was decided, all recorded at ``now``; the events as recorded."""
    rows = writer.append([NewEntry(p.envelope.event_id, p.envelope.type, p.line.raw) for p in accepted], now)
    writer.save_entities(registry.drain_changes())
    writer.quarantine(verdicts.quarantined, now)
    verdicts.summary.accepted = len(rows)
    verdicts.summary.last_position = writer.tip.position
    return tuple(
        RecordedEvent(row.position, row.recorded_at, p.envelope) for row, p in zip(rows, accepted, strict=True)
    )

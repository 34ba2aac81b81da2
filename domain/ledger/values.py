"""The ledger's value types: a line of input, a rejection, what ingest decided (the summary)
and an admitted batch; and the ledger's bounds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Reason
from domain.events import RecordedEvent

EVENTS_PER_BATCH_MAX = 5_000
REGISTRY_RECORDS_MAX = 200_000

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class InputLine:
    """One line of input: where it came from, its 1-based number, its bytes."""

    origin: str
    line_no: int | None
    raw: bytes
    refusal: str | None = None  # set when the reader refused the line before parsing


@dataclass(frozen=True, slots=True)
class Rejection:
    origin: str
    line_no: int | None
    event_id: str | None
    reasons: tuple[Reason, ...]


@dataclass(slots=True)
class IngestSummary:
    """What ingest decided, line by line: the counts and the rejections."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    duplicate_lines: list[int | None] = field(default_factory=list)
    last_position: int = 0

    def add(self, other: IngestSummary) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)
        self.duplicate_lines.extend(other.duplicate_lines)
        self.last_position = max(self.last_position, other.last_position)


@dataclass(frozen=True, slots=True)
class AdmittedBatch:
    """One batch as written (committed): what was decided, and the events it recorded, in
    ledger order and contiguous, for a projection in the same process to take without
    reading them back."""

    summary: IngestSummary
    recorded: tuple[RecordedEvent, ...]

    @property
    def last_position(self) -> int:
        return self.summary.last_position

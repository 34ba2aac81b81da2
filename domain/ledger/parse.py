"""Step 1 of a batch, parsing: outside the lock, every line becomes an envelope or a
rejection. Also the batch's running decisions (``Verdicts``), which the later steps add to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import EventRejected, Reason
from domain.events import Envelope, canonical_content, parse_line
from domain.ledger.values import IngestSummary, InputLine, Rejection
from domain.ledger_storage import QuarantinedLine


@dataclass(slots=True)
class Parsed:
    """A line that parsed: its envelope and the JSON object as sent."""

    line: InputLine
    envelope: Envelope
    raw: dict[str, Any]

    @property
    def content(self) -> bytes:
        # Only needed when an event_id is seen twice, so computed on demand.
        return canonical_content(self.raw)


@dataclass(slots=True)
class Verdicts:
    """A batch's decisions so far: the summary, and the rejected lines to quarantine."""

    summary: IngestSummary = field(default_factory=IngestSummary)
    quarantined: list[QuarantinedLine] = field(default_factory=list)

    def reject(self, line: InputLine, event_id: str | None, reasons: Sequence[Reason]) -> None:
        self.summary.rejected += 1
        self.summary.rejections.append(Rejection(line.origin, line.line_no, event_id, tuple(reasons)))
        self.quarantined.append(
            QuarantinedLine(line.origin, line.line_no, event_id, reasons_json(reasons), line.raw)
        )

    def duplicate(self, line: InputLine) -> None:
        self.summary.duplicates += 1
        self.summary.duplicate_lines.append(line.line_no)


def reasons_json(reasons: Sequence[Reason]) -> str:
    return json.dumps([{"field": r.field, "reason": r.reason} for r in reasons])


def batches(lines: Iterable[InputLine], batch_size: int) -> Iterator[list[InputLine]]:
    """``lines`` in lists of ``batch_size`` (the last one shorter)."""
    batch: list[InputLine] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def parse(batch: Sequence[InputLine], verdicts: Verdicts) -> list[Parsed]:
    """Each line's envelope; a line refused by its reader or not an event of the catalogue
    is rejected."""
    parsed: list[Parsed] = []
    for line in batch:
        if line.refusal is not None:
            verdicts.reject(line, None, (Reason("line", line.refusal),))
            continue
        try:
            envelope, raw = parse_line(line.raw)
        except EventRejected as e:
            verdicts.reject(line, e.event_id, e.reasons)
            continue
        parsed.append(Parsed(line, envelope, raw))
    return parsed

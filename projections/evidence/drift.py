"""Projection drift: the monitor rebuilt from the log, compared with the live one.

The rebuild processes exactly the events the live monitor has tracked, so a monitor that is
merely behind is not drift. Findings are compared field by field in detection order, the
state as a hash of every record (``MonitorEngine.state_digest``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidRequest
from domain.ledger import decode_entry, is_catalogue_topic
from projections.evidence.replay import recorded_findings
from projections.monitor.engine import MonitorEngine
from projections.monitor.runner import finding_row
from projections.store.base import FindingRow, Store

READ_ATTEMPTS_MAX = 5
EVENTS_PER_PAGE_MAX = 5_000
COMPARED = (
    "finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at",
    "position", "message", "parameters", "evidence",
)


@dataclass(frozen=True, slots=True)
class Drift:
    position: int  # the live monitor's tracked position, where both were compared
    findings: int  # live findings compared
    difference: str | None  # the first finding that differs
    live_state: str
    rebuilt_state: str

    @property
    def intact(self) -> bool:
        return self.difference is None and self.live_state == self.rebuilt_state


def state_digest(records: Iterable[tuple[str, str, str]]) -> str:
    """The hash ``MonitorEngine.state_digest`` computes, over records read from a store."""
    digest = hashlib.sha256()
    for kind, key, text in records:
        digest.update(f"{kind}\x1f{key}\x1f{text}\x1e".encode())
    return digest.hexdigest()


def _live(store: Store) -> tuple[int, list[FindingRow], str]:
    """The tracked position with the findings and state of exactly that position."""
    for _ in range(READ_ATTEMPTS_MAX):
        before = store.tracked_position()
        rows = list(recorded_findings(store))
        state = state_digest(store.monitor_records())
        if store.tracked_position() == before:
            return before, rows, state
    raise InvalidRequest("the live monitor kept advancing while it was being compared: try again")


def _first_difference(live: list[FindingRow], rebuilt: list[Mapping[str, Any]]) -> str | None:
    for index, (row, fresh) in enumerate(zip(live, rebuilt, strict=False), 1):
        for name in COMPARED:
            if getattr(row, name) != fresh[name]:
                return (
                    f"finding {index} ({row.finding_id}) differs in {name}: live"
                    f" {getattr(row, name)!r}, rebuilt {fresh[name]!r}"
                )
    if len(live) != len(rebuilt):
        extra = live[len(rebuilt)] if len(live) > len(rebuilt) else None
        what = f"live has {extra.finding_id} beyond them" if extra else f"rebuilt has {rebuilt[len(live)]['finding_id']} beyond them"
        return f"the live monitor has {len(live)} findings, the rebuilt one {len(rebuilt)}: {what}"
    return None


def check_projections(store: Store) -> Drift:
    position, live, live_state = _live(store)
    engine = MonitorEngine()
    rebuilt: list[Mapping[str, Any]] = []
    after = 0
    while after < position:
        entries = store.read_entries(after, min(EVENTS_PER_PAGE_MAX, position - after))
        if not entries:
            break
        for entry in entries:
            if is_catalogue_topic(entry.type):
                rebuilt.extend(finding_row(f) for f in engine.process(decode_entry(entry)))
        after = entries[-1].position
    return Drift(position, len(live), _first_difference(live, rebuilt), live_state, engine.state_digest())

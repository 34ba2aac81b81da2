"""Projection drift: the monitor rebuilt from the log, compared with the live one.

The rebuild processes exactly the events the live monitor has tracked, so a monitor that is
merely behind is not drift. Findings are compared field by field in detection order, the
state as a hash of every record (``MonitorEngine.state_digest``). The snapshots the monitor
kept at Hong Kong midnights (which the nightly report starts from) are checked too: each one's
stored records must hash to its digest, and that digest must be the rebuilt state's at its
position.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidRequest
from domain.ledger import decode_entry, is_catalogue_topic
from projections.evidence.replay import recorded_findings
from projections.monitor.engine import MonitorEngine
from projections.monitor.runner import finding_row
from projections.sql import Sql
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
    snapshots: int = 0  # midnight snapshots checked
    snapshot_difference: str | None = None  # the first snapshot that is not the rebuilt state

    @property
    def intact(self) -> bool:
        return self.difference is None and self.live_state == self.rebuilt_state and self.snapshot_difference is None


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


def _snapshots(store: Store, position: int) -> list[tuple[int, bytes, str]]:
    return [
        (r[0], Sql(store).blob(r[1]), r[2]) for r in Sql(store).rows(
            "SELECT position, records, state_digest FROM monitor_snapshots WHERE position <= ? ORDER BY position",
            (position,),
        )
    ]


def _snapshot_difference(at: int, blob: bytes, digest: str, rebuilt: str) -> str | None:
    try:
        stored = state_digest((kind, key, text) for kind, key, text in json.loads(zlib.decompress(blob)))
    except (zlib.error, ValueError) as e:
        return f"the snapshot at position {at} does not decode: {e}"
    if stored != digest:
        return f"the snapshot at position {at} does not hash to its recorded digest"
    if digest != rebuilt:
        return f"the snapshot at position {at} is not the rebuilt state at that position"
    return None


def check_projections(store: Store) -> Drift:
    position, live, live_state = _live(store)
    kept = _snapshots(store, position)
    pending = iter(kept)
    due = next(pending, None)
    snapshot_difference: str | None = None
    engine = MonitorEngine()
    rebuilt: list[Mapping[str, Any]] = []
    after = 0
    while after < position:
        entries = store.read_entries(after, min(EVENTS_PER_PAGE_MAX, position - after))
        if not entries:
            break
        for entry in entries:
            while due is not None and due[0] < entry.position:  # the state after due[0]
                snapshot_difference = snapshot_difference or _snapshot_difference(*due, engine.state_digest())
                due = next(pending, None)
            if is_catalogue_topic(entry.type):
                rebuilt.extend(finding_row(f) for f in engine.process(decode_entry(entry)))
        after = entries[-1].position
    rebuilt_state = engine.state_digest()
    while due is not None:  # at the live position itself
        snapshot_difference = snapshot_difference or _snapshot_difference(*due, rebuilt_state)
        due = next(pending, None)
    return Drift(
        position, len(live), _first_difference(live, rebuilt), live_state, rebuilt_state,
        len(kept), snapshot_difference,
    )

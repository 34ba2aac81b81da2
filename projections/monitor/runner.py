"""Runs the monitor engine over the ledger with exactly-once tracking.

The runner pulls the log in bounded pages (eventsourcing 9.5's SQLite store has no
subscriptions, so pulling is the one mechanism that works on both stores); in the ingesting
process, a batch that starts at the tracked position is taken as ingest decoded it. Each page's
findings, the engine's changed state records and the tracking position commit in one
transaction; the tracking insert refuses to go backwards, and the writer re-reads the
tracked position under lock, so two monitors never record the same event twice. When the
commit fails or another monitor got there first, the in-memory engine is discarded and
restored from the persisted records: nothing is lost or doubled. At each Hong Kong midnight
the state is also kept whole, in the same transaction (``projections.monitor.snapshots``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from domain.events import Envelope, RecordedEvent
from domain.events.envelope import recorded_after
from domain.ledger import decode_admitted, is_catalogue_topic
from domain.values import time_in_range
from policies import system
from policies.finding import Finding
from projections.monitor import snapshots
from projections.monitor.engine import MonitorEngine
from projections.monitor.snapshots import MidnightWatch
from projections.store.base import Store

EVENTS_PER_PAGE_MAX = 2_000
MARK_SEARCH_EVENTS = 100  # rows read to find the event that set the midnight watch's mark
RESTORE_ATTEMPTS_MAX = 5

log = structlog.get_logger("regledger.monitor")


# Built once: ``json.dumps`` with options builds an encoder per call.
_PARAMETERS_JSON = json.JSONEncoder(sort_keys=True)
_EVIDENCE_JSON = json.JSONEncoder(sort_keys=True, default=str)


def finding_row(finding: Finding) -> Mapping[str, Any]:
    return {
        "finding_id": finding.finding_id,
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "event_id": finding.event_id,
        "subject": finding.subject,
        "occurred_at": finding.occurred_at,
        "detected_at": finding.detected_at,
        "position": finding.position,
        "message": finding.message,
        "parameters": _PARAMETERS_JSON.encode(finding.parameters),
        "evidence": _EVIDENCE_JSON.encode(finding.evidence),
    }


@dataclass(slots=True)
class CatchUp:
    events: int = 0
    findings: int = 0
    position: int = 0


class MonitorRunner:
    def __init__(
        self,
        store: Store,
        page_size: int = EVENTS_PER_PAGE_MAX,
        engine_factory: Callable[[], MonitorEngine] = MonitorEngine,
    ):
        assert 0 < page_size <= EVENTS_PER_PAGE_MAX
        self.store = store
        self.page_size = page_size
        self.engine_factory = engine_factory
        self.engine: MonitorEngine | None = None
        self.position = 0
        self._midnights = MidnightWatch(None)

    def restore(self) -> None:
        """Load the persisted state; the tracked position is read before and after, so the
        records belong to exactly that position."""
        for _ in range(RESTORE_ATTEMPTS_MAX):
            before = self.store.tracked_position()
            records = list(self.store.monitor_records())
            if self.store.tracked_position() == before:
                self.engine = (
                    MonitorEngine.restore(records) if records else self.engine_factory()
                )
                self.position = before
                self._midnights = MidnightWatch(self._midnight_mark())
                return
        raise RuntimeError("the monitor state kept changing while it was being read")

    def catch_up(
        self,
        until: int | None = None,
        on_page: Callable[[CatchUp], None] | None = None,
        recorded: Sequence[RecordedEvent] = (),
    ) -> CatchUp:
        """Process every event up to ``until`` (default: the tip at each page).

        ``recorded``: events this process has just appended (an ingest batch: contiguous, in
        ledger order). Those at the tracked position are processed as they are, without
        reading and decoding them again; anything else is read from the log."""
        total = CatchUp(position=self.position)
        if self.engine is None:
            self.restore()
        while until is None or self.position < until:
            limit = self.page_size if until is None else min(self.page_size, until - self.position)
            events, last = self._next_page(limit, recorded)
            if last is None:
                break
            page = self._process_page(events, last)
            if page is None:
                continue  # another monitor advanced; restored, go on from there
            total.events += page.events
            total.findings += page.findings
            total.position = self.position
            if on_page is not None:
                on_page(page)
        total.position = self.position
        return total

    def preview(self, envelope: Envelope) -> list[Finding]:
        """The findings ``envelope`` would raise if it were appended now. Writes nothing: the
        events the persisted state has not seen yet are applied in memory only."""
        self.restore()
        engine = self.engine
        assert engine is not None
        while True:
            entries = self.store.read_entries(self.position, self.page_size)
            if not entries:
                break
            for entry in entries:
                if is_catalogue_topic(entry.type):  # case actions change no monitor state
                    engine.process(decode_admitted(entry))
            self.position = entries[-1].position
        findings = engine.preview(envelope, self.position + 1)
        self.engine = None  # its state is ahead of the persisted records now
        return findings

    def _midnight_mark(self) -> datetime | None:
        """The business time that set the midnight watch's mark, as a run from the start of
        the log would have it: the event just after the newest snapshot (the first past the
        midnight it was taken at; no later event crossed one, or a newer snapshot would
        exist), or, with no snapshot yet, the first event. The latest event would not do: a
        late one would lower the mark, and a restart just after it would take a snapshot no
        continuous run takes, so the snapshots would differ from their rebuild (issue 17)."""
        if self.position == 0:
            return None
        snapshot = self.store.monitor_snapshot(self.position)
        after = 0 if snapshot is None else snapshot.position
        entries = self.store.read_entries(after, min(MARK_SEARCH_EVENTS, self.position - after))
        for entry in entries:  # case actions have no business time
            if is_catalogue_topic(entry.type):
                occurred_at = decode_admitted(entry).envelope.occurred_at
                if time_in_range(occurred_at):  # as ``MidnightWatch.crosses`` passes others by
                    return occurred_at
        return None

    def _next_page(
        self, limit: int, recorded: Sequence[RecordedEvent]
    ) -> tuple[list[RecordedEvent], int | None]:
        """The events of at most ``limit`` positions after the tracked one, and the last
        position they cover (None at the tip)."""
        page = recorded_after(recorded, self.position, limit)
        if page is not None:
            return page, page[-1].position
        entries = self.store.read_entries(self.position, limit)
        if not entries:
            return [], None
        # Case actions share the ledger table; they change no monitor state. The catalogue
        # events are the ledger's own rows, validated when admitted: rebuilt, not validated again.
        events = [decode_admitted(e) for e in entries if is_catalogue_topic(e.type)]
        return events, entries[-1].position

    def _process_page(self, events: list[RecordedEvent], last: int) -> CatchUp | None:
        engine = self.engine
        assert engine is not None
        findings: list[Finding] = []
        covered = last - self.position
        kept: list[snapshots.Snapshot] = []
        try:
            for event in events:
                if self._midnights.crosses(event.envelope.occurred_at) and event.position > 1:
                    kept.append(snapshots.take(engine, event.position - 1))
                findings.extend(engine.process(event))
            changes = engine.drain_changes()
            with self.store.monitor_writer() as writer:
                if writer.tracked_position() != self.position:
                    raise _Overtaken
                writer.record([finding_row(f) for f in findings], changes, last)
                writer.add_snapshots(kept, snapshots.SNAPSHOTS_KEPT)
        except _Overtaken:
            self.engine = None
            self.restore()
            return None
        except BaseException:
            self.engine = None
            raise
        self.position = last
        for f in findings:
            if f.rule_id == system.RULE_ID:
                log.error(
                    "event_unevaluable", position=f.position, event_id=f.event_id,
                    finding_id=f.finding_id, reason=f.evidence.get("reason"),
                )
            log.info(
                "finding_recorded", rule_id=f.rule_id, severity=f.severity,
                subject=f.subject, event_id=f.event_id, finding_id=f.finding_id,
            )
        return CatchUp(events=covered, findings=len(findings), position=last)


class _Overtaken(Exception):
    """Another monitor recorded these events first."""

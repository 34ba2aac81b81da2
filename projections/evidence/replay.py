"""What-if replay: the monitor rebuilt from the log in memory, as of a business time, as the
ledger knew it at a recorded time, under amended parameters.

The scratch store is an in-memory ``MonitorEngine``; nothing is written. Events are processed
in ledger order, exactly as the live monitor does, so with no window and no overrides a replay
gives exactly the recorded findings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.events import EVENT_TYPES, RecordedEvent
from policies.finding import Finding
from projections.asof import LeftOut
from projections.asof import replay as replay_as_of
from projections.monitor.engine import MonitorEngine
from projections.monitor.runner import finding_row
from projections.sql import Sql
from projections.store.base import FindingFilter, FindingRow, Store

RECORDED_FINDINGS_PER_PAGE_MAX = 10_000
SELECT_KNOWN_UNTIL = "SELECT MAX(notification_id) FROM ledger_events WHERE recorded_at <= ?"

Overrides = Mapping[tuple[str, str], object]


@dataclass(frozen=True, slots=True)
class ReplayWindow:
    """``as_of`` keeps events whose ``occurred_at`` <= it, in ledger order (a late event counts
    where it was recorded), and leaves out the events that refer to what a left-out event
    created (``projections.asof``'s reading, shared so that replayed findings and as-of state
    agree); ``known_at`` keeps the events recorded at or before it."""

    as_of: datetime | None = None
    known_at: datetime | None = None


class _Recording(MonitorEngine):
    """The engine, keeping the findings and the positions of the events it processed."""

    def __init__(self, overrides: Overrides) -> None:
        super().__init__(overrides)
        self.findings: list[Finding] = []
        self.included = bytearray()  # [position] == 1: processed

    def process(self, event: RecordedEvent) -> list[Finding]:
        found = super().process(event)
        if found:
            self.findings.extend(found)
        included = self.included
        if len(included) < event.position:  # skipped positions (left out, case actions)
            included.extend(bytes(event.position - len(included)))
        if len(included) == event.position:  # the next position: the usual case
            included.append(1)
        else:
            included[event.position] = 1
        return found


@dataclass(slots=True)
class FindingsReplay:
    findings: list[Finding] = field(default_factory=list)
    included: bytearray = field(default_factory=bytearray)
    events: int = 0  # processed
    through: int | None = None  # the last position known at ``known_at`` (None: all)
    left_out: list[LeftOut] = field(default_factory=list)
    left_out_count: int = 0

    def replayed(self, position: int) -> bool:
        return position < len(self.included) and self.included[position] == 1


def last_catalogue_position(store: Store, through: int | None) -> int:
    """The last position up to ``through`` (all: None) holding an event of the catalogue:
    what the monitor has to have processed. Case actions after it are not the monitor's to
    process, so they are not lag."""
    sql = Sql(store)
    types = sorted(EVENT_TYPES)
    marks = ", ".join("?" for _ in types)
    bound = "" if through is None else " AND notification_id <= ?"
    query = f"SELECT MAX(notification_id) FROM ledger_events WHERE topic IN ({marks}){bound}"  # noqa: S608  # placeholders only
    [(position,)] = sql.rows(query, (*types, *(() if through is None else (through,))))
    return int(position or 0)


def known_until(store: Store, known_at: datetime) -> int:
    """The last position recorded at or before ``known_at`` (0 when none). ``recorded_at``
    never decreases along the log (``domain.chain.chain_rows``), so what the ledger knew at
    ``known_at`` is exactly the positions up to this one."""
    sql = Sql(store)
    [(position,)] = sql.rows(SELECT_KNOWN_UNTIL, (sql.time(known_at),))
    return int(position or 0)


def replay(
    store: Store,
    window: ReplayWindow | None = None,
    overrides: Overrides | None = None,
    *,
    prefetch: bool | None = None,
) -> FindingsReplay:
    """``prefetch``: read and decode in a second process (True), in this one (False), or by
    the ledger's length (None; ``projections.store.prefetch``)."""
    window = window or ReplayWindow()
    through = None if window.known_at is None else known_until(store, window.known_at)
    engine = _Recording(overrides or {})
    if through == 0:
        return FindingsReplay(through=0)
    done = replay_as_of(
        store, as_of=window.as_of, through=through, engine_factory=lambda: engine, prefetch=prefetch
    )
    return FindingsReplay(
        engine.findings, engine.included, done.applied, through, done.left_out, done.left_out_count
    )


def as_row(finding: Finding, seq: int) -> FindingRow:
    """A replayed finding in the shape the findings table gives, to render it the same way."""
    f = finding_row(finding)
    return FindingRow(
        seq, f["finding_id"], f["rule_id"], f["severity"], f["event_id"], f["subject"],
        f["occurred_at"], f["detected_at"], f["position"], f["message"], f["parameters"],
        f["evidence"],
    )


def recorded_findings(store: Store) -> Iterator[FindingRow]:
    offset = 0
    while True:
        page = store.findings(FindingFilter(limit=RECORDED_FINDINGS_PER_PAGE_MAX, offset=offset))
        yield from page
        if len(page) < RECORDED_FINDINGS_PER_PAGE_MAX:
            return
        offset += len(page)


@dataclass(frozen=True, slots=True)
class Diff:
    added: list[FindingRow]  # replayed, not recorded: in detection order
    removed: list[FindingRow]  # recorded, not replayed: in recorded order


def diff(store: Store, done: FindingsReplay) -> Diff:
    """Compare finding ids with the findings recorded for the same events. Reading: the
    recorded side is the findings detected at an event the replay processed (occurred and
    known within the window), so a cut-off alone does not show up as removals."""
    recorded = [row for row in recorded_findings(store) if done.replayed(row.position)]
    recorded_ids = {row.finding_id for row in recorded}
    replayed = [as_row(f, seq) for seq, f in enumerate(done.findings, 1)]
    replayed_ids = {row.finding_id for row in replayed}
    return Diff(
        [row for row in replayed if row.finding_id not in recorded_ids],
        [row for row in recorded if row.finding_id not in replayed_ids],
    )

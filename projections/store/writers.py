"""The writing side of the store, written once for SQLite and PostgreSQL on portable cursors
(``projections.store.cursors``): the ledger recorder's appends (``ChainedRecorder``, mixed into
each store's eventsourcing recorder, with the Merkle subtrees its rows complete), one ingest's transaction (``SqlLedgerWriter``) and one
monitor transaction (``SqlMonitorWriter``). What differs per store comes from the store
(``portable.SqlStore``): its locks, bulk writes and list parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent

from projections.store import eventsourcing_compat as compat
from projections.store import merkle_subtrees, quarantine_log
from projections.store.base import (
    LEDGER_TABLE,
    MONITOR_APPLICATION,
    ChainedRow,
    MonitorSnapshot,
    NewEntry,
    QuarantinedLine,
    Tip,
    chain_rows,
)
from projections.store.cursors import Cursor, instant

if TYPE_CHECKING:
    from projections.store.portable import SqlStore

Clock = Callable[[], datetime]
# A step run in the ledger recorder's transaction after the events' rows (``ledger_recorder``):
# the cases' status rows, a quarantine dismissal's link.
AlsoRecord = Callable[[Cursor, Sequence[StoredEvent], Mapping[str, Any]], None]


def no_clock() -> datetime:
    """The clock of a store opened without one: the time must then come with every append."""
    raise AssertionError("this store was opened without a clock: pass clock= to open_store (ops.wiring does)")


SELECT_TIP = (
    "SELECT notification_id, recorded_at, chain_hash FROM ledger_events"
    " ORDER BY notification_id DESC LIMIT 1"
)
INSERT_FINDINGS = (
    "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject, occurred_at,"
    " detected_at, position, message, parameters, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_SNAPSHOTS = (
    "INSERT INTO monitor_snapshots (position, records, record_count, state_digest)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (position) DO NOTHING"
)
PRUNE_SNAPSHOTS = (
    "DELETE FROM monitor_snapshots WHERE position NOT IN"
    " (SELECT position FROM monitor_snapshots ORDER BY position DESC LIMIT ?)"
)


def read_tip(c: Cursor) -> Tip:
    c.execute(SELECT_TIP)
    row = c.fetchone()
    return Tip.empty() if row is None else Tip(row[0], bytes(row[2]), instant(row[1]))


def latest(changes: Sequence[tuple[str, str, str | None]]) -> dict[tuple[str, str], str | None]:
    """Each (kind, key)'s last change in a batch: None deletes it."""
    return {(kind, key): state for kind, key, state in changes}


class ChainedRecorder:
    """What the stores' ledger recorders add to eventsourcing's: explicit gap-free positions
    (eventsourcing notification ids), ``recorded_at`` and a hash chain, and ``also``, a step run
    in the same transaction after the rows. Mixed in before the library's recorder class."""

    clock: Clock = staticmethod(no_clock)  # a plain callable, never bound
    also: AlsoRecord | None = None

    def __init__(
        self, datastore: Any, events_table_name: str = LEDGER_TABLE, *, clock: Clock = no_clock,
        also: AlsoRecord | None = None, writing: Callable[[], AbstractContextManager[Cursor]],
    ):
        """``writing``: the store's write transaction (``SqlStore.writing``), an append's."""
        assert events_table_name == LEDGER_TABLE, "the ledger table name is fixed"
        super().__init__(datastore, events_table_name=events_table_name)  # type: ignore[call-arg]  # the library's recorder, next in the MRO
        self.clock, self.also, self.appending = clock, also, writing

    # --- what a store's recorder provides --------------------------------------------------
    def lock_ledger(self, c: Cursor) -> None:
        raise NotImplementedError

    def insert_rows(self, c: Cursor, rows: Sequence[ChainedRow]) -> None:
        """Insert rows already numbered and hashed (by ``append_rows``, or by an import)."""
        raise NotImplementedError

    # --- written once -------------------------------------------------------------------------
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.appending() as c:
            entries = [(str(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events]
            rows = self.append_rows(c, entries, kwargs.get("recorded_at") or self.clock())
            if self.also is not None:
                self.also(c, stored_events, kwargs)
            return [row.position for row in rows]

    def append_rows(
        self, c: Cursor, entries: Sequence[tuple[str, int, str, bytes]], recorded_at: datetime
    ) -> list[ChainedRow]:
        self.lock_ledger(c)
        rows = chain_rows(read_tip(c), entries, recorded_at)
        self.insert_rows(c, rows)
        merkle_subtrees.extend(c, rows)
        return rows


class SqlLedgerWriter:
    """One ingest transaction: the ledger's tip held until commit, entities and quarantine."""

    def __init__(self, c: Cursor, store: SqlStore):
        self.c = c
        self.store = store
        store.recorder.lock_ledger(c)
        self.tip = read_tip(c)

    def existing(self, event_ids: Collection[str]) -> Mapping[str, bytes]:
        return self.store.existing_with(self.c, event_ids)

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        return self.store.load_entities_with(self.c, keys)

    def append(self, entries: Sequence[NewEntry], recorded_at: datetime) -> list[ChainedRow]:
        rows = self.store.recorder.append_rows(self.c, [(e.event_id, 1, e.type, e.state) for e in entries], recorded_at)
        self._moved_to(rows)
        return rows

    def import_rows(self, rows: Sequence[ChainedRow]) -> None:
        """Append rows exported from another store, keeping their positions, times and hashes."""
        self.store.recorder.insert_rows(self.c, rows)
        merkle_subtrees.extend(self.c, rows)
        self._moved_to(rows)

    def _moved_to(self, rows: Sequence[ChainedRow]) -> None:
        if rows:
            last = rows[-1]
            self.tip = Tip(last.position, last.chain_hash, last.recorded_at)

    def clear_entities(self) -> None:
        self.c.execute("DELETE FROM ledger_entities")

    def save_entities(self, changes: Sequence[tuple[str, str, str]]) -> None:
        self.store.upsert_records(self.c, "ledger_entities", latest(changes))  # type: ignore[arg-type]  # no deletes

    def quarantine(self, lines: Sequence[QuarantinedLine], received_at: datetime) -> None:
        quarantine_log.append_lines(self.c, lines, received_at)


class SqlMonitorWriter:
    """One monitor transaction: findings, state records and tracking commit together."""

    def __init__(self, c: Cursor, store: SqlStore):
        self.c = c
        self.store = store

    def tracked_position(self) -> int:
        return compat.max_tracking_id(self.store.tracking, self.c.raw, MONITOR_APPLICATION)

    def record(
        self,
        findings: Sequence[Mapping[str, Any]],
        changes: Sequence[tuple[str, str, str | None]],
        position: int,
    ) -> None:
        t = self.c.time
        self.c.executemany(INSERT_FINDINGS, [
            (
                f["finding_id"], f["rule_id"], f["severity"], f["event_id"], f["subject"],
                t(f["occurred_at"]), t(f["detected_at"]), f["position"], f["message"],
                f["parameters"], f["evidence"],
            )
            for f in findings
        ])
        last = latest(changes)
        self.store.upsert_records(self.c, "monitor_state", {k: s for k, s in last.items() if s is not None})
        self.store.delete_records(self.c, "monitor_state", [k for k, s in last.items() if s is None])
        compat.insert_tracking(self.store.tracking, self.c.raw, MONITOR_APPLICATION, position)

    def add_snapshots(self, snapshots: Sequence[MonitorSnapshot], kept: int) -> None:
        if not snapshots:
            return
        self.c.executemany(INSERT_SNAPSHOTS, [(s.position, s.records, s.record_count, s.state_digest) for s in snapshots])
        self.c.execute(PRUNE_SNAPSHOTS, (kept,))

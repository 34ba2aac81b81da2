"""What the rest of regledger needs from a store, independent of SQLite or PostgreSQL.

A store holds four groups of tables: the ledger (eventsourcing's stored events with a gap-free
position, ``recorded_at`` and a hash chain), the entity records the ingest validation reads,
the quarantine of rejected lines and its links (records too: append-only and hash-chained,
``projections.store.quarantine_log``), and the monitor's findings, state records and tracking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from eventsourcing.persistence import ApplicationRecorder

from domain.chain import ChainedRow, Tip, chain_rows
from domain.ledger_storage import LedgerWriter, NewEntry, QuarantinedLine, StoredEntry

__all__ = [
    "ChainedRow", "LedgerWriter", "NewEntry", "QuarantinedLine", "StoredEntry", "Tip", "chain_rows",
]

LEDGER_TABLE = "ledger_events"
ENTRIES_PER_PAGE_MAX = 5_000
MONITOR_APPLICATION = "monitor"

# The officers' queue (projections.queue) sorts by severity through this expression; the
# stores index the very same text (schema.queue_ddl), so a severity-sorted page reads the
# index in order.
SEVERITY_RANK = "(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)"


def schema_fingerprint(statements: Sequence[str]) -> str:
    """Identifies a schema: stores record it, and migrate when the code's differs."""
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FindingRow:
    seq: int
    finding_id: str
    rule_id: str
    severity: str
    event_id: str
    subject: str
    occurred_at: datetime
    detected_at: datetime
    position: int
    message: str
    parameters: str
    evidence: str


@dataclass(frozen=True, slots=True)
class FindingFilter:
    rule_ids: Collection[str] = ()
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    offset: int = 0
    case_status: str | None = None  # a finding without case actions is "open"


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """The monitor's state records after ``position`` (``projections.monitor.snapshots``)."""

    position: int
    records: bytes  # zlib-compressed JSON array of [kind, key, state]
    record_count: int
    state_digest: str


@dataclass(frozen=True, slots=True)
class ReopenSpec:
    """How another process opens the same store to read it (picklable: the prefetch child's)."""

    kind: Literal["sqlite", "postgresql"]
    opener: Callable[..., Store]  # the store's class
    target: str  # SQLite file path or PostgreSQL conninfo
    options: Mapping[str, Any] = field(default_factory=dict)

    def open(self) -> Store:
        return self.opener(self.target, **self.options)


class MonitorWriter(Protocol):
    """One monitor transaction: findings, state records and tracking commit together."""

    def tracked_position(self) -> int: ...

    def record(
        self,
        findings: Sequence[Mapping[str, Any]],
        changes: Sequence[tuple[str, str, str | None]],
        position: int,
    ) -> None: ...

    def add_snapshots(self, snapshots: Sequence[MonitorSnapshot], kept: int) -> None:
        """Store ``snapshots`` and drop all but the newest ``kept``."""
        ...


class Store(Protocol):
    kind: Literal["sqlite", "postgresql"]

    @property
    def recorder(self) -> ApplicationRecorder: ...

    def migrate(self) -> None: ...

    def is_migrated(self) -> bool: ...

    def writer(self) -> AbstractContextManager[LedgerWriter]: ...

    def monitor_writer(self) -> AbstractContextManager[MonitorWriter]: ...

    def tip(self) -> Tip: ...

    def read_entries(self, after: int, limit: int) -> list[StoredEntry]: ...

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]: ...

    def stored_states(self, event_ids: Collection[str]) -> Mapping[str, bytes]: ...

    def tracked_position(self, application: str = MONITOR_APPLICATION) -> int: ...

    def monitor_records(self) -> Iterator[tuple[str, str, str]]: ...

    def monitor_snapshot(self, at_most: int) -> MonitorSnapshot | None:
        """The snapshot with the greatest position not above ``at_most``."""
        ...

    def findings(self, where: FindingFilter) -> list[FindingRow]: ...

    def quarantined(self, limit: int, offset: int) -> list[dict[str, Any]]: ...

    def reopen_spec(self) -> ReopenSpec | None:
        """How another process opens this store; None when none can (SQLite ``:memory:``)."""
        ...

    def close(self) -> None: ...


def entries_through(store: Store, through: int) -> Iterator[StoredEntry]:
    """The log's entries up to position ``through``, read in bounded pages."""
    after = 0
    while after < through:
        entries = store.read_entries(after, min(ENTRIES_PER_PAGE_MAX, through - after))
        if not entries:
            return
        yield from entries
        after = entries[-1].position

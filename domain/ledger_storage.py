"""What the ledger application needs from storage. ``projections.store`` implements it for
SQLite and PostgreSQL; the domain never imports a database driver."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.chain import ChainedRow, Tip


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An accepted event about to be appended: its id, type and the envelope bytes to store."""

    event_id: str
    type: str
    state: bytes


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One row of the ledger as stored."""

    position: int
    event_id: str
    type: str
    state: bytes
    recorded_at: datetime
    chain_hash: bytes
    version: int = 1  # 1 for upstream facts; aggregate events (cases) count up


@dataclass(frozen=True, slots=True)
class QuarantinedLine:
    """A rejected input line, kept with its reasons and raw text."""

    origin: str
    line_no: int | None
    event_id: str | None
    reasons: str  # JSON array of {"field", "reason"}
    raw: bytes


class LedgerWriter(Protocol):
    """One write transaction holding the ledger's exclusive lock."""

    tip: Tip

    def existing(self, event_ids: Collection[str]) -> Mapping[str, bytes]: ...

    def load_entities(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]: ...

    def append(self, entries: Sequence[NewEntry], recorded_at: datetime) -> list[ChainedRow]: ...

    def import_rows(self, rows: Sequence[ChainedRow]) -> None: ...

    def clear_entities(self) -> None:
        """Forget every entity record (a rebuild from the log follows in the transaction)."""
        ...

    def save_entities(self, changes: Sequence[tuple[str, str, str]]) -> None: ...

    def quarantine(self, lines: Sequence[QuarantinedLine], received_at: datetime) -> None: ...


class LedgerStorage(Protocol):
    def writer(self) -> AbstractContextManager[LedgerWriter]: ...

    def read_entries(self, after: int, limit: int) -> list[StoredEntry]: ...

    def tip(self) -> Tip: ...

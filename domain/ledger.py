"""The ledger application: validated, idempotent, batched appends of upstream facts.

Every accepted envelope is one eventsourcing stored event whose ``originator_id`` is its
``event_id`` (version 1), whose topic is its type and whose state is the line exactly as sent.
The store's primary key on ``(originator_id, originator_version)`` is therefore a unique key
on ``event_id``: idempotency is enforced by the database, not only in memory.

A batch is parsed outside the lock, then checked and appended inside one write transaction
that holds the ledger's exclusive lock: duplicates and conflicts are decided against what is
stored, the registry (the aggregates validation needs) is brought up to date with what other
writers appended, and accepted events, changed records and quarantined lines commit together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder

from domain.chain import GENESIS_HASH, ChainedRow, chain_hash
from domain.errors import EventRejected, InvalidRequest, Reason, StoreCorrupted
from domain.events import EVENT_TYPES, Envelope, RecordedEvent, canonical_content, parse_line
from domain.ledger_storage import LedgerStorage, NewEntry, QuarantinedLine, StoredEntry
from domain.registry import Registry

EVENTS_PER_BATCH_MAX = 5_000
REGISTRY_RECORDS_MAX = 200_000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    duplicate_lines: list[int | None] = field(default_factory=list)
    last_position: int = 0
    # A batch's accepted events as recorded, in ledger order, for a projection in the same
    # process to take without reading them back; not carried into totals by ``add``.
    recorded: list[RecordedEvent] = field(default_factory=list)

    def add(self, other: IngestSummary) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)
        self.duplicate_lines.extend(other.duplicate_lines)
        self.last_position = max(self.last_position, other.last_position)


@dataclass(slots=True)
class _Parsed:
    line: InputLine
    envelope: Envelope
    raw: dict[str, Any]

    @property
    def content(self) -> bytes:
        # Only needed when an event_id is seen twice, so computed on demand.
        return canonical_content(self.raw)


def reasons_json(reasons: Sequence[Reason]) -> str:
    return json.dumps([{"field": r.field, "reason": r.reason} for r in reasons])


def is_catalogue_topic(topic: str) -> bool:
    """True for an upstream fact of the catalogue. The ledger table also holds the officers'
    case actions (eventsourcing aggregate events of ``domain.cases``), which readers of the
    catalogue's events must skip."""
    return topic in EVENT_TYPES


def decode_entry(entry: StoredEntry) -> RecordedEvent:
    assert is_catalogue_topic(entry.type), f"not a catalogue event: {entry.type}"
    envelope, _ = parse_line(entry.state, stored=True)
    return RecordedEvent(position=entry.position, recorded_at=entry.recorded_at, envelope=envelope)


class Ledger(Application):
    """The ledger. Its recorder is the store's chained ledger recorder."""

    name = "regledger"
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "n"}

    def __init__(
        self,
        storage: LedgerStorage,
        recorder: ApplicationRecorder,
        parameter_catalogue: Mapping[str, Mapping[str, Any]],
        clock: Clock = utc_now,
    ):
        self._store_recorder = recorder
        super().__init__()
        self.storage = storage
        self.clock = clock
        self.parameter_catalogue = parameter_catalogue
        self._loader: Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]] = (
            self._load_unavailable
        )
        self.registry = Registry(lambda keys: self._loader(keys), parameter_catalogue)
        self._registry_position: int | None = None

    def construct_recorder(self) -> ApplicationRecorder:
        return self._store_recorder

    @staticmethod
    def _load_unavailable(keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        raise AssertionError("registry records load only inside a write transaction")

    # --- writing ------------------------------------------------------------------------------
    def ingest(self, lines: Iterator[InputLine], batch_size: int = EVENTS_PER_BATCH_MAX,
               on_batch: Callable[[IngestSummary], None] | None = None) -> IngestSummary:
        assert 0 < batch_size <= EVENTS_PER_BATCH_MAX
        total = IngestSummary()
        batch: list[InputLine] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= batch_size:
                total.add(self._ingest_and_report(batch, on_batch))
                batch = []
        if batch:
            total.add(self._ingest_and_report(batch, on_batch))
        return total

    def _ingest_and_report(
        self, batch: list[InputLine], on_batch: Callable[[IngestSummary], None] | None
    ) -> IngestSummary:
        outcome = self.ingest_batch(batch)
        if on_batch is not None:
            on_batch(outcome)
        return outcome

    def ingest_batch(self, batch: Sequence[InputLine]) -> IngestSummary:
        summary = IngestSummary()
        quarantined: list[QuarantinedLine] = []
        parsed: list[_Parsed] = []
        for line in batch:
            if line.refusal is not None:
                self._reject(summary, quarantined, line, None, (Reason("line", line.refusal),))
                continue
            try:
                envelope, raw = parse_line(line.raw)
            except EventRejected as e:
                self._reject(summary, quarantined, line, e.event_id, e.reasons)
                continue
            parsed.append(_Parsed(line, envelope, raw))
        try:
            with self.storage.writer() as writer:
                self._sync_registry(writer.tip.position, writer.load_entities)
                stored = writer.existing({p.envelope.event_id for p in parsed})
                accepted_now: dict[str, _Parsed] = {}

                def content_known(event_id: str) -> bytes:
                    if event_id in accepted_now:
                        return accepted_now[event_id].content
                    return canonical_content(json.loads(stored[event_id]))

                fresh = [p for p in parsed if p.envelope.event_id not in stored]
                self.registry.prefetch(
                    {key for p in fresh for key in self.registry.references(p.envelope)}
                )
                entries: list[NewEntry] = []
                accepted: list[_Parsed] = []
                for p in parsed:
                    event_id = p.envelope.event_id
                    if event_id in stored or event_id in accepted_now:
                        if content_known(event_id) == p.content:
                            summary.duplicates += 1
                            summary.duplicate_lines.append(p.line.line_no)
                        else:
                            reason = Reason("event_id", f"{event_id!r} is already stored with different content (conflict)")
                            self._reject(summary, quarantined, p.line, event_id, (reason,))
                        continue
                    try:
                        self.registry.accept(p.envelope)
                    except EventRejected as e:
                        self._reject(summary, quarantined, p.line, event_id, e.reasons)
                        continue
                    entries.append(NewEntry(event_id, p.envelope.type, p.line.raw))
                    accepted.append(p)
                    accepted_now[event_id] = p
                now = self.clock()
                rows = writer.append(entries, now)
                summary.recorded = [
                    RecordedEvent(row.position, row.recorded_at, p.envelope)
                    for row, p in zip(rows, accepted, strict=True)
                ]
                writer.save_entities(self.registry.drain_changes())
                writer.quarantine(quarantined, now)
                summary.accepted = len(rows)
                summary.last_position = writer.tip.position
        except BaseException:
            self._registry_position = None
            self.registry.clear()
            raise
        self._registry_position = summary.last_position
        self.registry.trim(REGISTRY_RECORDS_MAX)
        return summary

    def _sync_registry(self, tip_position: int, loader: Callable[..., Mapping[tuple[str, str], str]]) -> None:
        # Another writer appended since our last batch: what we cached may be stale.
        if self._registry_position != tip_position:
            self.registry.clear()
        self._loader = loader

    @staticmethod
    def _reject(
        summary: IngestSummary,
        quarantined: list[QuarantinedLine],
        line: InputLine,
        event_id: str | None,
        reasons: Sequence[Reason],
    ) -> None:
        summary.rejected += 1
        summary.rejections.append(Rejection(line.origin, line.line_no, event_id, tuple(reasons)))
        quarantined.append(
            QuarantinedLine(line.origin, line.line_no, event_id, reasons_json(reasons), line.raw)
        )

    def check(
        self,
        raw: bytes,
        load_entities: Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]],
        stored_states: Callable[[Collection[str]], Mapping[str, bytes]],
    ) -> Envelope | None:
        """Validate a proposed event as ingest would, without storing or caching anything.
        Returns None for an exact duplicate of a stored event (which raises nothing)."""
        envelope, obj = parse_line(raw)
        stored = stored_states([envelope.event_id]).get(envelope.event_id)
        if stored is not None:
            if canonical_content(json.loads(stored)) == canonical_content(obj):
                return None
            reason = Reason("event_id", f"{envelope.event_id!r} is already stored with different content (conflict)")
            raise EventRejected((reason,), envelope.event_id)
        registry = Registry(load_entities, self.parameter_catalogue)
        registry.prefetch(registry.references(envelope))
        registry.check(envelope)
        return envelope

    # --- importing a ledger exported from another store ----------------------------------------
    def import_rows(self, rows: Iterator[ChainedRow], batch_size: int = EVENTS_PER_BATCH_MAX) -> int:
        """Load an exported log into this (empty) store, keeping positions, times and hashes.

        Every row's hash is recomputed from its own fields before anything is written, and the
        facts go through the registry again, so the entity records validation needs are rebuilt
        and an import can never smuggle in what ingest would have refused."""
        if self.storage.tip().position != 0:
            raise InvalidRequest("import needs an empty store: this one already holds events")
        imported, previous = 0, GENESIS_HASH
        batch: list[ChainedRow] = []
        for row in rows:
            expected = chain_hash(
                row.position, row.recorded_at, previous, row.event_id, row.version, row.type, row.state
            )
            if row.position != imported + len(batch) + 1 or expected != row.chain_hash:
                raise StoreCorrupted(
                    f"export row at position {row.position}: its hash or position does not continue"
                    " the chain; nothing after position "
                    f"{imported} was imported"
                )
            previous = row.chain_hash
            batch.append(row)
            if len(batch) >= batch_size:
                imported += self._import_batch(batch)
                batch = []
        if batch:
            imported += self._import_batch(batch)
        return imported

    def _import_batch(self, batch: list[ChainedRow]) -> int:
        try:
            with self.storage.writer() as writer:
                self._sync_registry(writer.tip.position, writer.load_entities)
                if writer.tip.position != batch[0].position - 1:
                    raise InvalidRequest("another writer appended to the store during the import")
                for row in batch:
                    if is_catalogue_topic(row.type):  # stored by some version: its form
                        envelope, _ = parse_line(row.state, stored=True)
                        self.registry.accept(envelope, stored=True)
                writer.import_rows(batch)
                writer.save_entities(self.registry.drain_changes())
        except EventRejected as e:
            self._registry_position = None
            self.registry.clear()
            raise StoreCorrupted(f"an exported event is not valid here: {e}") from e
        except BaseException:
            self._registry_position = None
            self.registry.clear()
            raise
        self._registry_position = batch[-1].position
        return len(batch)

    def rebuild_registry(self, page_size: int = EVENTS_PER_BATCH_MAX) -> int:
        """Forget the registry's entity records and rebuild them from the log, in one
        transaction holding the ledger's lock: no ingest validates against a half-built
        registry, and none appends while it is rebuilt. The events replayed."""
        assert 0 < page_size <= EVENTS_PER_BATCH_MAX
        replayed = 0
        try:
            with self.storage.writer() as writer:
                writer.clear_entities()
                self.registry.clear()
                self._loader = writer.load_entities
                after = 0
                while after < writer.tip.position:
                    entries = self.storage.read_entries(after, min(page_size, writer.tip.position - after))
                    for entry in entries:
                        if is_catalogue_topic(entry.type):  # stored by some version: its form
                            self.registry.accept(parse_line(entry.state, stored=True)[0], stored=True)
                            replayed += 1
                    writer.save_entities(self.registry.drain_changes())
                    self.registry.trim(REGISTRY_RECORDS_MAX)
                    after = entries[-1].position
        except EventRejected as e:
            raise StoreCorrupted(f"a stored event is not valid any more: {e}") from e
        finally:
            self._registry_position = None
            self.registry.clear()
        return replayed

    # --- reading ------------------------------------------------------------------------------
    def read(self, after: int, limit: int) -> list[RecordedEvent]:
        return [
            decode_entry(entry)
            for entry in self.storage.read_entries(after, limit)
            if is_catalogue_topic(entry.type)
        ]

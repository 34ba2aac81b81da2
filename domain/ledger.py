"""The ledger: validated, idempotent, batched appends of upstream facts.

Every accepted envelope is one stored event whose ``originator_id`` is its ``event_id``
(version 1), whose topic is its type and whose state is the line exactly as sent. The store's
primary key on ``(originator_id, originator_version)`` is therefore a unique key on
``event_id``: idempotency is enforced by the database, not only in memory.

``Ledger.admit`` yields the input's admitted batches, each written when it is yielded. A batch
goes through three steps, each one method:

1. parse (``_parse``): outside the lock, every line becomes an envelope or a rejection;
2. admit (``_admit``): inside one write transaction holding the ledger's exclusive lock,
   duplicates and conflicts are decided against what is stored, and each new event is
   checked by the registry (the aggregates validation needs), first brought up to date with
   what other writers appended;
3. write (``_write``): accepted events, changed records and quarantined lines are appended
   in that same transaction, so they commit together.

What happens to an admitted batch next (the monitor, the audit index) is the caller's:
``ops.pipeline`` takes each one on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.chain import GENESIS_HASH, ChainedRow, chain_hash
from domain.errors import EventRejected, InvalidRequest, Reason, StoreCorrupted
from domain.events import EVENT_TYPES, Envelope, RecordedEvent, canonical_content, parse_line
from domain.ledger_storage import (
    LedgerStorage,
    LedgerWriter,
    NewEntry,
    QuarantinedLine,
    StoredEntry,
)
from domain.registry import Registry

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


@dataclass(slots=True)
class _Parsed:
    line: InputLine
    envelope: Envelope
    raw: dict[str, Any]

    @property
    def content(self) -> bytes:
        # Only needed when an event_id is seen twice, so computed on demand.
        return canonical_content(self.raw)


@dataclass(slots=True)
class _Verdicts:
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


def conflict(event_id: str) -> Reason:
    return Reason("event_id", f"{event_id!r} is already stored with different content (conflict)")


def is_catalogue_topic(topic: str) -> bool:
    """True for an upstream fact of the catalogue. The ledger table also holds the officers'
    case actions (eventsourcing aggregate events of ``domain.cases``), which readers of the
    catalogue's events must skip."""
    return topic in EVENT_TYPES


def decode_entry(entry: StoredEntry) -> RecordedEvent:
    assert is_catalogue_topic(entry.type), f"not a catalogue event: {entry.type}"
    envelope, _ = parse_line(entry.state, stored=True)
    return RecordedEvent(position=entry.position, recorded_at=entry.recorded_at, envelope=envelope)


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


class Ledger:
    """The ledger. Not an eventsourcing ``Application``: its upstream facts are not aggregate
    events (each is stored once, as sent, under its own ``event_id``), it appends through the
    store's chained writer (``LedgerStorage``), which decides positions, hashes and
    idempotency under the ledger's lock, and it reads the log back with positions and record
    times, which the notification log does not carry. Subclassing ``Application`` gave it a
    repository, a mapper and a notification log it never used. ``domain.cases.Cases`` is the
    one ``Application`` on the ledger table: officers' case actions are aggregate events.

    ``clock`` gives the record time of each written batch; ``ops.wiring`` passes the wall
    clock, tests a fixed one. A ledger built only to read, rebuild or import needs none."""

    def __init__(
        self,
        storage: LedgerStorage,
        parameter_catalogue: Mapping[str, Mapping[str, Any]],
        clock: Clock | None = None,
    ):
        self.storage = storage
        self.clock = clock
        self.parameter_catalogue = parameter_catalogue
        self._loader: Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]] = (
            self._load_unavailable
        )
        self.registry = Registry(lambda keys: self._loader(keys), parameter_catalogue)
        self._registry_position: int | None = None

    @staticmethod
    def _load_unavailable(keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], str]:
        raise AssertionError("registry records load only inside a write transaction")

    # --- writing ------------------------------------------------------------------------------
    def admit(
        self, lines: Iterable[InputLine], batch_size: int = EVENTS_PER_BATCH_MAX
    ) -> Iterator[AdmittedBatch]:
        """The batches of ``lines``, each parsed, admitted and written (committed) before it
        is yielded."""
        assert 0 < batch_size <= EVENTS_PER_BATCH_MAX
        for batch in batches(lines, batch_size):
            yield self.admit_batch(batch)

    def ingest(self, lines: Iterable[InputLine], batch_size: int = EVENTS_PER_BATCH_MAX) -> IngestSummary:
        """Admit every line, batch by batch, and total what was decided."""
        total = IngestSummary()
        for batch in self.admit(lines, batch_size):
            total.add(batch.summary)
        return total

    def ingest_batch(self, batch: Sequence[InputLine]) -> IngestSummary:
        return self.admit_batch(batch).summary

    def admit_batch(self, batch: Sequence[InputLine]) -> AdmittedBatch:
        """Parse, admit and write one batch, in one write transaction (after parsing)."""
        verdicts = _Verdicts()
        parsed = self._parse(batch, verdicts)
        with self._writing() as writer:
            accepted = self._admit(writer, parsed, verdicts)
            recorded = self._write(writer, accepted, verdicts)
        self._registry_position = verdicts.summary.last_position
        self.registry.trim(REGISTRY_RECORDS_MAX)
        return AdmittedBatch(verdicts.summary, recorded)

    @staticmethod
    def _parse(batch: Sequence[InputLine], verdicts: _Verdicts) -> list[_Parsed]:
        """Step 1: each line's envelope; a line refused by its reader or not an event of the
        catalogue is rejected."""
        parsed: list[_Parsed] = []
        for line in batch:
            if line.refusal is not None:
                verdicts.reject(line, None, (Reason("line", line.refusal),))
                continue
            try:
                envelope, raw = parse_line(line.raw)
            except EventRejected as e:
                verdicts.reject(line, e.event_id, e.reasons)
                continue
            parsed.append(_Parsed(line, envelope, raw))
        return parsed

    def _admit(self, writer: LedgerWriter, parsed: Sequence[_Parsed], verdicts: _Verdicts) -> list[_Parsed]:
        """Step 2: the parsed events to append, in input order. An ``event_id`` already
        stored or accepted earlier in the batch is a duplicate (same content) or a conflict;
        a new event is accepted when the registry accepts it."""
        stored = writer.existing({p.envelope.event_id for p in parsed})
        self.registry.prefetch(
            {key for p in parsed if p.envelope.event_id not in stored for key in self.registry.references(p.envelope)}
        )
        accepted: dict[str, _Parsed] = {}
        for p in parsed:
            event_id = p.envelope.event_id
            if event_id in stored or event_id in accepted:
                earlier = accepted.get(event_id)
                known = earlier.content if earlier is not None else canonical_content(json.loads(stored[event_id]))
                if known == p.content:
                    verdicts.duplicate(p.line)
                else:
                    verdicts.reject(p.line, event_id, (conflict(event_id),))
                continue
            try:
                self.registry.accept(p.envelope)
            except EventRejected as e:
                verdicts.reject(p.line, event_id, e.reasons)
                continue
            accepted[event_id] = p
        return list(accepted.values())

    def _write(
        self, writer: LedgerWriter, accepted: Sequence[_Parsed], verdicts: _Verdicts
    ) -> tuple[RecordedEvent, ...]:
        """Step 3: append the accepted events, the registry's changed records and the
        quarantined lines, all recorded at one time; the events as recorded."""
        assert self.clock is not None, "a ledger that writes needs a clock (ops.wiring gives it one)"
        now = self.clock()
        rows = writer.append([NewEntry(p.envelope.event_id, p.envelope.type, p.line.raw) for p in accepted], now)
        writer.save_entities(self.registry.drain_changes())
        writer.quarantine(verdicts.quarantined, now)
        verdicts.summary.accepted = len(rows)
        verdicts.summary.last_position = writer.tip.position
        return tuple(
            RecordedEvent(row.position, row.recorded_at, p.envelope) for row, p in zip(rows, accepted, strict=True)
        )

    @contextmanager
    def _writing(self) -> Iterator[LedgerWriter]:
        """One write transaction holding the ledger's lock, the registry ready to load
        within it. When it fails, the registry's cache is forgotten: it may hold what did not
        commit."""
        try:
            with self.storage.writer() as writer:
                self._sync_registry(writer.tip.position, writer.load_entities)
                yield writer
        except BaseException:
            self._registry_position = None
            self.registry.clear()
            raise

    def _sync_registry(self, tip_position: int, loader: Callable[..., Mapping[tuple[str, str], str]]) -> None:
        # Another writer appended since our last batch: what we cached may be stale.
        if self._registry_position != tip_position:
            self.registry.clear()
        self._loader = loader

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
            raise EventRejected((conflict(envelope.event_id),), envelope.event_id)
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
            with self._writing() as writer:
                if writer.tip.position != batch[0].position - 1:
                    raise InvalidRequest("another writer appended to the store during the import")
                for row in batch:
                    if is_catalogue_topic(row.type):  # stored by some version: its form
                        envelope, _ = parse_line(row.state, stored=True)
                        self.registry.accept(envelope, stored=True)
                writer.import_rows(batch)
                writer.save_entities(self.registry.drain_changes())
        except EventRejected as e:
            raise StoreCorrupted(f"an exported event is not valid here: {e}") from e
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

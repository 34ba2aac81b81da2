"""The ``Ledger``: a small facade over the three steps of a batch (``parse``, ``admission``,
``writing``), the registry kept in step with the store, importing and reading."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from domain.chain import ChainedRow
from domain.events import Envelope, RecordedEvent
from domain.ledger import admission, importing
from domain.ledger.parse import Verdicts, batches, parse
from domain.ledger.registry_sync import SyncedRegistry
from domain.ledger.stored import decode_admitted, is_catalogue_topic
from domain.ledger.values import (
    EVENTS_PER_BATCH_MAX,
    REGISTRY_RECORDS_MAX,
    AdmittedBatch,
    Clock,
    IngestSummary,
    InputLine,
)
from domain.ledger.writing import write
from domain.ledger_storage import LedgerStorage


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
        self._synced = SyncedRegistry(storage, parameter_catalogue)
        self.registry = self._synced.registry

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
        verdicts = Verdicts()
        parsed = parse(batch, verdicts)
        with self._synced.writing() as writer:
            accepted = admission.admit(self.registry, writer, parsed, verdicts)
            assert self.clock is not None, "a ledger that writes needs a clock (ops.wiring gives it one)"
            recorded = write(writer, self.registry, accepted, verdicts, self.clock())
        self._synced.position = verdicts.summary.last_position
        self.registry.trim(REGISTRY_RECORDS_MAX)
        return AdmittedBatch(verdicts.summary, recorded)

    def check(
        self,
        raw: bytes,
        load_entities: Callable[[Collection[tuple[str, str]]], Mapping[tuple[str, str], str]],
        stored_states: Callable[[Collection[str]], Mapping[str, bytes]],
    ) -> Envelope | None:
        """Validate a proposed event as ingest would, without storing or caching anything.
        Returns None for an exact duplicate of a stored event (which raises nothing)."""
        return admission.check(raw, self.parameter_catalogue, load_entities, stored_states)

    # --- filling a store from a log -----------------------------------------------------------
    def import_rows(self, rows: Iterator[ChainedRow], batch_size: int = EVENTS_PER_BATCH_MAX) -> int:
        """Load an exported log into this (empty) store (``importing.import_rows``)."""
        return importing.import_rows(self._synced, rows, batch_size)

    def rebuild_registry(self, page_size: int = EVENTS_PER_BATCH_MAX) -> int:
        """Rebuild the registry's entity records from the log (``importing.rebuild_registry``)."""
        return importing.rebuild_registry(self._synced, page_size)

    # --- reading ------------------------------------------------------------------------------
    def read(self, after: int, limit: int) -> list[RecordedEvent]:
        """The catalogue events after ``after``: this ledger's own rows, validated when they
        were admitted, so rebuilt without validating them again (``decode_admitted``)."""
        return [
            decode_admitted(entry)
            for entry in self.storage.read_entries(after, limit)
            if is_catalogue_topic(entry.type)
        ]

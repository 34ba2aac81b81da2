"""Filling a store from a log rather than from input: importing a ledger exported from
another store, and rebuilding the registry's entity records from the log."""

from __future__ import annotations

from collections.abc import Iterator

from domain.chain import GENESIS_HASH, ChainedRow, chain_hash
from domain.errors import EventRejected, InvalidRequest, StoreCorrupted
from domain.events import parse_line
from domain.ledger.registry_sync import SyncedRegistry
from domain.ledger.stored import is_catalogue_topic
from domain.ledger.values import EVENTS_PER_BATCH_MAX, REGISTRY_RECORDS_MAX


def import_rows(synced: SyncedRegistry, rows: Iterator[ChainedRow], batch_size: int = EVENTS_PER_BATCH_MAX) -> int:
    """Load an exported log into this (empty) store, keeping positions, times and hashes.

    Every row's hash is recomputed from its own fields before anything is written, and the
    facts go through the registry again, so the entity records validation needs are rebuilt
    and an import can never smuggle in what ingest would have refused."""
    if synced.storage.tip().position != 0:
        raise InvalidRequest("import needs an empty store: this one already holds events")
    imported, previous = 0, GENESIS_HASH
    batch: list[ChainedRow] = []
    for row in rows:
        expected = chain_hash(row.position, row.recorded_at, previous, row.event_id, row.version, row.type, row.state)
        if row.position != imported + len(batch) + 1 or expected != row.chain_hash:
            raise StoreCorrupted(
                f"export row at position {row.position}: its hash or position does not continue"
                " the chain; nothing after position "
                f"{imported} was imported"
            )
        previous = row.chain_hash
        batch.append(row)
        if len(batch) >= batch_size:
            imported += _import_batch(synced, batch)
            batch = []
    if batch:
        imported += _import_batch(synced, batch)
    return imported


def _import_batch(synced: SyncedRegistry, batch: list[ChainedRow]) -> int:
    registry = synced.registry
    try:
        with synced.writing() as writer:
            if writer.tip.position != batch[0].position - 1:
                raise InvalidRequest("another writer appended to the store during the import")
            for row in batch:
                if is_catalogue_topic(row.type):  # stored by some version: its form
                    envelope, _ = parse_line(row.state, stored=True)
                    registry.accept(envelope, stored=True)
            writer.import_rows(batch)
            writer.save_entities(registry.drain_changes())
    except EventRejected as e:
        raise StoreCorrupted(f"an exported event is not valid here: {e}") from e
    synced.position = batch[-1].position
    return len(batch)


def rebuild_registry(synced: SyncedRegistry, page_size: int = EVENTS_PER_BATCH_MAX) -> int:
    """Forget the registry's entity records and rebuild them from the log, in one
    transaction holding the ledger's lock: no ingest validates against a half-built
    registry, and none appends while it is rebuilt. The events replayed."""
    assert 0 < page_size <= EVENTS_PER_BATCH_MAX
    storage, registry = synced.storage, synced.registry
    replayed = 0
    try:
        with storage.writer() as writer:
            writer.clear_entities()
            registry.clear()
            synced.load_from(writer.load_entities)
            after = 0
            while after < writer.tip.position:
                entries = storage.read_entries(after, min(page_size, writer.tip.position - after))
                for entry in entries:
                    if is_catalogue_topic(entry.type):  # stored by some version: its form
                        registry.accept(parse_line(entry.state, stored=True)[0], stored=True)
                        replayed += 1
                writer.save_entities(registry.drain_changes())
                registry.trim(REGISTRY_RECORDS_MAX)
                after = entries[-1].position
    except EventRejected as e:
        raise StoreCorrupted(f"a stored event is not valid any more: {e}") from e
    finally:
        synced.forget()
    return replayed

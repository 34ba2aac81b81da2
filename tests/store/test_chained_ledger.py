"""The ledger table on both stores: gap-free positions, a hash chain that re-computes, a unique
key on event_id, append-only triggers and an idempotent migration."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.chain import GENESIS_HASH, chain_hash
from domain.ledger_storage import NewEntry
from projections.store import open_store
from projections.store.base import Store

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def append(store: Store, *ids: str, at: datetime = T0) -> None:
    with store.writer() as writer:
        writer.append([NewEntry(i, "PriceObserved", b'{"event_id":"%s"}' % i.encode()) for i in ids], at)


def test_positions_are_gap_free_and_the_chain_recomputes(store: Store) -> None:
    append(store, "a", "b")
    append(store, "c")
    entries = store.read_entries(0, 10)
    assert [e.position for e in entries] == [1, 2, 3]
    previous = GENESIS_HASH
    for e in entries:
        assert e.chain_hash == chain_hash(e.position, e.recorded_at, previous, e.event_id, e.version, e.type, e.state)
        previous = e.chain_hash
    assert store.tip().chain_hash == previous


def test_a_failed_batch_leaves_no_gap_in_positions(store: Store) -> None:
    append(store, "a")
    with pytest.raises(IntegrityError):
        append(store, "b", "a")  # "a" again: the unique key on event_id refuses the batch
    append(store, "c")
    assert [(e.position, e.event_id) for e in store.read_entries(0, 10)] == [(1, "a"), (2, "c")]


def test_recorded_at_never_goes_back_in_time(store: Store) -> None:
    append(store, "a", at=T0)
    append(store, "b", at=T0 - timedelta(hours=1))  # the clock stepped back
    first, second = store.read_entries(0, 10)
    assert second.recorded_at == first.recorded_at == T0


def test_the_library_interface_appends_to_the_same_chain(store: Store) -> None:
    append(store, "a")
    ids = store.recorder.insert_events([StoredEvent("b", 1, "PriceObserved", b"{}")])
    assert ids == [2]
    assert store.recorder.max_notification_id() == 2
    assert [n.originator_id for n in store.recorder.select_notifications(None, 10)] == ["a", "b"]


@pytest.mark.parametrize("statement", ["UPDATE ledger_events SET topic = 'x'", "DELETE FROM ledger_events"])
def test_the_ledger_table_refuses_updates_and_deletes(store: Store, statement: str) -> None:
    append(store, "a")
    with pytest.raises(Exception, match="append-only"), store.writer() as writer:
        cursor = getattr(writer, "c", None) or writer.curs  # type: ignore[attr-defined]
        cursor.execute(statement)
    assert [e.event_id for e in store.read_entries(0, 10)] == ["a"]


def test_migration_is_idempotent_and_safe_from_several_workers_at_once(store_url: str) -> None:
    errors: list[BaseException] = []

    def start_worker() -> None:
        try:
            open_store(store_url, create=True).close()
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    workers = [threading.Thread(target=start_worker) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    store = open_store(store_url)
    assert store.is_migrated()
    store.close()


def test_every_field_of_a_row_enters_its_chain_hash() -> None:
    fields = {"position": 7, "recorded_at": T0, "previous": bytes(range(32)), "originator_id": "e-1",
              "originator_version": 1, "topic": "PriceObserved", "state": b'{"a":1}'}
    base = chain_hash(**fields)  # type: ignore[arg-type]
    changed = {"position": 8, "recorded_at": T0 + timedelta(microseconds=1), "previous": bytes(32),
               "originator_id": "e-2", "originator_version": 2, "topic": "PriceObserve", "state": b'{"a":2}'}
    for name, value in changed.items():
        assert chain_hash(**{**fields, name: value}) != base, name  # type: ignore[arg-type]
    # lengths are framed: moving a character between id and topic changes the hash
    assert chain_hash(**{**fields, "originator_id": "e-1P", "topic": "riceObserved"}) != base  # type: ignore[arg-type]

"""Proofs made from the stored Merkle subtree roots (``merkle_subtrees``) are the proofs of the
leaves alone, byte for byte, for tree sizes and indices around every power of two; the table
is what the chain recomputes, after appends in batches of any size, an import, a rebuild and a
store made before it; an altered root is named by ``verify`` and never yields a wrong proof.
On both stores, with subtrees of 4 leaves (``LEVEL`` 2) so that small ledgers have many."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.chain import chain_rows
from domain.evidence.digest import Checkpoint
from domain.evidence.proofs import consistency_json, inclusion_json
from domain.merkle import Accumulator, consistency_ranges, inclusion_ranges, leaf_hash, root
from projections.evidence.attest import (
    checkpoint_at,
    consistency_proof,
    inclusion_proof,
    verify_log,
)
from projections.rebuild import READ_MODELS, import_log
from projections.rebuild.models import log_rows
from projections.sql import Sql
from projections.store import merkle_subtrees, open_store
from projections.store.base import Store
from tests.evidence.tamper import Dba, fill

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LEVEL = 2
SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200)


@pytest.fixture(autouse=True)
def small_subtrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle_subtrees, "LEVEL", LEVEL)
    monkeypatch.setattr(merkle_subtrees, "CATCH_UP_LEAVES", 16)


def append(store: Store, count: int, batches: tuple[int, ...] = (1, 3, 5, 8, 13)) -> None:
    """``count`` synthetic events appended in batches of varied sizes."""
    done, turn = 0, 0
    while done < count:
        size = min(batches[turn % len(batches)], count - done)
        with store.writer() as writer:
            first = writer.tip.position + 1
            entries = [(f"e-{p}", 1, "Synthetic", f'{{"n":{p}}}'.encode()) for p in range(first, first + size)]
            writer.import_rows(chain_rows(writer.tip, entries, T0))
        done, turn = done + size, turn + 1


def leaves(store: Store) -> list[bytes]:
    return [bytes(r[0]) for r in Sql(store).rows("SELECT chain_hash FROM ledger_events ORDER BY notification_id")]


def expected_rows(hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete aligned subtree of 2 ** LEVEL leaves or more, recomputed in memory."""
    found: dict[tuple[int, int], bytes] = {}
    tree = Accumulator(lambda level, index, node: found.__setitem__((level, index), node), LEVEL)
    for h in hashes:
        tree.add(leaf_hash(h))
    return found


def stored_rows(store: Store) -> dict[tuple[int, int], bytes]:
    with Sql(store).reading() as cursor:
        return merkle_subtrees.all_rows(cursor)


def reference_path(hashes: list[bytes], ranges: list[tuple[int, int]]) -> tuple[bytes, ...]:
    return tuple(root(hashes[a:b]) for a, b in ranges)


def indices(size: int) -> set[int]:
    near = {0, 1, size // 2, size - 2, size - 1}
    near |= {b + d for b in (1 << k for k in range(size.bit_length())) for d in (-1, 0, 1)}
    return {i for i in near if 0 <= i < size}


def assert_inclusion(store: Store, hashes: list[bytes], size: int, index: int) -> None:
    tip = checkpoint(hashes, size)
    proof = inclusion_proof(store, f"e-{index + 1}", tip)
    expected = replace(proof, audit_path=reference_path(hashes, inclusion_ranges(index, size)))
    assert inclusion_json(proof) == inclusion_json(expected), (size, index)


def checkpoint(hashes: list[bytes], size: int) -> Checkpoint:
    return Checkpoint(size, root(hashes[:size]), hashes[size - 1], T0)


def test_proofs_from_stored_subtrees_are_the_proofs_of_the_leaves(store: Store) -> None:
    append(store, SIZES[-1])
    hashes = leaves(store)
    assert stored_rows(store) == expected_rows(hashes)
    assert checkpoint_at(store, 129) == checkpoint(hashes, 129)
    for size in SIZES:
        for index in indices(size):
            assert_inclusion(store, hashes, size, index)
        for old in {1, 2, 3, size // 2, size - 1, size} - {0}:
            if old <= size:
                proof = consistency_proof(store, checkpoint(hashes, old), checkpoint(hashes, size))
                path = consistency_ranges(old, size) if old < size else []
                assert proof.path == reference_path(hashes, path), (old, size)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_size_and_index_are_proven_as_by_the_leaves(store: Store, data: st.DataObject) -> None:
    if not leaves(store):
        append(store, 300, (7, 64, 1, 100, 3))
    hashes = leaves(store)
    size = data.draw(st.integers(1, len(hashes)))
    assert_inclusion(store, hashes, size, data.draw(st.integers(0, size - 1)))
    old = data.draw(st.integers(1, size))
    proof = consistency_proof(store, checkpoint(hashes, old), checkpoint(hashes, size))
    assert proof.path == reference_path(hashes, consistency_ranges(old, size) if old < size else [])


def test_an_altered_root_is_named_by_verify_and_never_yields_a_wrong_proof(store: Store, store_url: str) -> None:
    append(store, 64)
    hashes = leaves(store)
    assert verify_log(store).intact
    # (3, 1) is positions 9..16: on the path of leaf 0, and a piece of no whole tree
    Dba(store_url).run(("UPDATE merkle_subtrees SET root = ? WHERE level = 3 AND idx = 1", (bytes(32),)))
    result = verify_log(store)
    assert not result.intact and result.broken is None
    assert result.subtrees is not None and "positions 9..16 (level 3, index 1)" in result.subtrees
    assert_inclusion(store, hashes, 64, 0)
    assert_inclusion(store, hashes, 40, 0)
    proof = consistency_proof(store, checkpoint(hashes, 12), checkpoint(hashes, 64))
    assert proof.path == reference_path(hashes, consistency_ranges(12, 64))


def test_the_rebuild_recomputes_the_table_in_slices(store: Store, store_url: str) -> None:
    append(store, 150)
    hashes = leaves(store)
    Dba(store_url).run(
        ("UPDATE merkle_subtrees SET root = ? WHERE level = 2 AND idx = 5", (bytes(32),)),
        ("DELETE FROM merkle_subtrees WHERE level = 4", ()),
    )
    [model] = [m for m in READ_MODELS if m.name == "merkle subtrees"]
    model.replace(store, model)  # 150 leaves, 16 a slice
    assert stored_rows(store) == expected_rows(hashes)
    assert verify_log(store).intact


def test_a_store_made_before_the_table_catches_up_and_proves_meanwhile(store: Store, store_url: str) -> None:
    append(store, 100)
    Dba(store_url).run(("DELETE FROM merkle_subtrees", ()))  # as a store migrated from before it
    hashes = leaves(store)
    assert_inclusion(store, hashes, 100, 37)  # every piece from the leaves
    append(store, 1, (1,))  # one write catches up 16 leaves
    assert max(i for level, i in stored_rows(store) if level == LEVEL) == 16 // 4 - 1
    assert_inclusion(store, leaves(store), 101, 37)
    append(store, 8, (1,))
    hashes = leaves(store)
    assert stored_rows(store) == expected_rows(hashes)


def test_an_import_rebuilds_the_table_and_proves_the_same(store: Store, tmp_path: Path) -> None:
    fill(store, "mf-day", batch_size=7)
    hashes = leaves(store)
    assert stored_rows(store) == expected_rows(hashes) != {}
    moved = open_store(f"sqlite:///{tmp_path / 'moved.db'}", create=True)
    try:
        import_log(moved, log_rows(store, len(hashes)))
        assert stored_rows(moved) == stored_rows(store)
        tip, early = checkpoint_at(store), checkpoint_at(store, len(hashes) // 3)
        first = Sql(store).rows("SELECT originator_id FROM ledger_events WHERE notification_id = 5")[0][0]
        assert inclusion_json(inclusion_proof(moved, first, tip)) == inclusion_json(inclusion_proof(store, first, tip))
        assert consistency_json(consistency_proof(moved, early, tip)) == consistency_json(consistency_proof(store, early, tip))
    finally:
        moved.close()


def test_a_store_of_the_schema_before_the_table_opens_and_gains_it(store: Store, store_url: str) -> None:
    append(store, 40)
    store.close()
    Dba(store_url).run(
        ("DROP TABLE merkle_subtrees", ()),
        ("UPDATE regledger_meta SET value = ? WHERE key = 'schema'", ("0123456789abcdef",)),
    )
    reopened = open_store(store_url)  # migrates: the fingerprint differs
    try:
        assert reopened.is_migrated() and stored_rows(reopened) == {}
        hashes = leaves(reopened)
        assert_inclusion(reopened, hashes, 40, 9)
        append(reopened, 3, (1,))  # 16 leaves caught up a write
        assert stored_rows(reopened) == expected_rows(leaves(reopened))
    finally:
        reopened.close()

"""Checkpoints, verification and proofs over the stored log.

Every function here reads the log in bounded pages; hashing is O(n) in the positions covered
(a Merkle root or a proof over a million events is a few seconds of SHA-256), and memory is
O(page + log n).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.chain import GENESIS_HASH
from domain.errors import InvalidRequest, StoreCorrupted
from domain.evidence.chain_check import ChainBreak, ChainCheck, Row
from domain.evidence.digest import Checkpoint
from domain.evidence.proofs import ConsistencyProof, InclusionProof
from domain.merkle import RangeRoots, consistency_ranges, inclusion_ranges, leaf_hash
from projections.evidence.log import iter_leaves, iter_rows, position_of, row_at
from projections.store.base import Store

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int  # rows whose hash recomputed
    tip: Checkpoint | None  # at the last good position
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _run(store: Store, check: ChainCheck, until: int | None, progress: Progress | None) -> None:
    rows = iter_rows(store, until)
    if progress is None:
        check.feed(rows)
        return
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 10_000:
            if check.feed(batch) is not None:
                return
            progress(len(batch))
            batch = []
    check.feed(batch)
    progress(len(batch))


def verify_log(store: Store, digest: Checkpoint | None = None, progress: Progress | None = None) -> Verification:
    """Recompute the whole chain; with a digest, also check the log still holds what it
    signed (the same chain hash and Merkle root at its position, nothing truncated)."""
    check = ChainCheck(checkpoint_at=None if digest is None else digest.position)
    _run(store, check, None, progress)
    broken = check.broken if digest is None else check.compare(digest)
    return Verification(check.position, check.tip(), broken)


def checkpoint_at(store: Store, position: int | None = None) -> Checkpoint:
    """The ledger as of ``position`` (default: the tip), after checking the chain up to it:
    what ``regledger digest`` signs, and what a nightly report cut off at ``position`` cites."""
    check = ChainCheck(checkpoint_at=position)
    _run(store, check, position, None)
    if check.broken is not None:
        raise StoreCorrupted(
            f"the hash chain is broken at position {check.broken.position}: {check.broken.reason}"
        )
    found = check.tip() if position is None else check.checkpoint
    if found is None:
        what = "the ledger is empty" if check.position == 0 else f"the ledger ends at {check.position}"
        raise InvalidRequest(f"nothing to digest at position {position or 1}: {what}")
    return found


def _roots(store: Store, size: int, ranges: list[tuple[int, int]]) -> RangeRoots:
    roots = RangeRoots(ranges)
    for leaf in iter_leaves(store, size):
        roots.add(leaf_hash(leaf))
    return roots


def inclusion_proof(store: Store, event_id: str, digest: Checkpoint, version: int = 1) -> InclusionProof:
    [proof] = inclusion_proofs(store, [(event_id, version)], digest)
    return proof


def inclusion_proofs(store: Store, events: list[tuple[str, int]], digest: Checkpoint) -> list[InclusionProof]:
    """Proofs of several events (id, version) in one pass over the leaves: an evidence pack
    proves hundreds of events, each proof alone would read the whole log again."""
    size = digest.position
    positions = [position_of(store, event_id, version) for event_id, version in events]
    for (event_id, _), position in zip(events, positions, strict=True):
        if position > size:
            raise InvalidRequest(
                f"event {event_id!r} is at position {position}, after the digest's position {size}:"
                " make a newer digest"
            )
    paths = [inclusion_ranges(position - 1, size) for position in positions]
    roots = _roots(store, size, [*(r for path in paths for r in path), (0, size)])
    if roots.roots([(0, size)]) != [digest.merkle_root]:
        raise StoreCorrupted(
            f"the log up to position {size} no longer has the digest's Merkle root: run"
            " `regledger verify --digest`"
        )
    proofs = []
    for position, path in zip(positions, paths, strict=True):
        row = row_at(store, position)
        previous = row_at(store, position - 1).chain_hash if position > 1 else GENESIS_HASH
        if ChainCheck.recompute(row, previous) != row.chain_hash:
            raise StoreCorrupted(f"the row at position {position} does not hash to its chain hash: run `regledger verify`")
        proofs.append(InclusionProof(
            row.originator_id, row.originator_version, row.topic, position, row.recorded_at,
            previous, row.state, row.chain_hash, size, digest.merkle_root, tuple(roots.roots(path)),
        ))
    return proofs


def consistency_proof(store: Store, old: Checkpoint, new: Checkpoint) -> ConsistencyProof:
    if old.position > new.position:
        raise InvalidRequest(
            f"the earlier digest (position {old.position}) is beyond the later one"
            f" ({new.position}): swap them"
        )
    path = consistency_ranges(old.position, new.position) if old.position < new.position else []
    whole = [(0, old.position), (0, new.position)]
    found = _roots(store, new.position, [*path, *whole]).roots
    if found(whole) != [old.merkle_root, new.merkle_root]:
        raise StoreCorrupted(
            "the log no longer has both digests' Merkle roots: run `regledger verify --digest`"
        )
    return ConsistencyProof(
        old.position, old.merkle_root, new.position, new.merkle_root, tuple(found(path)),
    )

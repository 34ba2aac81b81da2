"""Checkpoints, verification and proofs over the stored log.

Checkpoints and verification read the log in bounded pages; hashing is O(n) in the positions
covered (a Merkle root over a million events is a few seconds of SHA-256), and memory is
O(page + log n), plus verification's O(n / 128) recomputed subtree roots.

A proof is O(log n): the stored roots of the complete subtrees its ranges are made of
(``projections.store.merkle_subtrees``) and the leaves of the few smaller pieces. The read
model is not trusted: every proof is checked against the digest's root (RFC 9162) before it
is returned, and one that fails (a stored root altered) is made again from the leaves alone,
as before the table existed, so the output is the same bytes either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.chain import GENESIS_HASH
from domain.errors import InvalidRequest, StoreCorrupted
from domain.evidence.chain_check import ChainBreak, ChainCheck, Row
from domain.evidence.digest import Checkpoint
from domain.evidence.proofs import ConsistencyProof, InclusionProof
from domain.merkle import (
    Piece,
    Range,
    RangeRoots,
    consistency_ranges,
    fold_pieces,
    inclusion_ranges,
    leaf_hash,
    piece_range,
    range_pieces,
    verify_consistency,
    verify_inclusion,
)
from projections.evidence.log import iter_leaves, iter_rows, position_of, row_at
from projections.sql import Sql
from projections.store import merkle_subtrees
from projections.store.base import Store

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int  # rows whose hash recomputed
    tip: Checkpoint | None  # at the last good position
    broken: ChainBreak | None
    # The first stored Merkle subtree root (``merkle_subtrees``) that differs from the one
    # recomputed from the chain, or lies beyond the intact log; None: every stored root holds.
    subtrees: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None and self.subtrees is None


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
    check = ChainCheck(checkpoint_at=None if digest is None else digest.position, subtrees_from=merkle_subtrees.LEVEL)
    _run(store, check, None, progress)
    broken = check.broken if digest is None else check.compare(digest)
    return Verification(check.position, check.tip(), broken, _subtrees_problem(store, check))


def _subtrees_problem(store: Store, check: ChainCheck) -> str | None:
    """The first stored subtree root that is not the one recomputed from the chain (a row
    the log does not complete is wrong too; one past a break in the chain is not judged). A
    row missing is no problem: a proof reads the leaves instead (a store made before the
    table catches up), and ``verify --projections`` names it."""
    with Sql(store).reading() as cursor:
        stored = merkle_subtrees.all_rows(cursor)
    for (level, index), root in sorted(stored.items()):
        start, end = piece_range((level, index))
        if check.broken is not None and end > check.position:
            continue  # past a break in the chain: that break is what verify reports
        if check.subtrees.get((level, index)) != root:
            return (
                f"the stored Merkle subtree root of positions {start + 1}..{end} (level {level},"
                f" index {index}) is not the one recomputed from the chain: run `regledger rebuild`"
            )
    return None


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


def recent_checkpoint(store: Store, position: int, checked_from: int) -> Checkpoint:
    """The checkpoint at ``position`` with the chain checked over positions ``checked_from``
    to ``position`` only, and the Merkle root from the stored subtree roots (the leaves for
    whatever they lack): O(position - checked_from + log n), where ``checkpoint_at`` is
    O(position). What the nightly report cites for its day: the day's links are checked
    every night; the rest of the chain, and the stored roots against it, are what ``verify``
    checks (a root altered in the table gives a digest that ``verify --digest`` refuses, as
    the log would have). On an intact log it equals ``checkpoint_at(store, position)``."""
    checked_from = max(1, min(checked_from, position))
    check = ChainCheck()
    if checked_from > 1:
        before = [row_at(store, p) for p in range(max(1, checked_from - 2), checked_from)]
        check.resume(checked_from - 1, before[-1].chain_hash, before[0].chain_hash if len(before) == 2 else GENESIS_HASH)
    check.feed(iter_rows(store, position, start=checked_from if checked_from > 1 else None))
    if check.broken is not None:
        raise StoreCorrupted(f"the hash chain is broken at position {check.broken.position}: {check.broken.reason}")
    if check.position != position or check.recorded_at is None:
        raise InvalidRequest(f"nothing to digest at position {position}: the ledger ends at {check.position}")
    root = _stored_roots(store, [(0, position)])[(0, position)]
    return Checkpoint(position, root, check.previous, check.recorded_at)


def _roots(store: Store, size: int, ranges: list[Range]) -> RangeRoots:
    """The roots of ``ranges`` from the leaves alone: one pass over positions 1..size."""
    roots = RangeRoots(ranges)
    for leaf in iter_leaves(store, size):
        roots.add(leaf_hash(leaf))
    return roots


def _leaf_spans(pieces: list[Piece], gap: int) -> list[Range]:
    """The leaves to read for ``pieces``: their ranges merged where less than ``gap`` apart
    (one read of a few more leaves costs less than another statement)."""
    spans: list[Range] = []
    for start, end in sorted(piece_range(p) for p in pieces):
        if spans and start <= spans[-1][1] + gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _stored_roots(store: Store, ranges: list[Range]) -> dict[Range, bytes]:
    """The roots of ``ranges`` from the stored subtrees, and from the leaves for the pieces
    below their level or missing (a store whose table still lags: then as slow as before)."""
    pieces = {span: range_pieces(span) for span in set(ranges)}
    wanted = {p for found in pieces.values() for p in found}
    level = merkle_subtrees.LEVEL
    with Sql(store).reading() as cursor:  # one transaction: a round trip each is what a proof costs
        roots = merkle_subtrees.stored(cursor, [p for p in wanted if p[0] >= level])
        missing = [p for p in wanted if p not in roots]
        for low, high in _leaf_spans(missing, 1 << level):
            inside = [p for p in missing if low <= piece_range(p)[0] < high]
            shifted = {p: (piece_range(p)[0] - low, piece_range(p)[1] - low) for p in inside}
            computed = RangeRoots(shifted.values())
            leaves = merkle_subtrees.ledger_leaves(cursor, low, high)
            if leaves is None:
                raise StoreCorrupted(f"the log is not positions {low + 1}..{high}")
            for leaf in leaves:
                computed.add(leaf_hash(leaf))
            roots.update(zip(inside, computed.roots(list(shifted.values())), strict=True))
    return {span: fold_pieces([roots[p] for p in found]) for span, found in pieces.items()}


def inclusion_proof(store: Store, event_id: str, digest: Checkpoint, version: int = 1) -> InclusionProof:
    [proof] = inclusion_proofs(store, [(event_id, version)], digest)
    return proof


def inclusion_proofs(store: Store, events: list[tuple[str, int]], digest: Checkpoint) -> list[InclusionProof]:
    """Proofs of several events (id, version) from one read of the stored subtrees: an
    evidence pack proves hundreds of events."""
    size = digest.position
    positions = [position_of(store, event_id, version) for event_id, version in events]
    for (event_id, _), position in zip(events, positions, strict=True):
        if position > size:
            raise InvalidRequest(
                f"event {event_id!r} is at position {position}, after the digest's position {size}:"
                " make a newer digest"
            )
    paths = [inclusion_ranges(position - 1, size) for position in positions]
    whole = (0, size)
    ranges = [*(r for path in paths for r in path), whole]
    proven: list[Row] = []
    try:
        found = _stored_roots(store, ranges)
        proven = [row_at(store, position) for position in positions]
        checked = found[whole] == digest.merkle_root and all(
            verify_inclusion(position - 1, size, leaf_hash(row.chain_hash), [found[r] for r in path], digest.merkle_root)
            for position, path, row in zip(positions, paths, proven, strict=True)
        )
    except StoreCorrupted:  # a damaged log: said as the leaves alone say it
        checked, proven = False, []
    if not checked:
        found = roots_from_leaves(store, size, ranges)
        if found[whole] != digest.merkle_root:
            raise StoreCorrupted(
                f"the log up to position {size} no longer has the digest's Merkle root: run"
                " `regledger verify --digest`"
            )
    proofs = []
    for index, (position, path) in enumerate(zip(positions, paths, strict=True)):
        row = proven[index] if proven else row_at(store, position)
        previous = row_at(store, position - 1).chain_hash if position > 1 else GENESIS_HASH
        if ChainCheck.recompute(row, previous) != row.chain_hash:
            raise StoreCorrupted(f"the row at position {position} does not hash to its chain hash: run `regledger verify`")
        proofs.append(InclusionProof(
            row.originator_id, row.originator_version, row.topic, position, row.recorded_at,
            previous, row.state, row.chain_hash, size, digest.merkle_root, tuple(found[r] for r in path),
        ))
    return proofs


def roots_from_leaves(store: Store, size: int, ranges: list[Range]) -> dict[Range, bytes]:
    """The roots of ``ranges`` from the leaves alone (the stored subtrees gave a proof that
    does not check: the read model was altered; ``verify`` names the row)."""
    unique = sorted(set(ranges))
    return dict(zip(unique, _roots(store, size, unique).roots(unique), strict=True))


def consistency_proof(store: Store, old: Checkpoint, new: Checkpoint) -> ConsistencyProof:
    if old.position > new.position:
        raise InvalidRequest(
            f"the earlier digest (position {old.position}) is beyond the later one"
            f" ({new.position}): swap them"
        )
    path = consistency_ranges(old.position, new.position) if old.position < new.position else []
    whole = [(0, old.position), (0, new.position)]
    expected = [old.merkle_root, new.merkle_root]
    try:
        found = _stored_roots(store, [*path, *whole])
        checked = [found[r] for r in whole] == expected and verify_consistency(
            old.position, new.position, old.merkle_root, new.merkle_root, [found[r] for r in path]
        )
    except StoreCorrupted:  # a damaged log: said as the leaves alone say it
        checked = False
    if not checked:
        found = roots_from_leaves(store, new.position, [*path, *whole])
        if [found[r] for r in whole] != expected:
            raise StoreCorrupted(
                "the log no longer has both digests' Merkle roots: run `regledger verify --digest`"
            )
    return ConsistencyProof(
        old.position, old.merkle_root, new.position, new.merkle_root, tuple(found[r] for r in path),
    )

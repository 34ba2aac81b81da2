"""The Merkle tree over the ledger's chain hashes, exactly as RFC 6962 section 2.1 defines it.

Leaf ``i`` (0-based) is the chain hash of ledger position ``i + 1``; its leaf hash is
``SHA-256(0x00 || chain_hash)``, an interior node ``SHA-256(0x01 || left || right)``, and a list
of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``. Audit paths and
consistency proofs are RFC 6962 sections 2.1.1 and 2.1.2; their checks are RFC 9162 sections
2.1.3.2 and 2.1.4.2. ``ops/VERIFYING.md`` restates all of it for regulators.

Proofs are computed from a stream of leaves: a proof is the roots of O(log n) ranges of leaves,
so one pass over the log (O(n) hashing, O(log n) memory per range) yields any of them. Every
such range is also a few complete, aligned subtrees (``range_pieces``) whose roots a store can
keep (``projections.store.merkle_subtrees``): a proof is then O(log n) stored roots and at most
a few small ranges of leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Range = tuple[int, int]  # [start, end) of leaf indices
Piece = tuple[int, int]  # (level, index): the complete subtree of leaves [index << level, (index + 1) << level)
# Told of each complete subtree an Accumulator builds: (level, index, root).
OnSubtree = Callable[[int, int, bytes], None]

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_BYTES = 32


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two strictly below ``size`` (> 1)."""
    assert size > 1
    return 1 << ((size - 1).bit_length() - 1)


class Accumulator:
    """The root of a growing list of leaves: the complete subtrees so far, largest first.

    Each leaf added completes the aligned subtrees it ends; with ``on_subtree`` those of
    ``2 ** level_from`` leaves or more are told as they complete (no hashing besides the root's
    own; ``level_from`` at least 1). ``frontier`` resumes after ``size`` leaves from the roots of the complete subtrees
    of ``size``'s binary decomposition, largest first."""

    __slots__ = ("_on_subtree", "_stack", "_width_from", "size")

    def __init__(
        self, on_subtree: OnSubtree | None = None, level_from: int = 0,
        size: int = 0, frontier: Sequence[bytes] = (),
    ) -> None:
        widths = [1 << bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
        assert len(widths) == len(frontier), "one root per set bit of the size"
        self._stack: list[tuple[int, bytes]] = list(zip(widths, frontier, strict=True))
        self.size = size
        self._on_subtree = on_subtree
        assert on_subtree is None or level_from >= 1, "a leaf is not told"
        self._width_from = 1 << level_from if on_subtree is not None else 1 << 64

    def add(self, hashed_leaf: bytes) -> None:
        """Append one leaf, given as its leaf hash."""
        stack, width, node = self._stack, 1, hashed_leaf
        self.size += 1
        while stack and stack[-1][0] == width:
            node = node_hash(stack.pop()[1], node)
            width *= 2
            if width >= self._width_from:
                assert self._on_subtree is not None
                self._on_subtree(width.bit_length() - 1, self.size // width - 1, node)
        stack.append((width, node))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaves (raw leaf data, not yet leaf-hashed)."""
    accumulator = Accumulator()
    for data in leaves:
        accumulator.add(leaf_hash(data))
    return accumulator.root()


def piece_range(piece: Piece) -> Range:
    level, index = piece
    return index << level, (index + 1) << level


def range_pieces(span: Range) -> list[Piece]:
    """The complete aligned subtrees of a range of a proof, largest first: the binary
    decomposition of its size from its start. Every range ``inclusion_ranges`` and
    ``consistency_ranges`` give, and every prefix ``(0, size)``, starts at a multiple of its
    largest piece, so its root is the pieces' roots folded from the right (``fold_pieces``)."""
    start, end = span
    assert 0 <= start < end
    size = end - start
    pieces = []
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            assert start % (1 << bit) == 0, f"range {span} is not aligned on its pieces"
            pieces.append((bit, start >> bit))
            start += 1 << bit
    return pieces


def fold_pieces(roots: Sequence[bytes]) -> bytes:
    """The root of a range from its pieces' roots, largest first (``range_pieces``): RFC 6962
    splits a range at its largest power of two, which is its first piece."""
    node = roots[-1]
    for left in reversed(roots[:-1]):
        node = node_hash(left, node)
    return node


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose roots form PATH(index, D[0:size]), in the proof's order (leaf upward)."""
    assert 0 <= index < size
    ranges: list[Range] = []
    low, high = 0, size
    while high - low > 1:
        k = split(high - low)
        if index < low + k:
            ranges.append((low + k, high))
            high = low + k
        else:
            ranges.append((low, low + k))
            low += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose roots form PROOF(old_size, D[0:new_size]), in the proof's order."""
    assert 0 < old_size <= new_size
    ranges: list[Range] = []
    m, low, high, whole = old_size, 0, new_size, True
    while m != high - low:
        k = split(high - low)
        if m <= k:
            ranges.append((low + k, high))
            high = low + k
        else:
            ranges.append((low, low + k))
            m, low, whole = m - k, low + k, False
    if not whole:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


class RangeRoots:
    """Roots of several ranges of leaves, computed in one pass over the leaves in order.

    The ranges of one proof are disjoint; a caller may add the whole tree and an older prefix,
    so a few ranges overlap: each leaf goes to the (at most a few) ranges open at it.
    """

    def __init__(self, ranges: Iterable[Range]) -> None:
        self._pending = sorted(set(ranges), reverse=True)  # next to open at the end
        assert all(0 <= start < end for start, end in self._pending), "empty or negative range"
        self._open: list[tuple[Range, Accumulator]] = []
        self._adders: list[Accumulator] = []
        self._done: dict[Range, bytes] = {}
        self._index = 0
        self._next_change = 0  # the next index at which a range opens or closes

    def add(self, hashed_leaf: bytes) -> None:
        if self._index == self._next_change:
            self._open_ranges()
        for accumulator in self._adders:
            accumulator.add(hashed_leaf)
        self._index += 1
        if self._index == self._next_change:
            self._close_ranges()

    def _open_ranges(self) -> None:
        pending = self._pending
        while pending and pending[-1][0] == self._index:
            self._open.append((pending.pop(), Accumulator()))
        self._changed()

    def _close_ranges(self) -> None:
        for span, accumulator in self._open:
            if span[1] == self._index:
                self._done[span] = accumulator.root()
        self._open = [(span, a) for span, a in self._open if span[1] != self._index]
        self._changed()

    def _changed(self) -> None:
        self._adders = [accumulator for _, accumulator in self._open]
        upcoming = [span[1] for span, _ in self._open]
        if self._pending:
            upcoming.append(self._pending[-1][0])
        self._next_change = min(upcoming, default=-1)

    def roots(self, ranges: Sequence[Range]) -> list[bytes]:
        missing = [span for span in ranges if span not in self._done]
        assert not missing, f"leaves ran out before ranges {missing}"
        return [self._done[span] for span in ranges]


def verify_inclusion(index: int, size: int, hashed_leaf: bytes, path: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``path`` lead from leaf ``index`` to ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, hashed_leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of ``new_size`` leaves an extension of the one of
    ``old_size``? Equal sizes need an empty proof and equal roots."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root

"""Recomputing the hash chain row by row, and naming the first position that is wrong.

The rows arrive in position order (ties kept, so a duplicated position is seen). Each row's
chain hash is recomputed from its own fields and the previous row's stored hash; positions
must run 1, 2, 3 ... without gaps or repeats. Leaves feed a Merkle accumulator on the way, so
one pass also yields the checkpoint (root, chain hash, time) at any position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.chain import GENESIS_HASH, chain_hash
from domain.evidence.digest import Checkpoint
from domain.merkle import Accumulator, leaf_hash


@dataclass(frozen=True, slots=True)
class Row:
    """A ledger row as stored: every field the chain hash covers, and the stored hash."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes
    recorded_at: datetime
    recorded_at_text: bytes  # format_recorded_at(recorded_at), computed once per batch time
    chain_hash: bytes


@dataclass(frozen=True, slots=True)
class ChainBreak:
    position: int
    reason: str


class ChainCheck:
    """Feed rows in order; ``broken`` is the first problem, after which nothing is checked."""

    def __init__(self, checkpoint_at: int | None = None, subtrees_from: int | None = None) -> None:
        """``subtrees_from``: also keep the root of every complete aligned subtree of
        ``2 ** subtrees_from`` leaves or more (``subtrees``, by (level, index)), to compare
        with the stored ones."""
        self.position = 0
        self.previous = GENESIS_HASH
        self._before_previous = GENESIS_HASH
        self.recorded_at: datetime | None = None
        self.broken: ChainBreak | None = None
        self.checkpoint: Checkpoint | None = None
        self._checkpoint_at = checkpoint_at
        self.subtrees: dict[tuple[int, int], bytes] = {}
        if subtrees_from is None:
            self._tree = Accumulator()
        else:
            self._tree = Accumulator(self._keep, subtrees_from)

    def _keep(self, level: int, index: int, root: bytes) -> None:
        self.subtrees[level, index] = root

    def resume(self, position: int, previous: bytes, before_previous: bytes) -> None:
        """Check from ``position + 1`` on, trusting the stored hashes up to ``position`` (the
        last two of them given). The Merkle root then covers only the rows fed: not a
        checkpoint of the log (``checkpoint`` stays None)."""
        assert self.position == 0 and self._checkpoint_at is None
        self.position, self.previous, self._before_previous = position, previous, before_previous

    def feed(self, rows: Iterable[Row]) -> ChainBreak | None:
        for row in rows:
            if self.broken is None:
                self.broken = self._check(row)
            if self.broken is not None:
                break
        return self.broken

    def _check(self, row: Row) -> ChainBreak | None:
        expected = self.position + 1
        if row.position < expected:
            return ChainBreak(row.position, f"position {row.position} appears more than once")
        if row.position > expected:
            return ChainBreak(expected, f"position {expected} is missing: the log jumps to {row.position}")
        recomputed = self._hash(row, expected, self.previous)
        if recomputed != row.chain_hash:
            if expected > 1 and self._hash(row, expected - 1, self._before_previous) == row.chain_hash:
                return ChainBreak(
                    expected - 1,
                    f"the row now at position {expected} was chained at position {expected - 1}:"
                    f" the row at {expected - 1} was inserted before it, or rows were moved",
                )
            return ChainBreak(
                expected,
                "the stored chain hash does not match the one recomputed from the row's fields"
                " and the previous hash: the row was edited, inserted or moved",
            )
        self._before_previous, self.previous, self.position = self.previous, row.chain_hash, expected
        self.recorded_at = row.recorded_at
        self._tree.add(leaf_hash(row.chain_hash))
        if expected == self._checkpoint_at:
            self.checkpoint = Checkpoint(expected, self._tree.root(), row.chain_hash, row.recorded_at)
        return None

    @staticmethod
    def _hash(row: Row, position: int, previous: bytes) -> bytes:
        return chain_hash(
            position, row.recorded_at, previous, row.originator_id, row.originator_version,
            row.topic, row.state, recorded_at_text=row.recorded_at_text,
        )

    @classmethod
    def recompute(cls, row: Row, previous: bytes) -> bytes:
        """The chain hash ``row`` should carry after a row whose hash is ``previous``."""
        return cls._hash(row, row.position, previous)

    def tip(self) -> Checkpoint | None:
        """The checkpoint at the last good position (None for an empty ledger)."""
        if self.recorded_at is None:
            return None
        return Checkpoint(self.position, self._tree.root(), self.previous, self.recorded_at)

    def compare(self, digest: Checkpoint) -> ChainBreak | None:
        """After the whole log: does it still hold what the digest commits to?"""
        if self.broken is not None:
            return self.broken
        if self.position < digest.position:
            return ChainBreak(
                self.position + 1,
                f"truncated: the log ends at position {self.position}, below the digest's"
                f" position {digest.position}",
            )
        found = self.checkpoint
        assert found is not None, "the checkpoint was asked for at the digest's position"
        if found != digest:
            return ChainBreak(
                digest.position,
                f"the log up to position {digest.position} is not the one the digest signed:"
                " rows at or before it were rewritten and re-chained",
            )
        return None

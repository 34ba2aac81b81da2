"""The roots of the ledger's complete, aligned Merkle subtrees of ``2 ** LEVEL`` leaves and
more (``merkle_subtrees``): a read model of the chain hashes, kept so that a proof is O(log n)
stored roots (``projections.evidence.attest``) instead of the whole tree recomputed.

Row ``(level, idx, root)`` is the RFC 6962 root of leaves ``[idx << level, (idx + 1) << level)``
(``domain.merkle``). The table holds every such subtree of level ``LEVEL`` or more that lies
in ``[0, covered)``, ``covered`` a multiple of ``2 ** LEVEL`` (about ``2 n / 2 ** LEVEL`` rows):
the roots of ``covered``'s binary decomposition (its frontier) are rows, so the tree resumes
from them without reading older leaves.

The ledger's writers extend it in their own transaction (``extend``: the batch's leaves from
memory, the leaves since ``covered`` from the ledger, fewer than ``2 ** LEVEL``), so it
commits with the rows it summarises and is always at the tip. A store made before the table
(empty, the ledger not) is caught up ``CATCH_UP_LEAVES`` leaves per write, or at once by
``regledger rebuild`` (``catch_up``); meanwhile a proof reads the leaves its rows miss.

Nothing trusts it: a proof made from it is checked against the signed root before it is
written, and ``verify`` compares every row with the tree recomputed from the chain.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from domain.chain import ChainedRow
from domain.merkle import Accumulator, Piece, leaf_hash, range_pieces
from projections.store.cursors import Cursor

TABLE = "merkle_subtrees"
# 256 leaves: a proof hashes at most a few hundred leaves besides its stored roots (1,024
# measured 3-4 times slower), and the table is ~n/128 rows (80,000 at 10 million).
LEVEL = 8
# How far one write catches up a table that lags (a store made before it): ~0.2 s of hashing.
CATCH_UP_LEAVES = 1 << 16
PIECES_PER_STATEMENT = 64

SELECT_COVERED = "SELECT MAX(idx) FROM merkle_subtrees WHERE level = ?"
SELECT_LEAVES = (
    "SELECT notification_id, chain_hash FROM ledger_events"
    " WHERE notification_id > ? AND notification_id <= ? ORDER BY notification_id"
)
SELECT_ALL = "SELECT level, idx, root FROM merkle_subtrees"
# One statement for any few pieces: the slots a lookup does not use are bound to no row (-1).
SELECT_PIECES = SELECT_ALL + " WHERE " + " OR ".join(["(level = ? AND idx = ?)"] * PIECES_PER_STATEMENT)
INSERT = "INSERT INTO merkle_subtrees (level, idx, root) VALUES (?, ?, ?)"
DELETE_ALL = "DELETE FROM merkle_subtrees"


def covered(c: Cursor, level: int | None = None) -> int:
    """How many leaves the table covers: every subtree in ``[0, covered)`` is a row."""
    level = LEVEL if level is None else level
    c.execute(SELECT_COVERED, (level,))
    row = c.fetchone()
    return 0 if row is None or row[0] is None else (int(row[0]) + 1) << level


def stored(c: Cursor, pieces: Collection[Piece]) -> dict[Piece, bytes]:
    """The stored roots of ``pieces`` (those the table has)."""
    found: dict[Piece, bytes] = {}
    wanted = sorted(set(pieces))
    for start in range(0, len(wanted), PIECES_PER_STATEMENT):
        chunk = wanted[start : start + PIECES_PER_STATEMENT]
        chunk += [(-1, -1)] * (PIECES_PER_STATEMENT - len(chunk))
        c.execute(SELECT_PIECES, [v for piece in chunk for v in piece])
        found.update(((int(r[0]), int(r[1])), bytes(r[2])) for r in c.fetchall())
    return found


def all_rows(c: Cursor) -> dict[Piece, bytes]:
    c.execute(SELECT_ALL)
    return {(int(r[0]), int(r[1])): bytes(r[2]) for r in c.fetchall()}


def ledger_leaves(c: Cursor, after: int, through: int) -> list[bytes] | None:
    """The chain hashes of positions ``after + 1 .. through``; None when they are not exactly
    those positions (a damaged ledger: ``verify`` names it; the table is left as it is)."""
    if through <= after:
        return []
    c.execute(SELECT_LEAVES, (after, through))
    rows = c.fetchall()
    if [int(r[0]) for r in rows] != list(range(after + 1, through + 1)):
        return None
    return [bytes(r[1]) for r in rows]


def _resume(c: Cursor, start: int, level: int, found: list[tuple[int, int, bytes]]) -> Accumulator | None:
    """The tree of the first ``start`` leaves, resumed from its frontier's rows (None: a row
    is missing, the table was damaged: only a rebuild extends it again)."""
    frontier = range_pieces((0, start)) if start else []
    roots = stored(c, frontier)
    if len(roots) != len(frontier):
        return None
    return Accumulator(lambda lv, idx, root: found.append((lv, idx, root)), level, start, [roots[p] for p in frontier])


def _grow(c: Cursor, start: int, leaves: Iterable[bytes], level: int) -> None:
    found: list[tuple[int, int, bytes]] = []
    tree = _resume(c, start, level, found)
    if tree is None:
        return
    for leaf in leaves:
        tree.add(leaf_hash(leaf))
    c.executemany(INSERT, found)


def extend(c: Cursor, rows: Sequence[ChainedRow], level: int | None = None) -> None:
    """After ``rows`` were appended in this transaction (the ledger's lock held): the subtrees
    they complete."""
    if not rows:
        return
    level = LEVEL if level is None else level
    block = 1 << level
    before, tip = rows[0].position - 1, rows[-1].position
    start = covered(c, level)
    if start > before:  # a table ahead of the ledger is damaged: a rebuild repairs it
        return
    if before - start > CATCH_UP_LEAVES:  # a store made before the table: a slice of it
        catch_up_step(c, before, level)
        return
    older = ledger_leaves(c, start, before)
    if older is None:
        return
    end = tip // block * block
    if end <= start:
        return
    _grow(c, start, [*older, *(r.chain_hash for r in rows)][: end - start], level)


def catch_up_step(c: Cursor, tip: int, level: int | None = None) -> bool:
    """Extend the table by at most ``CATCH_UP_LEAVES`` leaves read from the ledger, towards
    ``tip``; True when it then covers every complete subtree below ``tip``."""
    level = LEVEL if level is None else level
    block = 1 << level
    start, goal = covered(c, level), tip // block * block
    end = min(goal, start + CATCH_UP_LEAVES)
    if end > start:
        leaves = ledger_leaves(c, start, end)
        if leaves is None:
            return True  # nothing more can be done until the ledger is repaired
        _grow(c, start, leaves, level)
    return end >= goal


def clear(c: Cursor) -> None:
    c.execute(DELETE_ALL)

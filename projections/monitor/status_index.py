"""Which clients can flip status when one price moves: per price key, a sorted index of levels.

A client's slack (see ``policies.status``) is shared equally between the n keys it is exposed
to, and each key gets the *level* at which its slope alone would use up its share:
``p_k - slack / (n x slope_k)``, p_k its price when the client was last evaluated. While no
key's price has reached its level, the slack has moved by less than its whole amount, so the
status cannot have flipped; a move of key k from p to p' can flip only clients whose level for
k lies in [min(p, p'), max(p, p')], found by bisection. Re-evaluating a client re-levels all
its keys at the prices of the time. (With one key, the level is the price at which it flips.)

Levels are floats correctly rounded from the exact ratio. Rounding is monotone, so a level in
[p, p'] rounds into [float(p), float(p')]: the float search finds every client the exact one
would, and at most a few more on a boundary, which their re-evaluation settles. Every change
is journaled, so a preview leaves the index as it was.

An indexed level need not be the level itself: any value between the key's price and its
level *covers* it, as a price must reach that value before the level, so the client is found
no later (perhaps earlier, and re-evaluated for nothing, which is harmless). The index keeps
the levels already indexed while they cover the new ones (same keys, each between its price
now and its new level), and indexes a new level halfway from the price, so the small moves
of a threshold that each trade makes cost no re-indexing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal

from sortedcontainers import SortedList

from domain.book.journal import Journal
from policies.status import StatusSlack

Levels = tuple[tuple[str, float], ...]  # (key, level) per key the client is exposed to
PriceOf = Callable[[str], Decimal]


def rounded(numerator: Decimal, denominator: Decimal) -> float:
    """``numerator / denominator`` correctly rounded to a float (Python's int division is)."""
    n1, d1 = numerator.as_integer_ratio()
    n2, d2 = denominator.as_integer_ratio()
    try:
        return (n1 * d2) / (d1 * n2)
    except OverflowError:  # beyond any price: the order is all that matters
        return math.copysign(math.inf, n1 * n2)


def _halfway(price: float, level: float) -> float:
    """A value between ``price`` and ``level`` (both included), about halfway."""
    if math.isinf(level):
        return level
    return min(max(price + (level - price) * 0.5, min(price, level)), max(price, level))


class StatusIndex:
    __slots__ = ("_by_key", "_entries", "_journal")

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._entries: dict[str, Levels] = {}
        # key -> [(level, client_id)], sorted as tuples (cheaper than by a key function)
        self._by_key: dict[str, SortedList] = {}

    def put(self, client_id: str, exposure: StatusSlack | None, price_of: PriceOf) -> None:
        """Index the client as exposed now (None or no slopes: not indexed).

        One pass over its keys, in key order, computes each level and checks whether the
        indexed one still covers it (same keys, each between its price now and its new level);
        only when one does not is the client re-indexed, halfway from each price."""
        old = self._entries.get(client_id, ())
        if exposure is None or not exposure.slopes:
            if old:
                self._reindex(client_id, old, ())
            return
        slopes, slack = exposure.slopes, exposure.slack
        shares = len(slopes)
        covered = len(old) == shares
        new: list[tuple[str, float, float]] = []  # (key, level, price as a float)
        for i, key in enumerate(sorted(slopes) if shares > 1 else slopes):
            price = price_of(key)
            weighted = shares * slopes[key]
            level = rounded(price * weighted - slack, weighted)
            at = float(price)
            new.append((key, level, at))
            if covered:
                indexed_key, was = old[i]
                covered = indexed_key == key and (at <= was <= level or level <= was <= at)
        if not covered:
            self._reindex(client_id, old, tuple((key, _halfway(at, level)) for key, level, at in new))

    def _reindex(self, client_id: str, old: Levels, indexed: Levels) -> None:
        self._replace(client_id, old, indexed)
        self._journal.record(lambda: self._replace(client_id, indexed, old))

    def candidates(self, key: str, old: Decimal, new: Decimal) -> Iterable[str]:
        """Every client whose status can change when ``key`` moves from ``old`` to ``new``."""
        ranked = self._by_key.get(key)
        if ranked is None:
            return ()
        low, high = float(min(old, new)), float(max(old, new))
        # Every (level, client) with low <= level <= high: (low,) sorts before all of them,
        # and (the next float after high,) after all of them. Most moves cross no level.
        start = ranked.bisect_left((low,))
        end = len(ranked) if high == math.inf else ranked.bisect_left((math.nextafter(high, math.inf),))
        return () if start == end else (client_id for _, client_id in ranked[start:end])

    def exposed_to(self, key: str) -> Iterable[str]:
        ranked = self._by_key.get(key)
        return () if ranked is None else (client_id for _, client_id in ranked)

    def _replace(self, client_id: str, old: Levels, new: Levels) -> None:
        for key, level in old:
            self._by_key[key].remove((level, client_id))
        for key, level in new:
            ranked = self._by_key.get(key)
            if ranked is None:
                ranked = self._by_key[key] = SortedList()
            ranked.add((level, client_id))
        if new:
            self._entries[client_id] = new
        else:
            self._entries.pop(client_id, None)

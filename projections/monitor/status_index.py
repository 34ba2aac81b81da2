"""Which clients can flip status when one price moves: a sorted index of thresholds.

A client exposed to one price key sits in that key's sorted list at its threshold (see
``exposure``); a move from p to p' can flip exactly the clients whose threshold lies in
[min(p, p'), max(p, p')], found by bisection. A client exposed to several keys has no fixed
threshold (it moves with the other prices), so it is listed per key and re-checked on every
move of any of them. Every change is journaled, so a preview leaves the index as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from operator import itemgetter

from sortedcontainers import SortedKeyList

from domain.book.journal import Journal
from projections.monitor.exposure import Exposure

# What a client is indexed under: (key, threshold) when exposed to one key, else its keys.
Entry = tuple[str, Fraction] | frozenset[str]
PriceOf = Callable[[str], Decimal]


class StatusIndex:
    __slots__ = ("_entries", "_journal", "_multi", "_single")

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._entries: dict[str, Entry] = {}
        self._single: dict[str, SortedKeyList] = {}  # key -> [(threshold, client_id)]
        self._multi: dict[str, set[str]] = {}  # key -> clients exposed to it and others

    def put(self, client_id: str, exposure: Exposure | None, price_of: PriceOf) -> None:
        """Index the client as exposed now (None or no slopes: not indexed)."""
        entry: Entry | None = None
        if exposure is not None and len(exposure.slopes) == 1:
            ((key, slope),) = exposure.slopes.items()
            entry = (key, Fraction(price_of(key)) - exposure.slack / slope)
        elif exposure is not None and exposure.slopes:
            entry = frozenset(exposure.slopes)
        old = self._entries.get(client_id)
        if old != entry:
            self._replace(client_id, old, entry)
            self._journal.record(lambda: self._replace(client_id, entry, old))

    def candidates(self, key: str, old: Decimal, new: Decimal) -> Iterable[str]:
        """Every client whose status can change when ``key`` moves from ``old`` to ``new``."""
        low, high = Fraction(min(old, new)), Fraction(max(old, new))
        ranked = self._single.get(key)
        if ranked is not None:
            yield from (client_id for _, client_id in ranked.irange_key(low, high))
        yield from self._multi.get(key, ())

    def exposed_to(self, key: str) -> Iterable[str]:
        ranked = self._single.get(key)
        if ranked is not None:
            yield from (client_id for _, client_id in ranked)
        yield from self._multi.get(key, ())

    def _replace(self, client_id: str, old: Entry | None, new: Entry | None) -> None:
        if isinstance(old, tuple):
            self._single[old[0]].remove((old[1], client_id))
        elif old is not None:
            for key in old:
                self._multi[key].discard(client_id)
        if isinstance(new, tuple):
            ranked = self._single.get(new[0])
            if ranked is None:
                ranked = self._single[new[0]] = SortedKeyList(key=itemgetter(0))
            ranked.add((new[1], client_id))
        elif new is not None:
            for key in new:
                self._multi.setdefault(key, set()).add(client_id)
        if new is None:
            self._entries.pop(client_id, None)
        else:
            self._entries[client_id] = new


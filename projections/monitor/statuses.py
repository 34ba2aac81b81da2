"""Step (5): re-evaluate every client status whose value can change, as the registry lists them.

Semantically every client is re-evaluated after every event; incrementally, only these can
change: the clients the event touched, in the statuses that read the sides it edited (a
trade cannot make a client short: "short" reads only the margin-financing side); for a
moved price, the clients whose threshold it crossed (``StatusIndex``), in that status; when
the terms in force a status reads differ from those of its last evaluation (an MF-04/MF-05
amendment taking effect, or a late event before one), every client; when an asset is priced
for the first time, the holders of contracts that were marked at their last trade price and
are now marked at the asset's price.

The tracker owns what the book reports of each event applied (``Changes``): the engine gives
the book the tracker's, and the tracker takes it here. It knows statuses only through ``ClientStatus`` (``policies.registry``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import attrgetter
from types import MappingProxyType

from domain.book.book import CONTRACT_MARK_PREFIX, Book, StatusRegime
from domain.book.changes import BOTH_SIDES, Changes
from policies.registry import CLIENT_STATUSES
from policies.rule import Context, ParamsInForce
from projections.monitor.status_index import StatusIndex

Terms = tuple[StatusRegime | None, ...]  # per status, the terms it is evaluated under
# The client's statuses as its row stores them, in ``CLIENT_STATUSES`` order.
stored_statuses: attrgetter[tuple[bool, ...]] = attrgetter(*(s.name for s in CLIENT_STATUSES))
_NOTHING: Mapping[str, int] = MappingProxyType({})
_ALL_GOOD = tuple(False for _ in CLIENT_STATUSES)


def terms_in_force(params: ParamsInForce) -> Terms:
    return tuple(None if s.terms is None else s.terms(params) for s in CLIENT_STATUSES)


class StatusTracker:
    __slots__ = ("_book", "_in_force", "_plan", "_termed", "changes", "indexes", "terms")

    def __init__(self, book: Book, changes: Changes) -> None:
        self._book = book
        self.changes = changes  # what the book reports of the event being applied
        self.indexes = tuple(StatusIndex(book.journal) for _ in CLIENT_STATUSES)
        # Per status: its place, the sides it reads, its slack and its index.
        self._plan = tuple(
            (i, s.side, s.slack, index)
            for (i, s), index in zip(enumerate(CLIENT_STATUSES), self.indexes, strict=True)
        )
        self._termed = tuple((i, s.terms_key) for i, s in enumerate(CLIENT_STATUSES) if s.terms_key)
        # The terms of the last ``ParamsInForce`` read: the engine shares one per span of
        # parameters in force, so they are read once per span rather than per event.
        self._in_force: tuple[ParamsInForce | None, Terms] = (None, ())
        # After ``to_recheck``: the terms every status is evaluated under (in force at E, and
        # as the book keeps them).
        self.terms: Terms = tuple(None for _ in CLIENT_STATUSES)

    def rebuild(self) -> None:
        """Index every client of a restored book under the terms of its last evaluation."""
        stored = self._book.status_regime.get
        terms = tuple(None if s.terms_key is None else stored(s.terms_key) for s in CLIENT_STATUSES)
        for client_id in self._book.clients:
            self.evaluate(client_id, terms)

    def to_recheck(self, ctx: Context) -> list[tuple[str, int]]:
        """The clients whose status may have changed with E, each with the sides whose
        statuses may have (a status reads its ``side``), by id; takes ``changes``."""
        book = self._book
        changes = self.changes
        touched, moves = changes.take() if changes.touched or changes.moves else (_NOTHING, ())
        if self._in_force[0] is not ctx.params:
            self._in_force = (ctx.params, terms_in_force(ctx.params))
        terms = self.terms = self._in_force[1]
        # Reading: "now" is E's time, so a late event from before an MF-04/MF-05 amendment's
        # effective date re-evaluates every client under the older terms (and the next
        # on-time event under the newer ones): statuses, and MF-07, follow event time.
        stale = False
        for i, key in self._termed:
            in_force = terms[i]
            if in_force is not None and book.status_regime.get(key) != in_force:
                book.status_regime.put(key, in_force)
                stale = True
        if stale:
            return [(client_id, BOTH_SIDES) for client_id in sorted(book.clients.keys())]
        if not moves:
            return sorted(touched.items())
        dirty = dict(touched)
        for move in moves:
            for _, side, _, index in self._plan:
                for client_id in index.candidates(move.key, move.old, move.new):
                    dirty[client_id] = dirty.get(client_id, 0) | side
            if move.first:
                for client_id, side in self._remarked_holders(move.key):
                    dirty[client_id] = dirty.get(client_id, 0) | side
        return sorted(dirty.items())

    def _remarked_holders(self, asset: str) -> Iterator[tuple[str, int]]:
        for contract in self._book.contracts.values():
            if contract.reference_asset == asset:
                key = CONTRACT_MARK_PREFIX + contract.contract_id
                for _, side, _, index in self._plan:
                    for client_id in index.exposed_to(key):
                        yield client_id, side

    def evaluate(self, client_id: str, terms: Terms, sides: int = BOTH_SIDES) -> tuple[bool, ...]:
        """The client's statuses now, in ``CLIENT_STATUSES`` order; re-indexes it on the
        way. A status whose side is not in ``sides`` is as last evaluated: nothing it reads
        has changed since (its index entry, from that evaluation, stays valid likewise)."""
        book = self._book
        client = book.clients.get(client_id)
        if client is None:
            return _ALL_GOOD
        now = stored_statuses(client)
        for i, side, slack, index in self._plan:
            if sides & side:
                exposure = slack(book, client, terms[i])
                index.put(client_id, exposure, book.key_price)
                bad = exposure is not None and exposure.bad
                if bad != now[i]:
                    now = (*now[:i], bad, *now[i + 1:])
        return now

"""Step (5): re-evaluate short and below-maintenance for every client whose status can change.

Semantically every client is re-evaluated after every event; incrementally, only these can
change: the clients the event touched, in the statuses of the sides it edited (a trade
cannot make a client short: "short" reads only the margin-financing side); for a moved
price, the clients whose threshold it crossed (``StatusIndex``), in that status; when the collateral terms in force differ from those of the last
evaluation (an MF-04/MF-05 amendment taking effect, or a late event before one), every
client; when an asset is priced for the first time, the holders of contracts that were
marked at their last trade price and are now marked at the asset's price.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from domain.book.book import (
    BOTH_SIDES,
    CONTRACT_MARK_PREFIX,
    FINANCING,
    PERPETUALS,
    Book,
    PriceMove,
    StatusRegime,
)
from policies.margin_financing.collateral import eligible_assets, min_haircut
from policies.rule import Context, ParamsInForce
from projections.monitor.exposure import maintenance, shortness
from projections.monitor.status_index import StatusIndex

REGIME_KEY = "mf"


def regime_in_force(params: ParamsInForce) -> StatusRegime:
    return (eligible_assets(params), min_haircut(params))


class StatusTracker:
    __slots__ = ("_book", "_regime", "below", "short")

    def __init__(self, book: Book) -> None:
        self._book = book
        # The terms of the last ``ParamsInForce`` read: the engine shares one per span of
        # parameters in force, so they are read once per span rather than per event.
        self._regime: tuple[ParamsInForce, StatusRegime] | None = None
        self.short = StatusIndex(book.journal)
        self.below = StatusIndex(book.journal)

    def rebuild(self) -> None:
        """Index every client of a restored book under the terms of its last evaluation."""
        regime = self._book.status_regime.get(REGIME_KEY)
        for client_id in self._book.clients:
            self.evaluate(client_id, regime)

    def to_recheck(
        self, ctx: Context, touched: Mapping[str, int], moves: list[PriceMove]
    ) -> list[tuple[str, int]]:
        """The clients whose status may have changed with E, each with the sides whose
        status may have (``FINANCING``: short, ``PERPETUALS``: below maintenance), by id."""
        book = self._book
        if self._regime is None or self._regime[0] is not ctx.params:
            self._regime = (ctx.params, regime_in_force(ctx.params))
        regime = self._regime[1]
        # Reading: "now" is E's time, so a late event from before an MF-04/MF-05 amendment's
        # effective date re-evaluates every client under the older terms (and the next
        # on-time event under the newer ones): statuses, and MF-07, follow event time.
        if book.status_regime.get(REGIME_KEY) != regime:
            book.status_regime.put(REGIME_KEY, regime)
            return [(client_id, BOTH_SIDES) for client_id in sorted(book.clients.keys())]
        if not moves:
            return sorted(touched.items())
        dirty = dict(touched)
        for move in moves:
            for client_id in self.short.candidates(move.key, move.old, move.new):
                dirty[client_id] = dirty.get(client_id, 0) | FINANCING
            for client_id in self.below.candidates(move.key, move.old, move.new):
                dirty[client_id] = dirty.get(client_id, 0) | PERPETUALS
            if move.first:
                for client_id in self._remarked_holders(move.key):
                    dirty[client_id] = dirty.get(client_id, 0) | PERPETUALS
        return sorted(dirty.items())

    def _remarked_holders(self, asset: str) -> Iterator[str]:
        for contract in self._book.contracts.values():
            if contract.reference_asset == asset:
                yield from self.below.exposed_to(CONTRACT_MARK_PREFIX + contract.contract_id)

    def evaluate(
        self, client_id: str, regime: StatusRegime | None, sides: int = BOTH_SIDES
    ) -> tuple[bool, bool]:
        """The client's (short, below maintenance) now; re-indexes it on the way. A status
        whose side is not in ``sides`` is as last evaluated: nothing it reads has changed
        since (its index entry, from that evaluation, stays valid for the same reason)."""
        book = self._book
        client = book.clients.get(client_id)
        if client is None:
            return (False, False)
        is_short, is_below = client.short, client.below_maintenance
        if sides & FINANCING:
            is_short = False
            if regime is not None:
                exposure = shortness(book, client, *regime)
                self.short.put(client_id, exposure, book.key_price)
                is_short = exposure.bad
        if sides & PERPETUALS:
            below = maintenance(book, client)
            self.below.put(client_id, below, book.key_price)
            is_below = below is not None and below.bad
        return (is_short, is_below)

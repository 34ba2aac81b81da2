"""Step (5): re-evaluate short and below-maintenance for every client whose status can change.

Semantically every client is re-evaluated after every event; incrementally, only these can
change: the clients the event touched; for a moved price, the clients whose threshold it
crossed (``StatusIndex``); when the collateral terms in force differ from those of the last
evaluation (an MF-04/MF-05 amendment taking effect, or a late event before one), every
client; when an asset is priced for the first time, the holders of contracts that were
marked at their last trade price and are now marked at the asset's price.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from domain.book.book import CONTRACT_MARK_PREFIX, Book, PriceMove, StatusRegime
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

    def to_recheck(self, ctx: Context, touched: AbstractSet[str], moves: list[PriceMove]) -> list[str]:
        """The clients whose status may have changed with E, in a deterministic order."""
        book = self._book
        if self._regime is None or self._regime[0] is not ctx.params:
            self._regime = (ctx.params, regime_in_force(ctx.params))
        regime = self._regime[1]
        # Reading: "now" is E's time, so a late event from before an MF-04/MF-05 amendment's
        # effective date re-evaluates every client under the older terms (and the next
        # on-time event under the newer ones): statuses, and MF-07, follow event time.
        if book.status_regime.get(REGIME_KEY) != regime:
            book.status_regime.put(REGIME_KEY, regime)
            return sorted(book.clients.keys())
        if not moves:
            return sorted(touched)
        dirty = set(touched)
        for move in moves:
            dirty.update(self.short.candidates(move.key, move.old, move.new))
            dirty.update(self.below.candidates(move.key, move.old, move.new))
            if move.first:
                dirty.update(self._remarked_holders(move.key))
        return sorted(dirty)

    def _remarked_holders(self, asset: str) -> Iterator[str]:
        for contract in self._book.contracts.values():
            if contract.reference_asset == asset:
                yield from self.below.exposed_to(CONTRACT_MARK_PREFIX + contract.contract_id)

    def evaluate(self, client_id: str, regime: StatusRegime | None) -> tuple[bool, bool]:
        """The client's (short, below maintenance) now; re-indexes it on the way."""
        book = self._book
        client = book.clients.get(client_id)
        if client is None:
            return (False, False)
        is_short = False
        if regime is not None:
            exposure = shortness(book, client, *regime)
            self.short.put(client_id, exposure, book.key_price)
            is_short = exposure.bad
        below = maintenance(book, client)
        self.below.put(client_id, below, book.key_price)
        return (is_short, below is not None and below.bad)

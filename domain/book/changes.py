"""What applying one event changed that a client's status reads, for the monitor's step (5).

``apply`` writes it as it edits the book: the clients edited (``Book.edit_client``), each
with the sides of it the edit can reach, and the prices that moved. Its owner (the monitor's
status tracker) creates it, gives it to the book to write to, and takes what it holds after
each event; the book only writes to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.speedups import quick_init

# Which side of a client an edit changes: its margin-financing side (accounts, pledges,
# loans, calls) and its perpetuals side (margin, positions, realised PnL). A status reads one
# side only, so a side left unchanged need not be re-evaluated. An edit that names no side
# counts as both.
FINANCING, PERPETUALS = 1, 2
BOTH_SIDES = FINANCING | PERPETUALS


@quick_init
@dataclass(frozen=True, slots=True)
class PriceMove:
    key: str  # an asset, or "#" + contract id for a contract marked at its last trade
    old: Decimal
    new: Decimal
    first: bool  # the asset had never been priced


class Changes:
    __slots__ = ("moves", "touched")

    def __init__(self) -> None:
        self.touched: dict[str, int] = {}  # client id -> the sides edited (FINANCING, ...)
        self.moves: list[PriceMove] = []

    def take(self) -> tuple[dict[str, int], list[PriceMove]]:
        """What changed since the last call: the clients touched (with the sides edited)
        and the prices moved."""
        touched, moves = self.touched, self.moves
        self.touched, self.moves = {}, []
        return touched, moves

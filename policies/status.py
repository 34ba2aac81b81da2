"""A client status the monitor re-evaluates in step (5), as the rule family that owns it declares it.

A status is bad when its *slack* is negative: for "short", lending value - debt; for "below
maintenance", equity - maintenance requirement. Its slack comes with its slope per price key
(an asset, or ``#`` + contract id for a contract marked at its last trade price): moving only
the price of key k from p to p' changes the slack by ``slope_k x (p' - p)``, which is how the
monitor finds, on a price move, the clients it can flip. Every figure is an exact ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from domain.book.book import Book, StatusRegime
from domain.book.entities import HKD, Client
from policies.rule import ParamsInForce


class StatusSlack(NamedTuple):
    """A named tuple (immutable, built without a ``__setattr__`` per field): two per trade."""

    slack: Decimal  # status is bad when negative
    slopes: dict[str, Decimal]  # d slack / d price, per key whose price can move; no zeros

    @property
    def bad(self) -> bool:
        return self.slack < 0


def add_slope(slopes: dict[str, Decimal], key: str, amount: Decimal) -> None:
    if key == HKD:
        return  # HKD is always 1: its price never moves
    total = slopes.get(key, 0) + amount
    if total:
        slopes[key] = total
    else:
        slopes.pop(key, None)


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """``name``: the ``Client`` field that stores it and what a ``StatusWatch`` watches;
    ``side``: the edits of a client that can change it (``domain.book.changes.FINANCING`` or
    ``PERPETUALS``); ``slack``: the client's slack and slopes (None: it cannot be bad), given the
    terms the status was last evaluated under. ``terms``: the parameters in force it reads,
    as one hashable value, kept in the book under ``terms_key`` (every client is
    re-evaluated when they change); None for a status that reads no parameter."""

    name: str
    side: int
    slack: Callable[[Book, Client, StatusRegime | None], StatusSlack | None]
    terms: Callable[[ParamsInForce], StatusRegime] | None = None
    terms_key: str | None = None

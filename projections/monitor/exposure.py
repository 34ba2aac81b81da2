"""How far each client is from flipping status, as a linear function of each price.

A status is bad when its *slack* is negative: for "short", lending value - debt; for "below
maintenance", equity - maintenance requirement (with some position open). Moving only the
price of one key k from p to p' changes the slack by ``slope_k x (p' - p)``, so a client
exposed to a single key flips exactly when the price crosses its *threshold*
``p - slack / slope_k``, a number that does not depend on p. Keys are assets, or ``#`` +
contract id for a contract marked at its last trade price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from domain.book.book import Book
from domain.book.entities import HKD, Client
from domain.book.money import ONE
from domain.book.valuation import (
    debt,
    effective_haircut,
    equity,
    lending_value,
    quantities,
    requirement,
)


@dataclass(frozen=True, slots=True)
class Exposure:
    slack: Fraction  # status is bad when negative
    slopes: dict[str, Fraction]  # d slack / d price, per key whose price can move; no zeros

    @property
    def bad(self) -> bool:
        return self.slack < 0


def _add(slopes: dict[str, Fraction], key: str, amount: Fraction) -> None:
    if key == HKD:
        return  # HKD is always 1: its price never moves
    total = slopes.get(key, Fraction(0)) + amount
    if total:
        slopes[key] = total
    else:
        slopes.pop(key, None)


def shortness(book: Book, client: Client, eligible: tuple[str, ...], min_haircut: Decimal) -> Exposure:
    slack = lending_value(book, client, eligible, min_haircut) - debt(client)
    slopes: dict[str, Fraction] = {}
    for pledge in client.pledges.values():
        if pledge.is_open and pledge.asset in eligible:
            weight = ONE - effective_haircut(pledge.haircut, min_haircut)
            _add(slopes, pledge.asset, Fraction(pledge.quantity * weight))
    return Exposure(Fraction(slack), slopes)


def maintenance(book: Book, client: Client) -> Exposure | None:
    """None when the client has no position: it cannot be below maintenance."""
    if not client.positions:
        return None
    held = quantities(client)
    slack = equity(book, client) - Fraction(requirement(book, held, maintenance=True))
    slopes: dict[str, Fraction] = {}
    for asset, net in client.margin.items():
        _add(slopes, asset, Fraction(net))
    for contract_id, q in held.items():
        contract = book.contracts[contract_id]
        k, rate = contract.contract_size, contract.maintenance_margin_rate
        _add(slopes, book.mark_key(contract), Fraction(q * k - abs(q) * k * rate))
    return Exposure(slack, slopes)

"""How far each client is from flipping status, as a linear function of each price.

A status is bad when its *slack* is negative: for "short", lending value - debt; for "below
maintenance", equity - maintenance requirement (with some position open). Moving only the
price of one key k from p to p' changes the slack by ``slope_k x (p' - p)``. Keys are assets,
or ``#`` + contract id for a contract marked at its last trade price. Every figure is an exact
``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from domain.book.book import Book
from domain.book.entities import HKD, Client
from domain.book.money import ONE, ZERO
from domain.book.valuation import effective_haircut


class Exposure(NamedTuple):
    """A named tuple (immutable, built without a ``__setattr__`` per field): two per trade."""

    slack: Decimal  # status is bad when negative
    slopes: dict[str, Decimal]  # d slack / d price, per key whose price can move; no zeros

    @property
    def bad(self) -> bool:
        return self.slack < 0


def _add(slopes: dict[str, Decimal], key: str, amount: Decimal) -> None:
    if key == HKD:
        return  # HKD is always 1: its price never moves
    total = slopes.get(key, 0) + amount
    if total:
        slopes[key] = total
    else:
        slopes.pop(key, None)


def shortness(book: Book, client: Client, eligible: tuple[str, ...], min_haircut: Decimal) -> Exposure:
    """Lending value - debt (``valuation.lending_value`` and ``debt``), in one pass."""
    slack = -sum(client.loans.values(), ZERO)
    for account in client.accounts.values():
        if account.open:
            slack += account.marginable_value - account.loan_balance
    slopes: dict[str, Decimal] = {}
    for pledge in client.pledges.values():
        if pledge.is_open and pledge.asset in eligible:
            weight = pledge.quantity * (ONE - effective_haircut(pledge.haircut, min_haircut))
            slack += weight * book.price(pledge.asset)
            _add(slopes, pledge.asset, weight)
    return Exposure(slack, slopes)


def maintenance(book: Book, client: Client) -> Exposure | None:
    """Equity - maintenance requirement (``valuation.equity`` and ``requirement``), in one
    pass; None when the client has no position: it cannot be below maintenance. (``_add``
    and ``Position.pnl`` written out: this runs for both sides of every trade, and calling
    them cost 1.0% of the engine's instructions over 100,000 events. The status property
    tests compare the result with ``valuation``'s full evaluation after every event.)"""
    if not client.positions:
        return None
    slack = client.closed_pnl
    slopes: dict[str, Decimal] = {}
    price = book.price
    for asset, net in client.margin.items():
        slack += net * price(asset)
        if asset != HKD and net:  # (the assets are distinct: nothing to add up yet)
            slopes[asset] = net
    contracts = book.contracts
    for contract_id, position in client.positions.items():
        contract = contracts[contract_id]
        key, mark = book.mark_key_and_price(contract)
        q, k, rate = position.quantity, contract.contract_size, contract.maintenance_margin_rate
        held = abs(q) * k
        slack += k * (q * mark - position.cost) - held * mark * rate
        if key != HKD:
            total = slopes.get(key, 0) + (q * k - held * rate)
            if total:
                slopes[key] = total
            else:
                slopes.pop(key, None)
    return Exposure(slack, slopes)

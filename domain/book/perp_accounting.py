"""Perpetual accounting (rulebook.md, "Perpetual accounting" and reading 9), exact.

A fill of ``signed`` contracts (buy > 0, sell < 0) at ``price``: opening fills move the
average entry to the quantity-weighted average; reducing fills keep it and realise
``c x k x (P - E) x sign(q)`` on the ``c`` contracts closed; a fill that flips the sign
realises on the ``|q|`` closed and opens the rest at the fill price. A liquidation is a
reducing fill that does not move the contract's last trade price.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from domain.book.entities import Position


def fill(
    position: Position | None, signed: Decimal, price: Decimal, contract_size: Decimal
) -> tuple[Position | None, Fraction]:
    """The position after the fill (None when flat) and the PnL it realises."""
    assert signed != 0, "a fill moves the position"
    if position is None:
        return Position(signed, Fraction(price)), Fraction(0)
    q, entry = position.quantity, position.entry
    after = q + signed
    if (q > 0) == (signed > 0):
        weighted = Fraction(abs(q)) * entry + Fraction(abs(signed)) * Fraction(price)
        return Position(after, weighted / Fraction(abs(after))), Fraction(0)
    closed = min(abs(signed), abs(q))
    direction = 1 if q > 0 else -1
    realised = Fraction(closed * contract_size) * (Fraction(price) - entry) * direction
    if after == 0:
        return None, realised
    if (after > 0) == (q > 0):
        return Position(after, entry), realised
    return Position(after, Fraction(price)), realised


def liquidation_fill(position: Position, quantity: Decimal) -> Decimal:
    """The signed fill of a ``PositionLiquidated``: toward zero by ``quantity``."""
    return -quantity if position.quantity > 0 else quantity

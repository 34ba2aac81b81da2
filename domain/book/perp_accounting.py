"""Perpetual accounting (rulebook.md, "Perpetual accounting" and reading 9), exact and without
division.

The rulebook's average-cost accounting conserves value: for the fills of a position since it
was last flat, realised plus unrealised PnL at mark ``m`` is ``k x (q x m - cost)`` with
``cost`` = sum of signed quantity x price over those fills. So a position keeps ``cost`` and
the figures the rules compare (equity, hence PERP-04 and PERP-06) are exact ``Decimal`` sums;
a position that closes flat realises ``-k x cost``. (``tests/monitor/test_perp_accounting.py``
checks this against the rulebook's wording, fill by fill.)

The average entry price ``E`` is only shown, never compared: it is kept as the exact ratio
``entry_cost / entry_quantity`` (opening fills move it to the quantity-weighted average,
reducing fills keep it, a flip sets it to the fill price) and divided only for display.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from domain.book.entities import Position
from domain.book.money import ZERO

# An entry ratio whose denominator grows past this many digits is reduced to lowest terms.
ENTRY_DIGITS_MAX = 40


def opened(signed: Decimal, price: Decimal) -> Position:
    """A position of ``signed`` contracts opened from flat at ``price``."""
    return Position(signed, signed * price, abs(signed) * price, abs(signed))


def fill(
    position: Position | None, signed: Decimal, price: Decimal, contract_size: Decimal
) -> tuple[Position | None, Decimal]:
    """The position after a fill of ``signed`` contracts (buy > 0, sell < 0) at ``price``
    (None when flat), and the PnL it realises if it closes flat (else 0)."""
    assert signed != 0, "a fill moves the position"
    if position is None:
        return opened(signed, price), ZERO
    q = position.quantity
    after = q + signed
    cost = position.cost + signed * price
    if after == 0:
        return None, -contract_size * cost
    if (q > 0) != (after > 0):  # flipped: the remainder opens at the fill price
        return Position(after, cost, abs(after) * price, abs(after)), ZERO
    if (q > 0) != (signed > 0):  # reduced: the entry is kept
        return Position(after, cost, position.entry_cost, position.entry_quantity), ZERO
    return Position(after, cost, *_weighted_entry(position, abs(signed), price)), ZERO


def _weighted_entry(position: Position, added: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
    """(|q| x E + added x price) / (|q| + added), as a ratio."""
    held, c, b = abs(position.quantity), position.entry_cost, position.entry_quantity
    if b == held:  # as when never reduced since it opened: c is what is held, at E
        return c + added * price, held + added
    c, b = held * c + added * price * b, b * (held + added)
    if len(b.as_tuple().digits) > ENTRY_DIGITS_MAX:
        reduced = Fraction(c) / Fraction(b)
        return Decimal(reduced.numerator), Decimal(reduced.denominator)
    return c, b


def liquidation_fill(position: Position, quantity: Decimal) -> Decimal:
    """The signed fill of a ``PositionLiquidated``: toward zero by ``quantity``."""
    return -quantity if position.quantity > 0 else quantity

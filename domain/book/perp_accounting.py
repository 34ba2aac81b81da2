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
from math import gcd

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
        return Position(after, cost, position.entry_cost, position.entry_quantity, position.entry_reduced), ZERO
    return Position(after, cost, *_weighted_entry(position, abs(signed), price)), ZERO


def _weighted_entry(position: Position, added: Decimal, price: Decimal) -> tuple[Decimal, Decimal, bool]:
    """(|q| x E + added x price) / (|q| + added), as a ratio, and whether it was reduced to
    lowest terms."""
    held, c, b = abs(position.quantity), position.entry_cost, position.entry_quantity
    if b == held:  # as when never reduced since it opened: c is what is held, at E
        return c + added * price, held + added, False
    if position.entry_reduced:
        return _reduce_weighted(held, c, b, added, price)
    c, b = held * c + added * price * b, b * (held + added)
    if len(b.as_tuple().digits) > ENTRY_DIGITS_MAX:
        reduced = Fraction(c) / Fraction(b)
        return Decimal(reduced.numerator), Decimal(reduced.denominator), True
    return c, b, False


def _reduce_weighted(
    held: Decimal, c: Decimal, b: Decimal, added: Decimal, price: Decimal
) -> tuple[Decimal, Decimal, bool]:
    """``_weighted_entry`` of an entry c / b already in lowest terms, with the same result.

    A long-traded ratio has hundreds of digits, and the gcd of the whole ratio (with the
    conversions to and from ``int`` it takes) made a fill cost tens of microseconds. Knowing
    gcd(c, b) = 1, every common factor is found with small gcds instead. Over integers,
    (held x c + added x price x b) / (b x (held + added)) = X x m2 / (b x K), with
    held = h1/h2, added x price = u/v, held + added = m1/m2 in lowest terms,
    X = h1 v c + u h2 b and K = h2 v m1. gcd(X, b) = gcd(h1 v c, b) = gcd(h1 v, b), as
    X = h1 v c (mod b); the pairs (X, K), (m2, b), (m2, K) each involve a small number.
    Dividing out the gcd of each pair in turn leaves every factor of the numerator coprime
    to every factor of the denominator: lowest terms, which are unique."""
    m = held + added
    b_next = b * m
    # b has exponent 0 (an integer as ``Decimal(int)`` writes it), so b_next's digits are
    # its adjusted exponent + 1 less m's exponent (no digit tuple of the long ratio).
    m_exponent = m.as_tuple().exponent
    assert isinstance(m_exponent, int)
    if b_next.adjusted() + 1 - m_exponent <= ENTRY_DIGITS_MAX:
        return held * c + added * price * b, b_next, False
    h1, h2 = held.as_integer_ratio()
    u, v = (added * price).as_integer_ratio()
    m1, m2 = m.as_integer_ratio()
    x = Decimal(h1 * v) * c + Decimal(u * h2) * b
    k = h2 * v * m1
    g = gcd(h1 * v, int(b % (h1 * v)))  # gcd(X, b)
    x, b = x // g, b // g
    g = gcd(int(x % k), k)
    x, k = x // g, k // g
    g = gcd(m2, int(b % m2))
    b, m2 = b // g, m2 // g
    g = gcd(m2, k)
    m2, k = m2 // g, k // g
    return x * m2, b * k, True


def liquidation_fill(position: Position, quantity: Decimal) -> Decimal:
    """The signed fill of a ``PositionLiquidated``: toward zero by ``quantity``."""
    return -quantity if position.quantity > 0 else quantity

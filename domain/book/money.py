"""Exact arithmetic for money, quantities and rates.

Inside :func:`exact` every ``Decimal`` operation is exact or raises ``Inexact``: sums and
products of inputs never round. The one division the rulebook needs (the average entry price
of a perpetual position) is only shown, as a ``Fraction``: the figures the rules compare need
none (``perp_accounting``).
"""

from __future__ import annotations

import decimal
from contextlib import AbstractContextManager
from decimal import Decimal
from fractions import Fraction

EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
ZERO = Decimal(0)
ONE = Decimal(1)
DISPLAY_DIGITS = 28

Number = Decimal | Fraction | int


def exact() -> AbstractContextManager[decimal.Context]:
    """Run a block with exact ``Decimal`` arithmetic (a rounding is a programmer error)."""
    return decimal.localcontext(EXACT)


def number_text(value: Number) -> str:
    """A figure for people and evidence: plain decimal notation without trailing zeros, exact
    when it terminates, else rounded to 28 significant digits (only a non-terminating average entry price can
    make it so; every comparison was made on the exact value)."""
    if isinstance(value, Decimal):
        return "0" if value == 0 else format(value.normalize(EXACT), "f")
    if isinstance(value, int):
        return str(value)
    numerator, denominator = value.numerator, value.denominator
    twos = fives = 0
    rest = denominator
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest == 1:
        scale = max(twos, fives)
        return format(Decimal(numerator * 10**scale // denominator).scaleb(-scale), "f")
    with decimal.localcontext(decimal.Context(prec=DISPLAY_DIGITS)):
        return format(Decimal(numerator) / Decimal(denominator), "f")

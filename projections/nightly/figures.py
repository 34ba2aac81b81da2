"""The figures of the book at the cut-off that a report shows: overdue obligations, the
clients closest to a shortfall, and the largest perpetual exposures. Every comparison is
exact; ratios are rounded only when written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from domain.book.book import Book
from domain.book.money import exact
from domain.book.valuation import (
    contract_mark,
    debt,
    equity,
    lending_value,
    quantities,
    requirement,
)
from policies.registry import default_parameters

RATIO_PLACES = 4
MONEY_PLACES = 2
# Coverage (lending value over debt) buckets of the distribution chart: (label, upper bound).
COVERAGE_BUCKETS: tuple[tuple[str, Fraction | None], ...] = (
    ("short (< 1)", Fraction(1)), ("1 – 1.1", Fraction(11, 10)), ("1.1 – 1.25", Fraction(5, 4)),
    ("1.25 – 1.5", Fraction(3, 2)), ("1.5 – 2", Fraction(2)), ("2 – 3", Fraction(3)), ("≥ 3", None),
)


def rounded_text(value: Decimal | Fraction, places: int) -> str:
    """``value`` rounded half to even to ``places`` decimals, in plain notation. Computed on
    the exact value, never in a decimal context: quantizing in the default one (28 digits)
    raised on an accepted 40-digit amount, and dividing first rounded before rounding."""
    exact_value = Fraction(value)
    scaled = round(abs(exact_value) * 10**places)  # Fraction rounds half to even, exactly
    # The sign as quantize kept it: a tiny negative amount still reads -0.00.
    return str(Decimal((int(exact_value < 0), tuple(map(int, str(scaled))), -places)))


def ratio_text(value: Fraction) -> str:
    return rounded_text(value, RATIO_PLACES)


def money_text(value: Decimal | Fraction) -> str:
    """HKD to the cent, for people; the exact figures stay in the evidence of findings."""
    return rounded_text(value, MONEY_PLACES)


@dataclass(frozen=True, slots=True)
class Overdue:
    rule_id: str
    subject: str
    start_event_id: str
    started_at: datetime
    deadline: datetime


def overdue_obligations(book: Book, cutoff: datetime) -> list[Overdue]:
    """Open obligations whose deadline passed before the cut-off: no event after the
    deadline has been processed yet, so none has become a finding."""
    found = [
        Overdue(o.rule_id, o.subject, o.start_event_id, o.start_occurred_at, o.deadline)
        for o in book.obligations.values() if o.deadline < cutoff
    ]
    return sorted(found, key=lambda o: (o.deadline, o.rule_id, o.subject))


def parameter(book: Book, rule_id: str, name: str, at: datetime) -> object:
    return book.parameters.value_at((rule_id, name), at, default_parameters()[(rule_id, name)])


@dataclass(frozen=True, slots=True)
class Coverage:
    client_id: str
    debt: Decimal
    lending_value: Decimal
    ratio: Fraction

    @property
    def short(self) -> bool:
        return self.ratio < 1


def coverage(book: Book, at: datetime) -> list[Coverage]:
    """Every client with debt, lowest coverage first (ties by client id)."""
    eligible = parameter(book, "MF-04", "eligible_assets", at)
    min_haircut = parameter(book, "MF-05", "min_haircut", at)
    assert isinstance(eligible, tuple) and isinstance(min_haircut, Decimal)
    found = []
    with exact():
        for client in book.clients.values():
            owed = debt(client)
            if owed > 0:
                value = lending_value(book, client, eligible, min_haircut)
                found.append(Coverage(client.client_id, owed, value, Fraction(value) / Fraction(owed)))
    return sorted(found, key=lambda c: (c.ratio, c.client_id))


def distribution(found: list[Coverage]) -> list[tuple[str, int]]:
    counts = dict.fromkeys((label for label, _ in COVERAGE_BUCKETS), 0)
    for c in found:
        label = next(label for label, upper in COVERAGE_BUCKETS if upper is None or c.ratio < upper)
        counts[label] += 1
    return list(counts.items())


@dataclass(frozen=True, slots=True)
class Exposure:
    client_id: str
    market_maker: bool
    notional: Decimal  # sum of |q| x contract size x mark
    equity: Fraction
    maintenance: Decimal
    positions: tuple[tuple[str, Decimal, Decimal], ...]  # (contract, signed contracts, mark)


def exposures(book: Book) -> list[Exposure]:
    """Every client with an open position, largest notional first."""
    found = []
    with exact():
        for client in book.clients.values():
            if not client.positions:
                continue
            positions = []
            notional = Decimal(0)
            for contract_id in sorted(client.positions):
                contract = book.contracts[contract_id]
                q = client.positions[contract_id].quantity
                mark = contract_mark(book, contract)
                notional += abs(q) * contract.contract_size * mark
                positions.append((contract_id, q, mark))
            found.append(Exposure(
                client.client_id, client.market_maker_id is not None, notional,
                Fraction(equity(book, client)),
                requirement(book, quantities(client), maintenance=True), tuple(positions),
            ))
    return sorted(found, key=lambda e: (-e.notional, e.client_id))

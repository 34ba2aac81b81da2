"""The figures the rules compare (rulebook.md, "Shared definitions"), exact.

Every figure a rule compares is an exact ``Decimal`` (the callers run under ``money.exact``):
equity uses the cash-flow form of the perpetual accounting (``perp_accounting``), which needs
no division. Realised PnL and the margin balance involve the average entry price; they are
exact ``Fraction``s, for display.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from fractions import Fraction

from domain.book.entities import Client, Contract
from domain.book.money import ONE, ZERO
from domain.book.view import BookView

SECURITIES = "securities accounts"  # lending value from reported securities margin accounts


def effective_haircut(haircut: Decimal, min_haircut: Decimal) -> Decimal:
    return max(haircut, min_haircut)


def lending_value(
    book: BookView, client: Client, eligible: Collection[str], min_haircut: Decimal
) -> Decimal:
    """Open accounts' marginable value plus open eligible pledges after haircut."""
    total = sum((a.marginable_value for a in client.accounts.values() if a.open), ZERO)
    for pledge in client.pledges.values():
        if pledge.is_open and pledge.asset in eligible:
            h = effective_haircut(pledge.haircut, min_haircut)
            total += pledge.quantity * book.price(pledge.asset) * (ONE - h)
    return total


def lending_value_parts(
    book: BookView, client: Client, eligible: Collection[str], min_haircut: Decimal
) -> dict[str, Decimal]:
    """``lending_value`` by where it comes from: each eligible asset pledged, and
    ``SECURITIES`` for the open accounts' marginable value (for concentration figures; the
    rules compare the sum, which ``lending_value`` gives without the dict)."""
    parts = {SECURITIES: sum((a.marginable_value for a in client.accounts.values() if a.open), ZERO)}
    for pledge in client.pledges.values():
        if pledge.is_open and pledge.asset in eligible:
            h = effective_haircut(pledge.haircut, min_haircut)
            parts[pledge.asset] = parts.get(pledge.asset, ZERO) + pledge.quantity * book.price(pledge.asset) * (ONE - h)
    return {k: v for k, v in parts.items() if v}


def debt(client: Client) -> Decimal:
    """VA financing outstanding plus open accounts' reported securities loan balances."""
    securities = sum((a.loan_balance for a in client.accounts.values() if a.open), ZERO)
    return sum(client.loans.values(), ZERO) + securities


def is_short(book: BookView, client: Client, eligible: Collection[str], min_haircut: Decimal) -> bool:
    return debt(client) > lending_value(book, client, eligible, min_haircut)


def margin_value(book: BookView, client: Client) -> Decimal:
    """Sum over margin assets of (deposited - withdrawn) x price."""
    return sum((net * book.price(asset) for asset, net in client.margin.items()), ZERO)


def realised_pnl(book: BookView, client: Client) -> Fraction:
    """Realised PnL as the rulebook defines it: of positions closed flat, and of the reducing
    fills of open ones (exact, for display)."""
    total = Fraction(client.closed_pnl)
    for contract_id, position in client.positions.items():
        contract = book.contract(contract_id)
        assert contract is not None, "a position is always in a listed contract"
        held_at_entry = Fraction(position.quantity) * position.entry
        total += Fraction(contract.contract_size) * (held_at_entry - Fraction(position.cost))
    return total


def margin_balance(book: BookView, client: Client) -> Fraction:
    return Fraction(margin_value(book, client)) + realised_pnl(book, client)


def contract_mark(book: BookView, contract: Contract, fallback: Decimal | None = None) -> Decimal:
    """The contract's mark; ``fallback`` (else 0) where it has none."""
    mark = book.mark(contract)
    if mark is not None:
        return mark
    return ZERO if fallback is None else fallback


def equity(book: BookView, client: Client) -> Decimal:
    """Margin balance plus unrealised PnL: margin value, plus what closed positions realised,
    plus realised and unrealised PnL of the open ones."""
    total = margin_value(book, client) + client.closed_pnl
    for contract_id, position in client.positions.items():
        contract = book.contract(contract_id)
        assert contract is not None, "a position is always in a listed contract"
        mark = book.mark(contract)  # ``contract_mark``, inlined as in ``requirement``
        total += position.pnl(contract.contract_size, ZERO if mark is None else mark)
    return total


def requirement(
    book: BookView,
    quantities: Mapping[str, Decimal],
    *,
    maintenance: bool,
    fallback_marks: Mapping[str, Decimal] | None = None,
) -> Decimal:
    """Sum of ``|q| x k x m x rate`` (initial, or maintenance), over the given positions."""
    total = ZERO
    for contract_id, quantity in quantities.items():
        contract = book.contract(contract_id)
        assert contract is not None, "a position is always in a listed contract"
        mark = book.mark(contract)  # ``contract_mark``, inlined: PERP-04 judges every order
        if mark is None:
            fallback = None if fallback_marks is None else fallback_marks.get(contract_id)
            mark = ZERO if fallback is None else fallback
        rate = contract.maintenance_margin_rate if maintenance else contract.initial_margin_rate
        total += abs(quantity) * contract.contract_size * mark * rate
    return total


def quantities(client: Client) -> dict[str, Decimal]:
    return {contract_id: p.quantity for contract_id, p in client.positions.items()}


def is_below_maintenance(book: BookView, client: Client) -> bool:
    """Some non-zero position and equity below the maintenance requirement (reading 11)."""
    if not client.positions:
        return False
    return equity(book, client) < requirement(book, quantities(client), maintenance=True)

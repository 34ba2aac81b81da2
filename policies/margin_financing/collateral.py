"""What the margin-financing rules share: their citation, the collateral terms in force, and
the client status "short" that MF-07 watches.

One "short", as the rulebook defines it: debt above lending value (``valuation.debt`` and
``lending_value``; ``valuation.is_short`` writes it in full). ``debt_and_lending_value`` gives
the two figures, which the rules judge and report; the status ``SHORT`` keeps it on every
client through ``lending_slack``, the same comparison as lending value - debt < 0, computed
in one pass with its slope per price so that the monitor finds, on a price move, the clients
it can flip (the status property tests hold the two equal after every event).
"""

from __future__ import annotations

from decimal import Decimal

from domain.book.book import Book, StatusRegime
from domain.book.changes import FINANCING
from domain.book.entities import Client
from domain.book.money import ONE, ZERO
from domain.book.valuation import debt, effective_haircut, lending_value
from domain.book.view import BookView
from policies.rule import ParamsInForce
from policies.status import ClientStatus, StatusSlack, add_slope

CIRCULAR = "SFC circular 26EC5 (11 Feb 2026), VA margin financing"
ELIGIBLE_ASSETS = ("MF-04", "eligible_assets")
MIN_HAIRCUT = ("MF-05", "min_haircut")
# The parameters that decide a client's lending value, hence whether it is short.
COLLATERAL_TERMS = (ELIGIBLE_ASSETS, MIN_HAIRCUT)


def eligible_assets(params: ParamsInForce) -> tuple[str, ...]:
    return params.assets(*ELIGIBLE_ASSETS)


def min_haircut(params: ParamsInForce) -> Decimal:
    return params.decimal(*MIN_HAIRCUT)


def collateral_terms(params: ParamsInForce) -> StatusRegime:
    """The terms in force that decide "short": (eligible assets, min haircut)."""
    return (eligible_assets(params), min_haircut(params))


def debt_and_lending_value(book: BookView, client: Client, params: ParamsInForce) -> tuple[Decimal, Decimal]:
    """The client's (debt, lending value) under the terms in force: short when D > LV."""
    return debt(client), lending_value(book, client, eligible_assets(params), min_haircut(params))


def lending_slack(book: Book, client: Client, terms: StatusRegime | None) -> StatusSlack | None:
    """Lending value - debt (``valuation.lending_value`` and ``debt``), in one pass; None
    before any terms were in force (no client is short then)."""
    if terms is None:
        return None
    eligible, haircut_floor = terms
    slack = -sum(client.loans.values(), ZERO)
    for account in client.accounts.values():
        if account.open:
            slack += account.marginable_value - account.loan_balance
    slopes: dict[str, Decimal] = {}
    for pledge in client.pledges.values():
        if pledge.is_open and pledge.asset in eligible:
            weight = pledge.quantity * (ONE - effective_haircut(pledge.haircut, haircut_floor))
            slack += weight * book.price(pledge.asset)
            add_slope(slopes, pledge.asset, weight)
    return StatusSlack(slack, slopes)


SHORT = ClientStatus("short", FINANCING, lending_slack, collateral_terms, terms_key="mf")

"""What the margin-financing rules share: their citation and the collateral terms in force."""

from __future__ import annotations

from decimal import Decimal

from domain.book.entities import Client
from domain.book.valuation import debt, lending_value
from domain.book.view import BookView
from policies.rule import ParamsInForce

CIRCULAR = "SFC circular 26EC5 (11 Feb 2026), VA margin financing"
ELIGIBLE_ASSETS = ("MF-04", "eligible_assets")
MIN_HAIRCUT = ("MF-05", "min_haircut")
# The parameters that decide a client's lending value, hence whether it is short.
COLLATERAL_TERMS = (ELIGIBLE_ASSETS, MIN_HAIRCUT)


def eligible_assets(params: ParamsInForce) -> tuple[str, ...]:
    return params.assets(*ELIGIBLE_ASSETS)


def min_haircut(params: ParamsInForce) -> Decimal:
    return params.decimal(*MIN_HAIRCUT)


def shortness(book: BookView, client: Client, params: ParamsInForce) -> tuple[Decimal, Decimal]:
    """The client's (debt, lending value) under the terms in force: short when D > LV."""
    return debt(client), lending_value(book, client, eligible_assets(params), min_haircut(params))

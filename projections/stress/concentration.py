"""Collateral concentration: each asset's and the ten largest clients' share of lending value
and of debt.

Debt is owed by a client, not by an asset. Reading: a client's debt is attributed to the
sources of its lending value pro rata (a client whose lending value is half BTC has half its
debt "against BTC"); a client with debt and no lending value owes it against nothing
(``UNSECURED``). Shares are rounded to a hundredth of a per cent (four places); the amounts
beside them are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any, Protocol

from domain.book.book import Book
from domain.book.money import ZERO, number_text
from domain.book.valuation import lending_value_parts

TOP_CLIENTS = 10
UNSECURED = "no lending value"
SHARE_PLACES = Decimal("0.0001")
SHARES = Context(prec=40)  # rounds (the caller's context may be the exact one, which raises)


class Valued(Protocol):
    @property
    def lending_value(self) -> Decimal: ...
    @property
    def debt(self) -> Decimal: ...


def share(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0"
    with localcontext(SHARES):
        return number_text((part / whole).quantize(SHARE_PLACES, rounding=ROUND_HALF_EVEN))


def concentration(
    book: Book, clients: Mapping[str, Valued], terms: tuple[tuple[str, ...], Decimal]
) -> dict[str, Any]:
    lv_by_asset: dict[str, Decimal] = {}
    debt_by_asset: dict[str, Decimal] = {}
    total_lv = total_debt = ZERO
    for client_id, figures in clients.items():
        lv, owed = figures.lending_value, figures.debt
        total_lv += lv
        total_debt += owed
        if not lv:
            if owed:
                debt_by_asset[UNSECURED] = debt_by_asset.get(UNSECURED, ZERO) + owed
            continue
        for asset, part in lending_value_parts(book, book.clients[client_id], *terms).items():
            lv_by_asset[asset] = lv_by_asset.get(asset, ZERO) + part
            if owed:
                with localcontext(SHARES):  # a pro-rata part need not terminate
                    debt_by_asset[asset] = debt_by_asset.get(asset, ZERO) + owed * part / lv
    assets = sorted(set(lv_by_asset) | set(debt_by_asset), key=lambda a: (-lv_by_asset.get(a, ZERO), a))
    return {
        "total_lending_value": number_text(total_lv),
        "total_debt": number_text(total_debt),
        "assets": [
            {"asset": a, "lending_value": number_text(lv_by_asset.get(a, ZERO)),
             "lending_value_share": share(lv_by_asset.get(a, ZERO), total_lv),
             "debt_share": share(debt_by_asset.get(a, ZERO), total_debt)}
            for a in assets
        ],
        "top_clients_by_lending_value": _top(clients, "lending_value", total_lv),
        "top_clients_by_debt": _top(clients, "debt", total_debt),
    }


def _top(clients: Mapping[str, Valued], figure: str, total: Decimal) -> list[dict[str, str]]:
    ranked = sorted(
        ((getattr(f, figure), c) for c, f in clients.items() if getattr(f, figure)),
        key=lambda x: (-x[0], x[1]),
    )[:TOP_CLIENTS]
    return [{"client_id": c, figure: number_text(v), "share": share(v, total)} for v, c in ranked]

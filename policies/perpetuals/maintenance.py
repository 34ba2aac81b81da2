"""The client status "below maintenance" that PERP-06 watches: some position open and equity
below the maintenance requirement (reading 11; ``valuation.is_below_maintenance``)."""

from __future__ import annotations

from decimal import Decimal

from domain.book.book import Book, StatusRegime
from domain.book.changes import PERPETUALS
from domain.book.entities import HKD, Client
from policies.status import ClientStatus, StatusSlack


def maintenance_slack(book: Book, client: Client, terms: StatusRegime | None = None) -> StatusSlack | None:
    """Equity - maintenance requirement (``valuation.equity`` and ``requirement``), in one
    pass; None when the client has no position: it cannot be below maintenance. It reads no
    parameter (``terms`` is unused). (``add_slope`` and ``Position.pnl`` written out: this runs
    for both sides of every trade, and calling them cost 1.0% of the engine's instructions
    over 100,000 events. The status property tests compare the result with ``valuation``'s
    full evaluation after every event.)"""
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
    return StatusSlack(slack, slopes)


BELOW_MAINTENANCE = ClientStatus("below_maintenance", PERPETUALS, maintenance_slack)

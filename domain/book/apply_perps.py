"""How perpetual-contract events change the book."""

from __future__ import annotations

from decimal import Decimal

from domain.book.book import CONTRACT_MARK_PREFIX, Book
from domain.book.changes import PERPETUALS, PriceMove
from domain.book.entities import Contract, Order
from domain.book.money import ZERO
from domain.book.perp_accounting import fill, liquidation_fill
from domain.events import (
    InsuranceFundChanged,
    PerpContractDelisted,
    PerpContractListed,
    PerpMarginDeposited,
    PerpMarginWithdrawn,
    PerpOrderCancelled,
    PerpOrderPlaced,
    PerpTradeExecuted,
    PositionLiquidated,
)

FUND_KEY = "balance"


def contract_listed(book: Book, e: PerpContractListed) -> None:
    book.contracts.put(e.contract_id, Contract(
        e.contract_id, e.reference_asset, e.settlement_asset, e.contract_size,
        e.initial_margin_rate, e.maintenance_margin_rate,
    ))


def contract_delisted(book: Book, e: PerpContractDelisted) -> None:
    if e.contract_id in book.contracts:
        book.contracts.edit(e.contract_id).delisted = True


def _add_margin(book: Book, client_id: str, asset: str, amount: Decimal) -> None:
    margin = book.edit_client(client_id, PERPETUALS).margin
    net = margin.get(asset, ZERO) + amount
    if net:
        margin[asset] = net
    else:
        margin.pop(asset, None)


def margin_deposited(book: Book, e: PerpMarginDeposited) -> None:
    _add_margin(book, e.client_id, e.asset, e.amount)


def margin_withdrawn(book: Book, e: PerpMarginWithdrawn) -> None:
    _add_margin(book, e.client_id, e.asset, -e.amount)


def order_placed(book: Book, e: PerpOrderPlaced) -> None:
    client = book.client(e.client_id)
    book.orders.put(e.order_id, Order(
        e.order_id, e.client_id, e.contract_id, e.side, e.quantity, e.limit_price,
        market_maker_account=client is not None and client.market_maker_id is not None,
    ))


def order_cancelled(book: Book, e: PerpOrderCancelled) -> None:
    book.orders.drop(e.order_id)  # a filled order is already gone: nothing remains


def _fill_order(book: Book, order_id: str, quantity: Decimal) -> str | None:
    """Reduce the order; its client, or None if the order is unknown."""
    order = book.orders.get(order_id)
    if order is None:
        return None
    remaining = order.remaining - quantity
    if remaining > 0:
        book.orders.put(order_id, Order(  # (``dataclasses.replace`` costs more than the fill)
            order.order_id, order.client_id, order.contract_id, order.side, remaining,
            order.limit_price, order.market_maker_account,
        ))
    else:
        book.orders.drop(order_id)
    return order.client_id


def _fill_client(book: Book, client_id: str, contract: Contract, signed: Decimal, price: Decimal) -> None:
    client = book.edit_client(client_id, PERPETUALS)
    position, closed_pnl = fill(
        client.positions.get(contract.contract_id), signed, price, contract.contract_size
    )
    client.closed_pnl += closed_pnl
    if position is None:
        client.positions.pop(contract.contract_id, None)
    else:
        client.positions[contract.contract_id] = position


def trade_executed(book: Book, e: PerpTradeExecuted) -> None:
    contract = book.contract(e.contract_id)
    if contract is None:
        return
    buyer = _fill_order(book, e.buy_order_id, e.quantity)
    seller = _fill_order(book, e.sell_order_id, e.quantity)
    if buyer is not None:
        _fill_client(book, buyer, contract, e.quantity, e.price)
    if seller is not None:
        _fill_client(book, seller, contract, -e.quantity, e.price)
    old = contract.last_trade_price
    book.contracts.edit(e.contract_id).last_trade_price = e.price
    if not book.is_priced(contract.reference_asset):
        key = CONTRACT_MARK_PREFIX + e.contract_id  # the trade moves this contract's mark
        book.changes.moves.append(PriceMove(key, ZERO if old is None else old, e.price, first=False))


def position_liquidated(book: Book, e: PositionLiquidated) -> None:
    contract = book.contract(e.contract_id)
    client = book.client(e.client_id)
    position = None if client is None else client.positions.get(e.contract_id)
    if contract is None or position is None:
        return
    signed = liquidation_fill(position, e.quantity)
    _fill_client(book, e.client_id, contract, signed, e.price)


def insurance_fund_changed(book: Book, e: InsuranceFundChanged) -> None:
    book.insurance_fund.put(FUND_KEY, book.fund_balance() + e.delta)

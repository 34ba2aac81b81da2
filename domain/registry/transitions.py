"""Per event type: how an accepted event changes the records.

Only ever called for an event that passed its checks, so a missing record here is a
programmer error. Tables are keyed by the catalogue's payload classes: an event type missing
from ``APPLIES`` changes no record, and ``UNCHANGED`` says why (``tests/domain/
test_handler_tables.py`` holds every type in exactly one of the two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from domain.events import (
    AssetListed,
    AssetStatusChanged,
    ClientOnboarded,
    ClientReclassified,
    CollateralHaircutChanged,
    CollateralPledged,
    CollateralReleased,
    CollateralTransferred,
    CreditLimitChanged,
    DataAccessed,
    DerivativesKnowledgeAssessed,
    FundingSettled,
    InsuranceFundChanged,
    LossAllocated,
    MarginCallIssued,
    MarginCallResolved,
    MarketMakerControlsChanged,
    MarketMakerRegistered,
    Payload,
    PerpContractDelisted,
    PerpContractListed,
    PerpMarginDeposited,
    PerpMarginWithdrawn,
    PerpOrderCancelled,
    PerpOrderPlaced,
    PerpTradeExecuted,
    PerpTradeSettled,
    PositionLiquidated,
    PriceObserved,
    RiskDisclosureAcknowledged,
    RuleParameterAmended,
    SecuritiesMarginAccountClosed,
    SecuritiesMarginAccountOpened,
    SecuritiesMarginPositionReported,
    VAFinancingDrawn,
    VAFinancingRepaid,
)
from domain.registry.aggregates import (
    EXACT,
    AccountRecord,
    AssetRecord,
    CallRecord,
    ClientRecord,
    ContractRecord,
    DepositRecord,
    LoanRecord,
    MarketMakerRecord,
    OrderRecord,
    PledgeRecord,
    Record,
    TradeRecord,
)
from domain.registry.invariants import Records

R = TypeVar("R", bound=Record)


def _existing(records: Records, record_type: type[R], natural_id: str) -> R:
    record = records.get(record_type, natural_id)
    assert record is not None, f"apply() of an unchecked event: no {record_type.KIND} {natural_id}"
    return record


def _asset_listed(records: Records, data: AssetListed) -> None:
    records.add(AssetRecord(asset=data.asset, asset_kind=data.asset_kind))


def _client_onboarded(records: Records, data: ClientOnboarded) -> None:
    records.add(ClientRecord(client_id=data.client_id))


def _account_opened(records: Records, data: SecuritiesMarginAccountOpened) -> None:
    records.add(AccountRecord(account_id=data.account_id, client_id=data.client_id))


def _account_closed(records: Records, data: SecuritiesMarginAccountClosed) -> None:
    account = _existing(records, AccountRecord, data.account_id)
    account.close()
    records.changed(account)


def _collateral_pledged(records: Records, data: CollateralPledged) -> None:
    pledge = PledgeRecord(
        pledge_id=data.pledge_id,
        client_id=data.client_id,
        asset=data.asset,
        open_quantity=data.quantity,
    )
    records.add(pledge)


def _collateral_released(records: Records, data: CollateralReleased) -> None:
    pledge = _existing(records, PledgeRecord, data.pledge_id)
    pledge.reduce(data.quantity)
    records.changed(pledge)


def _collateral_transferred(records: Records, data: CollateralTransferred) -> None:
    # A move to another segregated client wallet keeps the collateral pledged.
    if data.destination_kind == "segregated_custody":
        return
    pledge = _existing(records, PledgeRecord, data.pledge_id)
    pledge.reduce(data.quantity)
    records.changed(pledge)


def _financing_drawn(records: Records, data: VAFinancingDrawn) -> None:
    records.add(LoanRecord(loan_id=data.loan_id, client_id=data.client_id, outstanding=data.amount))


def _financing_repaid(records: Records, data: VAFinancingRepaid) -> None:
    loan = _existing(records, LoanRecord, data.loan_id)
    loan.repay(data.amount)
    records.changed(loan)


def _margin_call_issued(records: Records, data: MarginCallIssued) -> None:
    records.add(CallRecord(call_id=data.call_id, client_id=data.client_id))


def _margin_call_resolved(records: Records, data: MarginCallResolved) -> None:
    call = _existing(records, CallRecord, data.call_id)
    call.resolve()
    records.changed(call)


def _contract_listed(records: Records, data: PerpContractListed) -> None:
    records.add(ContractRecord(contract_id=data.contract_id))


def _contract_delisted(records: Records, data: PerpContractDelisted) -> None:
    contract = _existing(records, ContractRecord, data.contract_id)
    contract.delist()
    records.changed(contract)


def _margin_deposited(records: Records, data: PerpMarginDeposited) -> None:
    records.add(DepositRecord(deposit_id=data.deposit_id, client_id=data.client_id))
    client = _existing(records, ClientRecord, data.client_id)
    client.deposit(data.asset, data.amount)
    records.changed(client)


def _margin_withdrawn(records: Records, data: PerpMarginWithdrawn) -> None:
    client = _existing(records, ClientRecord, data.client_id)
    client.withdraw(data.asset, data.amount)
    records.changed(client)


def _order_placed(records: Records, data: PerpOrderPlaced) -> None:
    order = OrderRecord(
        order_id=data.order_id,
        client_id=data.client_id,
        contract_id=data.contract_id,
        side=data.side,
        quantity=data.quantity,
    )
    records.add(order)


def _order_cancelled(records: Records, data: PerpOrderCancelled) -> None:
    order = _existing(records, OrderRecord, data.order_id)
    order.cancel()
    records.changed(order)


def _trade_executed(records: Records, data: PerpTradeExecuted) -> None:
    records.add(TradeRecord(trade_id=data.trade_id))
    # A self-trade fills both sides for the same client, which nets to no position change.
    _fill(records, data.buy_order_id, data.contract_id, data.quantity, data.quantity)
    _fill(records, data.sell_order_id, data.contract_id, data.quantity, EXACT.minus(data.quantity))


def _fill(
    records: Records, order_id: str, contract_id: str, quantity: Decimal, signed: Decimal
) -> None:
    order = _existing(records, OrderRecord, order_id)
    order.fill(quantity)
    records.changed(order)
    client = _existing(records, ClientRecord, order.client_id)
    client.fill(contract_id, signed)
    records.changed(client)


def _trade_settled(records: Records, data: PerpTradeSettled) -> None:
    trade = _existing(records, TradeRecord, data.trade_id)
    trade.settle()
    records.changed(trade)


def _position_liquidated(records: Records, data: PositionLiquidated) -> None:
    client = _existing(records, ClientRecord, data.client_id)
    client.liquidate(data.contract_id, data.quantity)
    records.changed(client)


def _market_maker_registered(records: Records, data: MarketMakerRegistered) -> None:
    records.add(MarketMakerRecord(mm_id=data.mm_id))


APPLIES: Mapping[type[Payload], Callable[[Records, Any], None]] = {
    AssetListed: _asset_listed,
    ClientOnboarded: _client_onboarded,
    SecuritiesMarginAccountOpened: _account_opened,
    SecuritiesMarginAccountClosed: _account_closed,
    CollateralPledged: _collateral_pledged,
    CollateralReleased: _collateral_released,
    CollateralTransferred: _collateral_transferred,
    VAFinancingDrawn: _financing_drawn,
    VAFinancingRepaid: _financing_repaid,
    MarginCallIssued: _margin_call_issued,
    MarginCallResolved: _margin_call_resolved,
    PerpContractListed: _contract_listed,
    PerpContractDelisted: _contract_delisted,
    PerpMarginDeposited: _margin_deposited,
    PerpMarginWithdrawn: _margin_withdrawn,
    PerpOrderPlaced: _order_placed,
    PerpOrderCancelled: _order_cancelled,
    PerpTradeExecuted: _trade_executed,
    PerpTradeSettled: _trade_settled,
    PositionLiquidated: _position_liquidated,
    MarketMakerRegistered: _market_maker_registered,
}

# The event types that change no record, and why (what validation reads of them is nothing).
UNCHANGED: Mapping[type[Payload], str] = {
    AssetStatusChanged: "validation reads only whether an asset is listed",
    PriceObserved: "validation reads no price",
    RuleParameterAmended: "checked against the parameter catalogue; the monitor records it",
    ClientReclassified: "validation reads no investor class",
    CreditLimitChanged: "validation reads no credit limit",
    SecuritiesMarginPositionReported: "validation reads no reported figure",
    DerivativesKnowledgeAssessed: "validation reads no assessment",
    RiskDisclosureAcknowledged: "validation reads no disclosure",
    CollateralHaircutChanged: "validation reads no haircut",
    FundingSettled: "a payment: nothing later is checked against it",
    InsuranceFundChanged: "validation reads no fund balance",
    LossAllocated: "validation reads no fund balance",
    MarketMakerControlsChanged: "validation reads only whether a market maker exists",
    DataAccessed: "an access: nothing later is checked against it",
}

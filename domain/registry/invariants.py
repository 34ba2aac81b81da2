"""Per event type: the state that makes an event impossible (events.md, "Rejections").

Existence and uniqueness of the entities named come from ``references``; these are the
checks that remain. Each check reads records and never changes one; a record that does not
exist is skipped here, as ``references`` already gave the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from domain.errors import Reason
from domain.events import (
    CollateralReleased,
    CollateralTransferred,
    CreditLimitChanged,
    MarginCallResolved,
    Payload,
    PerpMarginWithdrawn,
    PerpOrderCancelled,
    PerpOrderPlaced,
    PerpTradeExecuted,
    PerpTradeSettled,
    PositionLiquidated,
    SecuritiesMarginAccountClosed,
    SecuritiesMarginPositionReported,
    VAFinancingRepaid,
)
from domain.registry.aggregates import (
    AccountRecord,
    CallRecord,
    ClientRecord,
    ContractRecord,
    LoanRecord,
    OrderRecord,
    PledgeRecord,
    Record,
    TradeRecord,
)

R = TypeVar("R", bound=Record)


class Records(Protocol):
    def get(self, record_type: type[R], natural_id: str) -> R | None: ...
    def add(self, record: Record) -> None: ...
    def changed(self, record: Record) -> None: ...


def _reasons(field: str, *problems: str | None) -> list[Reason]:
    return [Reason(f"data.{field}", problem) for problem in problems if problem]


def _account_of_client(
    records: Records, data: CreditLimitChanged | SecuritiesMarginPositionReported
) -> list[Reason]:
    account = records.get(AccountRecord, data.account_id)
    if account is None:
        return []
    return _reasons("account_id", account.check_belongs_to(data.client_id))


def _close_account(records: Records, data: SecuritiesMarginAccountClosed) -> list[Reason]:
    account = records.get(AccountRecord, data.account_id)
    if account is None:
        return []
    return _reasons("account_id", account.check_belongs_to(data.client_id), account.check_open())


def _reduce_pledge(
    records: Records, data: CollateralReleased | CollateralTransferred
) -> list[Reason]:
    # Even a move between segregated wallets cannot move more than is pledged.
    pledge = records.get(PledgeRecord, data.pledge_id)
    if pledge is None:
        return []
    return _reasons("quantity", pledge.check_reduction(data.quantity))


def _repay(records: Records, data: VAFinancingRepaid) -> list[Reason]:
    loan = records.get(LoanRecord, data.loan_id)
    if loan is None:
        return []
    return _reasons("amount", loan.check_repayment(data.amount))


def _resolve_call(records: Records, data: MarginCallResolved) -> list[Reason]:
    call = records.get(CallRecord, data.call_id)
    if call is None:
        return []
    return _reasons("call_id", call.check_unresolved())


def _withdraw(records: Records, data: PerpMarginWithdrawn) -> list[Reason]:
    client = records.get(ClientRecord, data.client_id)
    if client is None:
        return []
    return _reasons("amount", client.check_withdrawal(data.asset, data.amount))


def _place_order(records: Records, data: PerpOrderPlaced) -> list[Reason]:
    contract = records.get(ContractRecord, data.contract_id)
    if contract is None:
        return []
    return _reasons("contract_id", contract.check_listed())


def _cancel_order(records: Records, data: PerpOrderCancelled) -> list[Reason]:
    order = records.get(OrderRecord, data.order_id)
    if order is None:
        return []
    return _reasons("order_id", order.check_cancellable())


def _execute_trade(records: Records, data: PerpTradeExecuted) -> list[Reason]:
    reasons = []
    for field, order_id, side in (
        ("buy_order_id", data.buy_order_id, "buy"),
        ("sell_order_id", data.sell_order_id, "sell"),
    ):
        order = records.get(OrderRecord, order_id)
        if order is not None:
            reasons += _reasons(field, *order.check_fill(side, data.contract_id, data.quantity))
    return reasons


def _settle_trade(records: Records, data: PerpTradeSettled) -> list[Reason]:
    trade = records.get(TradeRecord, data.trade_id)
    if trade is None:
        return []
    return _reasons("trade_id", trade.check_unsettled())


def _liquidate_position(records: Records, data: PositionLiquidated) -> list[Reason]:
    client = records.get(ClientRecord, data.client_id)
    if client is None:
        return []
    return _reasons("quantity", client.check_liquidation(data.contract_id, data.quantity))


CHECKS: Mapping[type[Payload], Callable[[Records, Any], list[Reason]]] = {
    CreditLimitChanged: _account_of_client,
    SecuritiesMarginPositionReported: _account_of_client,
    SecuritiesMarginAccountClosed: _close_account,
    CollateralReleased: _reduce_pledge,
    CollateralTransferred: _reduce_pledge,
    VAFinancingRepaid: _repay,
    MarginCallResolved: _resolve_call,
    PerpMarginWithdrawn: _withdraw,
    PerpOrderPlaced: _place_order,
    PerpOrderCancelled: _cancel_order,
    PerpTradeExecuted: _execute_trade,
    PerpTradeSettled: _settle_trade,
    PositionLiquidated: _liquidate_position,
}

"""VA perpetual contracts on a platform (events.md, "VA perpetual contracts (platform)")."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import ValidationInfo, field_validator

from domain.events.payload import Payload
from domain.values import Asset, DecimalValue, Id, PositiveDecimal, Rate, Text, invalid

FundingSource = Literal["client_funds", "platform_credit", "affiliate_credit", "third_party_loan"]
Side = Literal["buy", "sell"]
SettledBy = Literal["platform", "counterparty", "third_party"]
LossMethod = Literal["insurance_fund", "auto_deleveraging", "socialised"]


class PerpContractListed(Payload):
    contract_id: Id
    reference_asset: Asset
    settlement_asset: Asset
    contract_size: PositiveDecimal
    initial_margin_rate: Rate
    maintenance_margin_rate: Rate

    @field_validator("maintenance_margin_rate")
    @classmethod
    def check_below_initial(cls, rate: Decimal, info: ValidationInfo) -> Decimal:
        initial = info.data.get("initial_margin_rate")
        if initial is not None and rate >= initial:
            raise invalid(f"must be below initial_margin_rate ({initial:f})")
        return rate


class PerpContractDelisted(Payload):
    contract_id: Id


class FundingSettled(Payload):
    contract_id: Id
    funding_rate: DecimalValue


class PerpMarginDeposited(Payload):
    deposit_id: Id
    client_id: Id
    asset: Asset
    amount: PositiveDecimal
    funding_source: FundingSource


class PerpMarginWithdrawn(Payload):
    client_id: Id
    asset: Asset
    amount: PositiveDecimal


class PerpOrderPlaced(Payload):
    order_id: Id
    client_id: Id
    contract_id: Id
    side: Side
    quantity: PositiveDecimal
    # Required although nullable: null means a market order, so it must never be implied.
    limit_price: PositiveDecimal | None
    market_maker: bool


class PerpOrderCancelled(Payload):
    order_id: Id


class PerpTradeExecuted(Payload):
    trade_id: Id
    contract_id: Id
    buy_order_id: Id
    sell_order_id: Id
    quantity: PositiveDecimal
    price: PositiveDecimal


class PerpTradeSettled(Payload):
    trade_id: Id
    settled_by: SettledBy


class PositionLiquidated(Payload):
    client_id: Id
    contract_id: Id
    quantity: PositiveDecimal
    price: PositiveDecimal


class InsuranceFundChanged(Payload):
    delta: DecimalValue
    reason: Text


class LossAllocated(Payload):
    contract_id: Id
    amount: PositiveDecimal
    method: LossMethod

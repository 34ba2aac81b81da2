"""The 35 event types of contract version 1, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

from domain.events.clients import (
    ClientOnboarded,
    ClientReclassified,
    CreditLimitChanged,
    DerivativesKnowledgeAssessed,
    RiskDisclosureAcknowledged,
    SecuritiesMarginAccountClosed,
    SecuritiesMarginAccountOpened,
    SecuritiesMarginPositionReported,
)
from domain.events.margin_financing import (
    CollateralHaircutChanged,
    CollateralPledged,
    CollateralReleased,
    CollateralTransferred,
    MarginCallIssued,
    MarginCallResolved,
    VAFinancingDrawn,
    VAFinancingRepaid,
)
from domain.events.market_making import (
    DataAccessed,
    MarketMakerControlsChanged,
    MarketMakerRegistered,
)
from domain.events.payload import Payload
from domain.events.perpetuals import (
    FundingSettled,
    InsuranceFundChanged,
    LossAllocated,
    PerpContractDelisted,
    PerpContractListed,
    PerpMarginDeposited,
    PerpMarginWithdrawn,
    PerpOrderCancelled,
    PerpOrderPlaced,
    PerpTradeExecuted,
    PerpTradeSettled,
    PositionLiquidated,
)
from domain.events.reference_data import (
    AssetListed,
    AssetStatusChanged,
    PriceObserved,
    RuleParameterAmended,
)

EventType = Literal[
    "AssetListed", "AssetStatusChanged", "PriceObserved", "RuleParameterAmended",
    "ClientOnboarded", "ClientReclassified", "SecuritiesMarginAccountOpened",
    "CreditLimitChanged", "SecuritiesMarginAccountClosed", "SecuritiesMarginPositionReported",
    "DerivativesKnowledgeAssessed", "RiskDisclosureAcknowledged",
    "CollateralPledged", "CollateralHaircutChanged", "CollateralReleased",
    "CollateralTransferred", "VAFinancingDrawn", "VAFinancingRepaid", "MarginCallIssued",
    "MarginCallResolved",
    "PerpContractListed", "PerpContractDelisted", "FundingSettled", "PerpMarginDeposited",
    "PerpMarginWithdrawn", "PerpOrderPlaced", "PerpOrderCancelled", "PerpTradeExecuted",
    "PerpTradeSettled", "PositionLiquidated", "InsuranceFundChanged", "LossAllocated",
    "MarketMakerRegistered", "MarketMakerControlsChanged", "DataAccessed",
]  # fmt: skip

EVENT_TYPES: Mapping[str, type[Payload]] = MappingProxyType(
    {
        model.__name__: model
        for model in (
            AssetListed,
            AssetStatusChanged,
            PriceObserved,
            RuleParameterAmended,
            ClientOnboarded,
            ClientReclassified,
            SecuritiesMarginAccountOpened,
            CreditLimitChanged,
            SecuritiesMarginAccountClosed,
            SecuritiesMarginPositionReported,
            DerivativesKnowledgeAssessed,
            RiskDisclosureAcknowledged,
            CollateralPledged,
            CollateralHaircutChanged,
            CollateralReleased,
            CollateralTransferred,
            VAFinancingDrawn,
            VAFinancingRepaid,
            MarginCallIssued,
            MarginCallResolved,
            PerpContractListed,
            PerpContractDelisted,
            FundingSettled,
            PerpMarginDeposited,
            PerpMarginWithdrawn,
            PerpOrderPlaced,
            PerpOrderCancelled,
            PerpTradeExecuted,
            PerpTradeSettled,
            PositionLiquidated,
            InsuranceFundChanged,
            LossAllocated,
            MarketMakerRegistered,
            MarketMakerControlsChanged,
            DataAccessed,
        )  # fmt: skip
    }
)

assert tuple(EVENT_TYPES) == get_args(EventType), "EventType and EVENT_TYPES must agree"

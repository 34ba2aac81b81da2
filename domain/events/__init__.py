"""The public event contract (``shared/spec/events.md``): one pydantic model per type.

Everything here is schema: renaming a class or a field changes what the ledger stores.
"""

from domain.events.catalogue import EVENT_TYPES, EventType
from domain.events.clients import (
    ClientOnboarded,
    ClientReclassified,
    CreditLimitChanged,
    DerivativesKnowledgeAssessed,
    PIAssessment,
    RiskDisclosureAcknowledged,
    SecuritiesMarginAccountClosed,
    SecuritiesMarginAccountOpened,
    SecuritiesMarginPositionReported,
)
from domain.events.decoding import WHOLE_EVENT, parse_event, parse_line
from domain.events.envelope import (
    DEFAULT_SOURCE,
    Envelope,
    RecordedEvent,
    canonical_content,
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
    PLATFORM,
    DataAccessed,
    MarketMakerControls,
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
    AmendedValue,
    AssetListed,
    AssetStatusChanged,
    PriceObserved,
    RuleParameterAmended,
)

__all__ = [
    "DEFAULT_SOURCE", "EVENT_TYPES", "PLATFORM", "WHOLE_EVENT",
    "AmendedValue", "Envelope", "EventType", "Payload", "RecordedEvent",
    "canonical_content", "parse_event", "parse_line",
    "MarketMakerControls", "PIAssessment",
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

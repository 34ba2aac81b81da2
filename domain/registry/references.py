"""Which entities each event type names, and whether it creates or needs them.

One table serves both the batch prefetch and the existence checks, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from domain.events import EVENT_TYPES, PLATFORM, Payload
from domain.registry.aggregates import EntityKey

NOUNS = {
    "asset": "asset",
    "client": "client",
    "account": "securities margin account",
    "pledge": "pledge",
    "loan": "loan",
    "call": "margin call",
    "contract": "contract",
    "deposit": "deposit",
    "order": "order",
    "trade": "trade",
    "mm": "market maker",
}


@dataclass(frozen=True, slots=True)
class Reference:
    field: str
    kind: str
    creates: bool = False  # the event creates the entity, so it must not exist yet
    unless: str | None = None  # a value that names no entity


def _new(field: str, kind: str) -> Reference:
    return Reference(field, kind, creates=True)


_client = Reference("client_id", "client")
_account = Reference("account_id", "account")
_asset = Reference("asset", "asset")
_pledge = Reference("pledge_id", "pledge")
_contract = Reference("contract_id", "contract")

REFERENCES: Mapping[str, tuple[Reference, ...]] = {
    "AssetListed": (_new("asset", "asset"),),
    "AssetStatusChanged": (_asset,),
    "PriceObserved": (_asset,),
    "RuleParameterAmended": (),
    "ClientOnboarded": (_new("client_id", "client"), Reference("market_maker_id", "mm")),
    "ClientReclassified": (_client,),
    "SecuritiesMarginAccountOpened": (_client, _new("account_id", "account")),
    "CreditLimitChanged": (_client, _account),
    "SecuritiesMarginAccountClosed": (_client, _account),
    "SecuritiesMarginPositionReported": (_client, _account),
    "DerivativesKnowledgeAssessed": (_client,),
    "RiskDisclosureAcknowledged": (_client,),
    "CollateralPledged": (_new("pledge_id", "pledge"), _client, _asset),
    "CollateralHaircutChanged": (_pledge,),
    "CollateralReleased": (_pledge,),
    "CollateralTransferred": (_pledge,),
    "VAFinancingDrawn": (
        _new("loan_id", "loan"),
        _client,
        _account,
        Reference("purpose_asset", "asset"),
    ),  # fmt: skip
    "VAFinancingRepaid": (Reference("loan_id", "loan"),),
    "MarginCallIssued": (_new("call_id", "call"), _client),
    "MarginCallResolved": (Reference("call_id", "call"),),
    "PerpContractListed": (
        _new("contract_id", "contract"),
        Reference("reference_asset", "asset"),
        Reference("settlement_asset", "asset"),
    ),
    "PerpContractDelisted": (_contract,),
    "FundingSettled": (_contract,),
    "PerpMarginDeposited": (_new("deposit_id", "deposit"), _client, _asset),
    "PerpMarginWithdrawn": (_client, _asset),
    "PerpOrderPlaced": (_new("order_id", "order"), _client, _contract),
    "PerpOrderCancelled": (Reference("order_id", "order"),),
    "PerpTradeExecuted": (
        _new("trade_id", "trade"),
        _contract,
        Reference("buy_order_id", "order"),
        Reference("sell_order_id", "order"),
    ),
    "PerpTradeSettled": (Reference("trade_id", "trade"),),
    "PositionLiquidated": (_client, _contract),
    "InsuranceFundChanged": (),
    "LossAllocated": (_contract,),
    "MarketMakerRegistered": (_new("mm_id", "mm"),),
    "MarketMakerControlsChanged": (Reference("mm_id", "mm"),),
    "DataAccessed": (Reference("actor_entity", "mm", unless=PLATFORM),),
}

assert REFERENCES.keys() == EVENT_TYPES.keys(), "every event type needs a REFERENCES entry"


def referenced(event_type: str, data: Payload) -> Iterator[tuple[Reference, EntityKey]]:
    """Each reference of the event that names an entity, with that entity's key."""
    for reference in REFERENCES[event_type]:
        natural_id = getattr(data, reference.field)
        if natural_id is not None and natural_id != reference.unless:
            yield reference, (reference.kind, natural_id)


def unknown(reference: Reference, natural_id: str) -> str:
    return f"unknown {NOUNS[reference.kind]} '{natural_id}'"


def already_exists(reference: Reference, natural_id: str) -> str:
    if reference.kind == "asset":
        return f"asset '{natural_id}' is already listed (use AssetStatusChanged)"
    return f"{NOUNS[reference.kind]} '{natural_id}' already exists"

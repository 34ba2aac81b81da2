"""A day of all 35 catalogue types in an order ingest accepts and the rules judge: the skeleton
the downstream property fills with extreme values. Built as the JSON upstream sends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
CONTROLS = {"information_barrier": True, "functional_independence": True,
            "conflict_monitoring": False, "client_priority": True}
PI = {"portfolio": "9000000", "total_assets": "40000000.50", "assessed_on": "2026-01-15"}


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


# (type, data); every event one minute after the one before it.
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("AssetListed", {"asset": "HKD", "asset_kind": "fiat"}),
    ("AssetListed", {"asset": "BTC", "asset_kind": "virtual_asset", "retail_spot_approved": True}),
    ("AssetListed", {"asset": "ETH", "asset_kind": "virtual_asset"}),
    ("AssetListed", {"asset": "HKDX", "asset_kind": "stablecoin", "hkma_licensed": True,
                     "issuer": "HK Issuer Ltd"}),
    ("AssetStatusChanged", {"asset": "ETH", "retail_spot_approved": True}),
    ("PriceObserved", {"asset": "BTC", "price": "500000", "price_source": "feed"}),
    ("PriceObserved", {"asset": "ETH", "price": "20000", "price_source": "feed"}),
    ("PriceObserved", {"asset": "HKDX", "price": "1", "price_source": "feed"}),
    ("RuleParameterAmended", {"rule_id": "MF-05", "parameter": "min_haircut", "value": "0.65",
                              "effective_from": _at(30), "notice_ref": "26EC5"}),
    ("MarketMakerRegistered", {"mm_id": "MM-A", "legal_entity": "Platform Liquidity Ltd",
                               "affiliate": True, "controls": CONTROLS}),
    ("ClientOnboarded", {"client_id": "C1", "client_type": "individual",
                         "investor_class": "professional", "pi_assessment": PI}),
    ("ClientOnboarded", {"client_id": "M1", "client_type": "corporation",
                         "investor_class": "professional", "pi_assessment": PI,
                         "market_maker_id": "MM-A"}),
    ("ClientOnboarded", {"client_id": "C2", "client_type": "individual",
                         "investor_class": "retail", "pi_assessment": None}),
    ("DerivativesKnowledgeAssessed", {"client_id": "C1", "has_knowledge": True, "basis": "training"}),
    ("RiskDisclosureAcknowledged", {"client_id": "C1", "product": "va_financing", "version": "2026.1"}),
    ("RiskDisclosureAcknowledged", {"client_id": "C1", "product": "perpetuals", "version": "2026.1"}),
    ("SecuritiesMarginAccountOpened", {"client_id": "C1", "account_id": "A1",
                                       "credit_limit": "2000000"}),
    ("SecuritiesMarginPositionReported", {"client_id": "C1", "account_id": "A1",
                                          "marginable_value": "150000.5", "loan_balance": "0"}),
    ("CollateralPledged", {"pledge_id": "P1", "client_id": "C1", "asset": "BTC", "quantity": "10",
                           "haircut": "0.6"}),
    ("CollateralPledged", {"pledge_id": "P2", "client_id": "C1", "asset": "ETH", "quantity": "5",
                           "haircut": "0.5"}),
    ("CollateralHaircutChanged", {"pledge_id": "P1", "haircut": "0.7"}),
    ("VAFinancingDrawn", {"loan_id": "L1", "client_id": "C1", "account_id": "A1",
                          "amount": "1500000", "purpose_asset": "BTC"}),
    ("PriceObserved", {"asset": "BTC", "price": "300000", "price_source": "feed"}),
    ("MarginCallIssued", {"call_id": "MC1", "client_id": "C1", "shortfall": "20000",
                          "due_by": _at(600)}),
    ("VAFinancingRepaid", {"loan_id": "L1", "amount": "100000"}),
    ("MarginCallResolved", {"call_id": "MC1", "resolution": "topped_up"}),
    ("CollateralReleased", {"pledge_id": "P2", "quantity": "0.5"}),
    ("CollateralTransferred", {"pledge_id": "P1", "quantity": "1", "destination_kind": "liquidation",
                               "destination": "otc-desk", "purpose": "cover default"}),
    ("CreditLimitChanged", {"client_id": "C1", "account_id": "A1", "credit_limit": "3000000",
                            "reason": "va_financing"}),
    ("PerpContractListed", {"contract_id": "BTC-PERP", "reference_asset": "BTC",
                            "settlement_asset": "HKD", "contract_size": "0.01",
                            "initial_margin_rate": "0.1", "maintenance_margin_rate": "0.05"}),
    ("PerpContractListed", {"contract_id": "ETH-PERP", "reference_asset": "ETH",
                            "settlement_asset": "HKD", "contract_size": "0.1",
                            "initial_margin_rate": "0.2", "maintenance_margin_rate": "0.1"}),
    ("PerpMarginDeposited", {"deposit_id": "D1", "client_id": "C1", "asset": "HKD",
                             "amount": "50000", "funding_source": "client_funds"}),
    ("PerpMarginDeposited", {"deposit_id": "D2", "client_id": "M1", "asset": "HKD",
                             "amount": "5000000", "funding_source": "client_funds"}),
    ("PerpMarginDeposited", {"deposit_id": "D3", "client_id": "C1", "asset": "BTC",
                             "amount": "0.1", "funding_source": "third_party_loan"}),
    ("PerpOrderPlaced", {"order_id": "O1", "client_id": "M1", "contract_id": "BTC-PERP",
                         "side": "sell", "quantity": "3", "limit_price": None, "market_maker": True}),
    ("PerpOrderPlaced", {"order_id": "O2", "client_id": "C1", "contract_id": "BTC-PERP",
                         "side": "buy", "quantity": "3", "limit_price": "300000",
                         "market_maker": False}),
    ("PerpTradeExecuted", {"trade_id": "T1", "contract_id": "BTC-PERP", "buy_order_id": "O2",
                           "sell_order_id": "O1", "quantity": "2", "price": "300000"}),
    ("PerpTradeSettled", {"trade_id": "T1", "settled_by": "counterparty"}),
    ("PerpOrderCancelled", {"order_id": "O1"}),
    ("FundingSettled", {"contract_id": "BTC-PERP", "funding_rate": "-0.0001"}),
    ("PriceObserved", {"asset": "BTC", "price": "100000", "price_source": "feed"}),
    ("PositionLiquidated", {"client_id": "C1", "contract_id": "BTC-PERP", "quantity": "1",
                            "price": "100000"}),
    ("InsuranceFundChanged", {"delta": "-2500.75", "reason": "covered a liquidation loss"}),
    ("LossAllocated", {"contract_id": "BTC-PERP", "amount": "1000", "method": "socialised"}),
    ("PerpMarginWithdrawn", {"client_id": "C1", "asset": "HKD", "amount": "100"}),
    ("MarketMakerControlsChanged", {"mm_id": "MM-A", "controls": {**CONTROLS, "client_priority": False}}),
    ("DataAccessed", {"actor_id": "trader-7", "actor_entity": "MM-A", "dataset": "client_orders",
                      "record_count": 120}),
    ("ClientReclassified", {"client_id": "C2", "investor_class": "professional", "pi_assessment": PI}),
    ("PerpContractDelisted", {"contract_id": "ETH-PERP"}),
    ("SecuritiesMarginAccountOpened", {"client_id": "C2", "account_id": "A2", "credit_limit": "100"}),
    ("SecuritiesMarginAccountClosed", {"client_id": "C2", "account_id": "A2"}),
]


def envelopes() -> list[dict[str, Any]]:
    """The day's events as objects (the property changes some of their values)."""
    return [
        {"event_id": f"d-{n:03d}", "type": type_, "occurred_at": _at(n), "source": "catalogue-day",
         "data": json.loads(json.dumps(data))}
        for n, (type_, data) in enumerate(EVENTS, 1)
    ]

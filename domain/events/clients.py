"""Clients and their securities margin accounts (events.md, "Clients and accounts")."""

from __future__ import annotations

from typing import Literal

from domain.events.payload import Payload
from domain.values import Date, Id, NonNegativeDecimal, Text

ClientType = Literal[
    "individual", "corporation", "partnership", "trust_corporation", "institutional"
]
InvestorClass = Literal["retail", "professional"]
CreditLimitReason = Literal[
    "periodic_review", "client_request", "financial_change", "va_financing", "other"
]
Product = Literal["perpetuals", "va_financing"]


class PIAssessment(Payload):
    """The evidence behind a professional-investor classification (Cap. 571D)."""

    portfolio: NonNegativeDecimal
    total_assets: NonNegativeDecimal | None = None
    assessed_on: Date


class ClientOnboarded(Payload):
    client_id: Id
    client_type: ClientType
    investor_class: InvestorClass
    pi_assessment: PIAssessment | None = None
    market_maker_id: Id | None = None


class ClientReclassified(Payload):
    client_id: Id
    investor_class: InvestorClass
    pi_assessment: PIAssessment | None = None


class SecuritiesMarginAccountOpened(Payload):
    client_id: Id
    account_id: Id
    credit_limit: NonNegativeDecimal


class CreditLimitChanged(Payload):
    client_id: Id
    account_id: Id
    credit_limit: NonNegativeDecimal
    reason: CreditLimitReason


class SecuritiesMarginAccountClosed(Payload):
    client_id: Id
    account_id: Id


class SecuritiesMarginPositionReported(Payload):
    client_id: Id
    account_id: Id
    marginable_value: NonNegativeDecimal
    loan_balance: NonNegativeDecimal


class DerivativesKnowledgeAssessed(Payload):
    client_id: Id
    has_knowledge: bool
    basis: Text


class RiskDisclosureAcknowledged(Payload):
    client_id: Id
    product: Product
    version: Text

"""Applying one event to the book: an explicit table from event type to handler.

Handlers change state only; they judge nothing. The table is keyed by the catalogue's payload
classes; every event type is in it, in ``NOT_APPLIED`` (with the reason), or is
``RuleParameterAmended`` (``record_amendment``): ``tests/domain/test_handler_tables.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from domain.book import apply_accounts as accounts
from domain.book import apply_perps as perps
from domain.book.book import Book
from domain.book.changes import PriceMove
from domain.book.entities import HKD, Amendment, Asset, MarketMaker
from domain.book.money import ZERO
from domain.errors import EventRejected, Reason
from domain.events import (
    EVENT_TYPES,
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
    Envelope,
    FundingSettled,
    InsuranceFundChanged,
    LossAllocated,
    MarginCallIssued,
    MarginCallResolved,
    MarketMakerControls,
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
from domain.parameters import coerce_parameter

Handler = Callable[[Book, Any], None]


def asset_listed(book: Book, e: AssetListed) -> None:
    existing = book.asset(e.asset)
    price = None if existing is None else existing.price  # a price kept if observed first
    book.assets.put(e.asset, Asset(
        e.asset, e.asset_kind, e.retail_spot_approved, e.iosco_compliant, e.hkma_licensed, price
    ))


def asset_status_changed(book: Book, e: AssetStatusChanged) -> None:
    asset = book.edit_asset(e.asset)
    if e.retail_spot_approved is not None:
        asset.retail_spot_approved = e.retail_spot_approved
    if e.iosco_compliant is not None:
        asset.iosco_compliant = e.iosco_compliant
    if e.hkma_licensed is not None:
        asset.hkma_licensed = e.hkma_licensed


def price_observed(book: Book, e: PriceObserved) -> None:
    if e.asset == HKD:
        return  # HKD is always 1 (reading 4)
    asset = book.edit_asset(e.asset)
    old = asset.price
    asset.price = e.price
    book.changes.moves.append(PriceMove(e.asset, ZERO if old is None else old, e.price, old is None))


def _controls(controls: MarketMakerControls) -> tuple[bool, bool, bool, bool]:
    return (
        controls.information_barrier, controls.functional_independence,
        controls.conflict_monitoring, controls.client_priority,
    )


def market_maker_registered(book: Book, e: MarketMakerRegistered) -> None:
    book.market_makers.put(e.mm_id, MarketMaker(e.mm_id, e.affiliate, _controls(e.controls)))


def controls_changed(book: Book, e: MarketMakerControlsChanged) -> None:
    mm = book.market_maker(e.mm_id)
    if mm is not None:
        book.market_makers.put(e.mm_id, replace(mm, controls=_controls(e.controls)))


HANDLERS: Mapping[type[Payload], Handler] = {
    AssetListed: asset_listed,
    AssetStatusChanged: asset_status_changed,
    PriceObserved: price_observed,
    ClientOnboarded: accounts.client_onboarded,
    ClientReclassified: accounts.client_reclassified,
    SecuritiesMarginAccountOpened: accounts.account_opened,
    CreditLimitChanged: accounts.credit_limit_changed,
    SecuritiesMarginAccountClosed: accounts.account_closed,
    SecuritiesMarginPositionReported: accounts.position_reported,
    DerivativesKnowledgeAssessed: accounts.knowledge_assessed,
    RiskDisclosureAcknowledged: accounts.disclosure_acknowledged,
    CollateralPledged: accounts.collateral_pledged,
    CollateralHaircutChanged: accounts.haircut_changed,
    CollateralReleased: accounts.collateral_released,
    CollateralTransferred: accounts.collateral_transferred,
    VAFinancingDrawn: accounts.financing_drawn,
    VAFinancingRepaid: accounts.financing_repaid,
    MarginCallIssued: accounts.margin_call_issued,
    MarginCallResolved: accounts.margin_call_resolved,
    PerpContractListed: perps.contract_listed,
    PerpContractDelisted: perps.contract_delisted,
    PerpMarginDeposited: perps.margin_deposited,
    PerpMarginWithdrawn: perps.margin_withdrawn,
    PerpOrderPlaced: perps.order_placed,
    PerpOrderCancelled: perps.order_cancelled,
    PerpTradeExecuted: perps.trade_executed,
    PositionLiquidated: perps.position_liquidated,
    InsuranceFundChanged: perps.insurance_fund_changed,
    MarketMakerRegistered: market_maker_registered,
    MarketMakerControlsChanged: controls_changed,
}

# Facts that no state the rules read depends on: their obligations are the rules' business.
NOT_APPLIED: Mapping[type[Payload], str] = {
    FundingSettled: "PERP-08 judges it when it arrives; no state the rules read records it",
    PerpTradeSettled: "PERP-05 judges it when it arrives; no state the rules read records it",
    LossAllocated: "PERP-07 judges it against the insurance fund, which it does not change",
    DataAccessed: "MM-04 judges the access when it arrives; no state the rules read records it",
}

# Payload classes that have a ``client_id`` (asking the others costs pydantic a slow miss).
NAMING_A_CLIENT = frozenset(
    model for model in EVENT_TYPES.values() if "client_id" in model.model_fields
)


def amendment_key(position: int) -> str:
    return f"{position:012d}"  # ledger order sorts as text


def record_amendment(book: Book, envelope: Envelope, position: int) -> Amendment:
    """Record a ``RuleParameterAmended``; it takes effect when event time reaches it."""
    e = envelope.data
    assert isinstance(e, RuleParameterAmended)
    kind = book.parameter_types.get(e.rule_id, {}).get(e.parameter)
    if kind is None:
        raise EventRejected([Reason("data.parameter", f"{e.rule_id} has no parameter {e.parameter!r}")],
                            envelope.event_id)
    try:
        value = coerce_parameter(kind, e.value, stored=True)  # a stored event
    except ValueError as error:
        raise EventRejected([Reason("data.value", str(error))], envelope.event_id) from None
    amendment = Amendment(
        e.rule_id, e.parameter, value, e.effective_from, envelope.event_id, envelope.occurred_at,
        position,
    )
    book.amendments.put(amendment_key(position), amendment)
    return amendment


def apply(book: Book, envelope: Envelope, position: int) -> None:
    """Apply one accepted event to the book, in ledger order."""
    data = envelope.data  # (read once: a pydantic attribute)
    kind = type(data)
    if kind is RuleParameterAmended:
        record_amendment(book, envelope, position)
        return
    handler = HANDLERS.get(kind)
    client_id = getattr(data, "client_id", None) if kind in NAMING_A_CLIENT else None
    if client_id is not None and client_id not in book.clients and kind is not ClientOnboarded:
        return  # an unknown client (only an unvalidated preview can name one): nothing to change
    if handler is not None:
        handler(book, data)

"""A client's, a contract's or a market maker's derived state, with the rulebook's figures
(lending value, debt, margin balance, equity, requirements), read from a replayed book.

Every figure is exact and written as a decimal string (``number_text``); an average entry
price that does not terminate is shown to 28 significant digits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from domain.book.book import Book
from domain.book.entities import CONTROL_NAMES, Client, Contract
from domain.book.money import ONE, ZERO, exact, number_text
from domain.book.valuation import (
    contract_mark,
    debt,
    effective_haircut,
    equity,
    is_below_maintenance,
    lending_value,
    margin_balance,
    quantities,
    realised_pnl,
    requirement,
)
from domain.errors import InvalidRequest, NotFound
from domain.events import FundingSettled, MarginCallIssued, MarketMakerRegistered
from projections.asof.replay import Replay
from projections.monitor.parameters import base_values

ELIGIBLE_ASSETS = ("MF-04", "eligible_assets")
MIN_HAIRCUT = ("MF-05", "min_haircut")


def num(value: Decimal | Fraction | int) -> str:
    return number_text(value)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def collateral_terms(state: Replay) -> tuple[tuple[str, ...], Decimal]:
    """MF-04 ``eligible_assets`` and MF-05 ``min_haircut`` in force at the replay's moment
    (the rulebook defaults when nothing was applied)."""
    moment = state.moment
    if moment is None:
        base = base_values({})
        eligible, haircut = base[ELIGIBLE_ASSETS], base[MIN_HAIRCUT]
    else:
        eligible = state.engine.parameter_at(*ELIGIBLE_ASSETS, moment)
        haircut = state.engine.parameter_at(*MIN_HAIRCUT, moment)
    assert isinstance(eligible, tuple) and isinstance(haircut, Decimal)
    return eligible, haircut


def header(state: Replay) -> dict[str, Any]:
    return {
        "as_of": _when(state.as_of),
        "ledger_position": state.position,
        "events_applied": state.applied,
        "left_out": [
            {"position": x.position, "event_id": x.event_id, "reason": x.reason}
            for x in state.left_out
        ],
        "left_out_count": state.left_out_count,
    }


# -- client ---------------------------------------------------------------------------------
def client_state(state: Replay, client_id: str) -> dict[str, Any]:
    book = state.engine.book
    client = book.client(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r} in the ledger as of that time")
    with exact():
        return {"client_id": client_id, **header(state), **client_figures(state, client)}


def client_figures(state: Replay, client: Client) -> dict[str, Any]:
    book = state.engine.book
    eligible, min_haircut = collateral_terms(state)
    lv, owed = lending_value(book, client, eligible, min_haircut), debt(client)
    pi = client.pi_assessment
    return {
        "client_type": client.client_type,
        "investor_class": client.investor_class,
        "pi_assessment": None if pi is None else {
            "portfolio": num(pi.portfolio),
            "total_assets": None if pi.total_assets is None else num(pi.total_assets),
            "assessed_on": pi.assessed_on.isoformat(),
        },
        "market_maker_id": client.market_maker_id,
        "derivatives_knowledge": client.has_knowledge,
        "risk_disclosures": sorted(client.disclosures),
        "parameters": {"MF-04.eligible_assets": list(eligible), "MF-05.min_haircut": num(min_haircut)},
        "accounts": [
            {
                "account_id": a.account_id, "open": a.open, "credit_limit": num(a.credit_limit),
                "marginable_value": num(a.marginable_value), "loan_balance": num(a.loan_balance),
            }
            for a in sorted(client.accounts.values(), key=lambda a: a.account_id)
        ],
        "pledges": [
            pledge_figures(book, p.pledge_id, p.asset, p.quantity, p.haircut, eligible, min_haircut)
            for p in sorted(client.pledges.values(), key=lambda p: p.pledge_id)
        ],
        "loans": [
            {"loan_id": loan_id, "outstanding": num(amount)}
            for loan_id, amount in sorted(client.loans.items())
        ],
        "debt": num(owed),
        "lending_value": num(lv),
        "short": owed > lv,
        "open_margin_calls": [_call(state, call_id) for call_id in sorted(client.open_calls)],
        **perpetual_figures(book, client),
    }


def pledge_figures(
    book: Book, pledge_id: str, asset: str, quantity: Decimal, haircut: Decimal,
    eligible: tuple[str, ...], min_haircut: Decimal,
) -> dict[str, Any]:
    price = book.price(asset)
    applied = effective_haircut(haircut, min_haircut)
    value = quantity * price
    counts = quantity > 0 and asset in eligible
    return {
        "pledge_id": pledge_id, "asset": asset, "quantity": num(quantity), "open": quantity > 0,
        "eligible": asset in eligible, "haircut": num(haircut), "haircut_applied": num(applied),
        "price": num(price), "value": num(value),
        "lending_value": num(value * (ONE - applied) if counts else ZERO),
    }


def _call(state: Replay, call_id: str) -> dict[str, Any]:
    issued = state.last("MarginCallIssued", call_id)
    if issued is None:
        return {"call_id": call_id}
    data = issued.envelope.data
    assert isinstance(data, MarginCallIssued)
    return {
        "call_id": call_id, "shortfall": num(data.shortfall), "due_by": data.due_by.isoformat(),
        "issued_at": issued.envelope.occurred_at.isoformat(), "event_id": issued.envelope.event_id,
    }


def perpetual_figures(book: Book, client: Client) -> dict[str, Any]:
    positions = []
    for contract_id, position in sorted(client.positions.items()):
        contract = book.contract(contract_id)
        assert contract is not None, "a position is always in a listed contract"
        mark = book.mark(contract)
        m = contract_mark(book, contract)
        unrealised = Fraction(position.quantity * contract.contract_size) * (Fraction(m) - position.entry)
        positions.append({
            "contract_id": contract_id, "quantity": num(position.quantity),
            "contract_size": num(contract.contract_size), "average_entry": num(position.entry),
            "mark": None if mark is None else num(mark), "unrealised_pnl": num(unrealised),
        })
    held = quantities(client)
    return {
        "margin_assets": [
            {"asset": asset, "net_deposited": num(net), "price": num(book.price(asset)),
             "value": num(net * book.price(asset))}
            for asset, net in sorted(client.margin.items())
        ],
        "realised_pnl": num(realised_pnl(book, client)),
        "perpetual_positions": positions,
        "margin_balance": num(margin_balance(book, client)),
        "equity": num(equity(book, client)),
        "initial_requirement": num(requirement(book, held, maintenance=False)),
        "maintenance_requirement": num(requirement(book, held, maintenance=True)),
        "below_maintenance": is_below_maintenance(book, client),
    }


# -- contract -------------------------------------------------------------------------------
def contract_state(state: Replay, contract_id: str) -> dict[str, Any]:
    book = state.engine.book
    contract = book.contract(contract_id)
    if contract is None:
        raise NotFound(f"no contract {contract_id!r} in the ledger as of that time")
    with exact():
        return {"contract_id": contract_id, **header(state), **contract_figures(state, contract)}


def contract_figures(state: Replay, contract: Contract) -> dict[str, Any]:
    book = state.engine.book
    mark = book.mark(contract)
    basis = "reference_asset" if book.is_priced(contract.reference_asset) else (
        "last_trade" if contract.last_trade_price is not None else None
    )
    holders = []
    open_interest = ZERO
    for client_id, client in sorted(book.clients.items()):
        position = client.positions.get(contract.contract_id)
        if position is None:
            continue
        if position.quantity > 0:
            open_interest += position.quantity
        unrealised = Fraction(position.quantity * contract.contract_size) * (
            Fraction(contract_mark(book, contract)) - position.entry
        )
        holders.append({
            "client_id": client_id, "quantity": num(position.quantity),
            "average_entry": num(position.entry), "unrealised_pnl": num(unrealised),
        })
    resting = sorted(
        (o for o in book.orders.values() if o.contract_id == contract.contract_id),
        key=lambda o: o.order_id,
    )
    funding = state.last("FundingSettled", contract.contract_id)
    rate = None if funding is None else funding.envelope.data
    assert rate is None or isinstance(rate, FundingSettled)
    return {
        "reference_asset": contract.reference_asset,
        "settlement_asset": contract.settlement_asset,
        "contract_size": num(contract.contract_size),
        "initial_margin_rate": num(contract.initial_margin_rate),
        "maintenance_margin_rate": num(contract.maintenance_margin_rate),
        "delisted": contract.delisted,
        "mark": None if mark is None else num(mark),
        "mark_basis": basis,
        "last_trade_price": None if contract.last_trade_price is None else num(contract.last_trade_price),
        "last_funding": None if funding is None or rate is None else {
            "event_id": funding.envelope.event_id,
            "occurred_at": funding.envelope.occurred_at.isoformat(),
            "funding_rate": num(rate.funding_rate),
        },
        "open_interest": num(open_interest),
        "positions": holders,
        "resting_orders": [
            {"order_id": o.order_id, "client_id": o.client_id, "side": o.side,
             "remaining": num(o.remaining),
             "limit_price": None if o.limit_price is None else num(o.limit_price)}
            for o in resting
        ],
        "insurance_fund_balance": num(book.fund_balance()),
    }


# -- market maker ---------------------------------------------------------------------------
def market_maker_state(state: Replay, mm_id: str) -> dict[str, Any]:
    book = state.engine.book
    mm = book.market_maker(mm_id)
    if mm is None:
        raise NotFound(f"no market maker {mm_id!r} in the ledger as of that time")
    registered = state.last("MarketMakerRegistered", mm_id)
    registration = None if registered is None else registered.envelope.data
    assert registration is None or isinstance(registration, MarketMakerRegistered)
    accounts = [c for _, c in sorted(book.clients.items()) if c.market_maker_id == mm_id]
    with exact():
        return {
            "mm_id": mm_id,
            **header(state),
            "legal_entity": None if registration is None else registration.legal_entity,
            "affiliate": mm.affiliate,
            "controls": dict(zip(CONTROL_NAMES, mm.controls, strict=True)),
            "missing_controls": list(mm.missing_controls),
            "accounts": [
                {"client_id": c.client_id, "investor_class": c.investor_class, **perpetual_figures(book, c)}
                for c in accounts
            ],
        }


def check_one_target(client_id: str | None, contract: str | None, market_maker: str | None) -> None:
    if sum(x is not None for x in (client_id, contract, market_maker)) != 1:
        raise InvalidRequest("name exactly one of: CLIENT_ID, --contract ID, --market-maker ID")

"""The simulator's own model of each client: what the firm's systems know, and the figures
the rulebook compares (lending value, debt, perpetual equity and requirements), exact.

The simulator decides with these figures, so that a clean run never breaches a rule: it
issues a margin call when a client becomes short and liquidates one that falls below its
maintenance margin, in time. Thresholds turn "short" and "below maintenance" into a price
level, so that a price step only looks at the clients it can change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.book.money import ZERO, exact

ELIGIBLE_COLLATERAL = ("BTC", "ETH")
MIN_HAIRCUT = Decimal("0.6")  # MF-05's default; an SFC notice may raise it during a run


@dataclass(frozen=True, slots=True)
class ContractSpec:
    contract_id: str
    reference: str
    size: Decimal
    initial_rate: Decimal
    maintenance_rate: Decimal


@dataclass(slots=True)
class SimulatedPosition:
    """A perpetual position in cash-flow form: equity needs no average entry price, since
    realised plus unrealised PnL since the position was last flat is k x (q x m - cost)."""

    quantity: Decimal  # signed contracts, never 0
    cost: Decimal  # sum of signed quantity x price over its fills since it was last flat


def fill(position: SimulatedPosition | None, signed: Decimal, price: Decimal, size: Decimal) -> tuple[SimulatedPosition | None, Decimal]:
    """The position after a fill, and the PnL realised when it closes flat (else 0)."""
    with exact():
        quantity = signed + (position.quantity if position is not None else ZERO)
        cost = signed * price + (position.cost if position is not None else ZERO)
        if quantity == 0:
            return None, -size * cost
        return SimulatedPosition(quantity, cost), ZERO


@dataclass(slots=True)
class SimulatedPledge:
    asset: str
    quantity: Decimal
    haircut: Decimal


@dataclass(slots=True, eq=False)
class SimulatedClient:
    client_id: str
    client_type: str
    investor_class: str
    assessed_on: date | None
    portfolio: Decimal
    total_assets: Decimal | None
    mm_id: str | None = None
    # securities margin and VA financing (broker)
    account_id: str | None = None
    account_open: bool = False
    credit_limit: Decimal = ZERO
    marginable: Decimal = ZERO
    loan_balance: Decimal = ZERO
    collateral: str = "BTC"
    pledges: dict[str, SimulatedPledge] = field(default_factory=dict)
    loans: dict[str, Decimal] = field(default_factory=dict)
    borrows: bool = False
    coverage_target: Decimal = Decimal(2)  # lending value over debt the client borrows up to
    open_call: str | None = None
    call_pending: bool = False
    short: bool = False
    # perpetual contracts (platform)
    trades_perps: bool = False
    contract: str | None = None
    leverage: Decimal = Decimal("0.3")  # share of the most its equity allows
    margin: dict[str, Decimal] = field(default_factory=dict)
    realised: Decimal = ZERO  # PnL of positions closed flat
    positions: dict[str, SimulatedPosition] = field(default_factory=dict)
    resting: str | None = None
    below: bool = False
    liquidation_pending: bool = False
    active: bool = True
    # breaches the violation injectors asked for
    late_call: bool = False
    late_resolution: bool = False
    late_liquidation: bool = False


# --- VA margin financing ---------------------------------------------------------------------
# ``floor`` is MF-05's ``min_haircut`` in force: the lending value counts the larger haircut.
def effective_haircut(pledge: SimulatedPledge, floor: Decimal) -> Decimal:
    return max(pledge.haircut, floor)


def securities_value(c: SimulatedClient) -> Decimal:
    return c.marginable if c.account_open else ZERO


def debt(c: SimulatedClient) -> Decimal:
    with exact():
        return sum(c.loans.values(), ZERO) + (c.loan_balance if c.account_open else ZERO)


def collateral_units(c: SimulatedClient, floor: Decimal) -> Decimal:
    """Sum of quantity x (1 - haircut) over the open eligible pledges: LV per unit of price."""
    with exact():
        return sum(
            (p.quantity * (1 - effective_haircut(p, floor)) for p in c.pledges.values()
             if p.asset in ELIGIBLE_COLLATERAL and p.quantity > 0),
            ZERO,
        )


def lending_value(c: SimulatedClient, price: Decimal, floor: Decimal) -> Decimal:
    with exact():
        return securities_value(c) + collateral_units(c, floor) * price


def is_short(c: SimulatedClient, price: Decimal, floor: Decimal) -> bool:
    return debt(c) > lending_value(c, price, floor)


def short_threshold(c: SimulatedClient, floor: Decimal) -> Fraction | None:
    """The collateral price below which the client is short; None when its debt is covered
    whatever the price (or uncovered whatever the price: see ``is_short``)."""
    units = collateral_units(c, floor)
    gap = debt(c) - securities_value(c)
    if units == 0 or gap <= 0:
        return None
    return Fraction(gap) / Fraction(units)


# --- perpetual contracts ---------------------------------------------------------------------
def margin_balance(c: SimulatedClient, prices: Mapping[str, Decimal]) -> Decimal:
    with exact():
        return sum((net * prices[asset] for asset, net in c.margin.items()), ZERO) + c.realised


def equity(c: SimulatedClient, prices: Mapping[str, Decimal], contracts: Mapping[str, ContractSpec]) -> Decimal:
    with exact():
        total = margin_balance(c, prices)
        for contract_id, p in c.positions.items():
            spec = contracts[contract_id]
            total += spec.size * (p.quantity * prices[spec.reference] - p.cost)
        return total


def requirement(
    quantities: Mapping[str, Decimal], prices: Mapping[str, Decimal],
    contracts: Mapping[str, ContractSpec], *, maintenance: bool,
) -> Decimal:
    total = ZERO
    with exact():
        for contract_id, q in quantities.items():
            spec = contracts[contract_id]
            rate = spec.maintenance_rate if maintenance else spec.initial_rate
            total += abs(q) * spec.size * prices[spec.reference] * rate
    return total


def held(c: SimulatedClient) -> dict[str, Decimal]:
    return {contract_id: p.quantity for contract_id, p in c.positions.items()}


def is_below_maintenance(
    c: SimulatedClient, prices: Mapping[str, Decimal], contracts: Mapping[str, ContractSpec]
) -> bool:
    if not c.positions:
        return False
    return equity(c, prices, contracts) < requirement(held(c), prices, contracts, maintenance=True)


def below_threshold(c: SimulatedClient, prices: Mapping[str, Decimal], spec: ContractSpec) -> tuple[str, Fraction] | None:
    """For a client holding one position: ("long", T) when it is below maintenance exactly
    while the mark is under T, ("short", T) while the mark is over T."""
    position = c.positions.get(spec.contract_id)
    if position is None or len(c.positions) != 1:
        return None
    # equity = B + k(q m - cost) against maintenance |q| k m r, solved for the mark m
    base = Fraction(margin_balance(c, prices))
    k, r = Fraction(spec.size), Fraction(spec.maintenance_rate)
    q, cost = Fraction(position.quantity), Fraction(position.cost)
    if q > 0:
        return "long", (k * cost - base) / (k * q * (1 - r))
    return "short", (base - k * cost) / (k * -q * (1 + r))

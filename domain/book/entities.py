"""The entities of the book (the monitoring world model): what the rules read, as the
rulebook's shared definitions say. Their admission counterparts are ``domain.registry``'s
``*Record`` classes (``ClientRecord``, ...), which hold only what validation needs.

Small values are frozen and replaced on change (built by ``domain.speedups.quick_init``'s faster
constructor: several are built per fill); ``Client``, ``Asset`` and ``Contract`` are edited in
place through ``Book.edit_*`` so that the journal can snapshot them first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from domain.book.money import ZERO
from domain.parameters import ParameterValue
from domain.speedups import quick_init

HKD = "HKD"
CONTROL_NAMES = (
    "information_barrier", "functional_independence", "conflict_monitoring", "client_priority",
)


@dataclass(slots=True)
class Asset:
    symbol: str
    kind: str | None = None  # None: priced but never listed
    retail_spot_approved: bool = False
    iosco_compliant: bool = False
    hkma_licensed: bool = False
    price: Decimal | None = None  # latest PriceObserved in ledger order

    def copy(self) -> Asset:
        return replace(self)


@quick_init
@dataclass(frozen=True, slots=True)
class PIEvidence:
    portfolio: Decimal
    total_assets: Decimal | None
    assessed_on: date


@quick_init
@dataclass(frozen=True, slots=True)
class Account:
    """A securities margin account and the latest figures its system reported."""

    account_id: str
    client_id: str
    credit_limit: Decimal
    open: bool = True
    marginable_value: Decimal = ZERO
    loan_balance: Decimal = ZERO

    def reported(self, marginable_value: Decimal, loan_balance: Decimal) -> Account:
        """This account with the figures its system reported: ``replace`` spelled out, as
        ``replace`` cost more than the rest of the financing side's commonest event (a test
        holds the two equal, and fails when a field is added here)."""
        return Account(self.account_id, self.client_id, self.credit_limit, self.open, marginable_value, loan_balance)


@quick_init
@dataclass(frozen=True, slots=True)
class Pledge:
    """Kept after it is fully released: MF-05 (a) judges haircut changes of closed pledges."""

    pledge_id: str
    client_id: str
    asset: str
    quantity: Decimal  # pledged - released - transferred out (not to segregated custody)
    haircut: Decimal

    @property
    def is_open(self) -> bool:
        return self.quantity > 0


@quick_init
@dataclass(frozen=True, slots=True)
class Position:
    """An open position in one contract, in the cash-flow form of ``perp_accounting``."""

    quantity: Decimal  # contracts, signed: long > 0; never 0 (a flat position is dropped)
    cost: Decimal  # sum of signed quantity x price over its fills since it was last flat
    entry_cost: Decimal  # the average entry price E is entry_cost / entry_quantity, exact
    entry_quantity: Decimal  # > 0
    # Not persisted, not compared: entry_cost and entry_quantity are known to be coprime
    # integers (a reduced ratio), so the next reduction needs no gcd of the whole ratio
    # (``perp_accounting._reduce_weighted``). A restored position is reduced the long way once.
    entry_reduced: bool = field(default=False, compare=False)

    @property
    def entry(self) -> Fraction:
        """The average entry price, exact (shown, never compared)."""
        return Fraction(self.entry_cost) / Fraction(self.entry_quantity)

    def pnl(self, contract_size: Decimal, mark: Decimal) -> Decimal:
        """Realised plus unrealised PnL of its fills since it was last flat, at ``mark``."""
        return contract_size * (self.quantity * mark - self.cost)


@dataclass(slots=True)
class Client:
    client_id: str
    client_type: str
    investor_class: str
    pi_assessment: PIEvidence | None
    market_maker_id: str | None
    has_knowledge: bool | None = None  # latest DerivativesKnowledgeAssessed
    disclosures: frozenset[str] = frozenset()
    accounts: dict[str, Account] = field(default_factory=dict)
    pledges: dict[str, Pledge] = field(default_factory=dict)
    loans: dict[str, Decimal] = field(default_factory=dict)  # outstanding > 0 only
    open_calls: frozenset[str] = frozenset()
    margin: dict[str, Decimal] = field(default_factory=dict)  # deposited - withdrawn, != 0
    closed_pnl: Decimal = ZERO  # realised by positions that closed flat
    positions: dict[str, Position] = field(default_factory=dict)  # non-zero only
    short: bool = False  # status stored by the last step (5)
    below_maintenance: bool = False  # likewise

    def copy(self) -> Client:
        return replace(
            self,
            accounts=dict(self.accounts),
            pledges=dict(self.pledges),
            loans=dict(self.loans),
            margin=dict(self.margin),
            positions=dict(self.positions),
        )


@dataclass(slots=True)
class Contract:
    contract_id: str
    reference_asset: str
    settlement_asset: str
    contract_size: Decimal
    initial_margin_rate: Decimal
    maintenance_margin_rate: Decimal
    delisted: bool = False
    last_trade_price: Decimal | None = None  # liquidations do not change it

    def copy(self) -> Contract:
        return replace(self)


@quick_init
@dataclass(frozen=True, slots=True)
class Order:
    """A resting order: dropped once filled or cancelled."""

    order_id: str
    client_id: str
    contract_id: str
    side: str
    remaining: Decimal
    limit_price: Decimal | None
    market_maker_account: bool  # placed by a client with a market_maker_id (fixed at onboarding)


@quick_init
@dataclass(frozen=True, slots=True)
class MarketMaker:
    mm_id: str
    affiliate: bool
    controls: tuple[bool, bool, bool, bool]  # in CONTROL_NAMES order

    @property
    def missing_controls(self) -> tuple[str, ...]:
        return tuple(name for name, ok in zip(CONTROL_NAMES, self.controls, strict=True) if not ok)


@quick_init
@dataclass(frozen=True, slots=True)
class Obligation:
    """An open deadline obligation; its deadline is fixed when it opens."""

    rule_id: str
    subject: str
    start_event_id: str
    start_occurred_at: datetime
    deadline: datetime
    parameters: tuple[tuple[str, object], ...] = ()  # JSON values in force when it opened
    evidence: tuple[tuple[str, object], ...] = ()  # JSON values judged when it opened

    @property
    def key(self) -> str:
        return obligation_key(self.rule_id, self.subject)


def obligation_key(rule_id: str, subject: str) -> str:
    return f"{rule_id}|{subject}"


@quick_init
@dataclass(frozen=True, slots=True)
class Amendment:
    """A recorded ``RuleParameterAmended``; ``pending`` until it takes effect."""

    rule_id: str
    parameter: str
    value: ParameterValue  # as the parameter catalogue types it
    effective_from: datetime
    event_id: str
    occurred_at: datetime
    position: int
    pending: bool = True

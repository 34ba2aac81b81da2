"""What validation must know of each entity, as small records with their invariants: the
admission world model (``domain.registry``), one ``*Record`` class per kind; the monitoring
world model's entities are ``domain.book.entities``.

A ``check_*`` method returns why an operation is impossible (``None`` when it is possible)
without changing anything; the other methods apply an operation already checked. Records
travel to and from the store as JSON, quantities and money as exact decimal strings.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

EntityKey = tuple[str, str]  # (kind, natural id)

ZERO = Decimal(0)

# Decimal's default context rounds every sum to 28 digits; accepted values may have up to 64
# and exponents up to 99, so sums get room for every digit, and a rounding would raise.
EXACT = Context(prec=1000, traps=[Inexact, InvalidOperation])


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    KIND: ClassVar[str]

    @property
    def natural_id(self) -> str:
        raise NotImplementedError

    @property
    def key(self) -> EntityKey:
        return (self.KIND, self.natural_id)


class AssetRecord(Record):
    KIND: ClassVar[str] = "asset"
    asset: str
    asset_kind: str

    @property
    def natural_id(self) -> str:
        return self.asset


class MarketMakerRecord(Record):
    KIND: ClassVar[str] = "mm"
    mm_id: str

    @property
    def natural_id(self) -> str:
        return self.mm_id


class ClientRecord(Record):
    """A client's perpetual margin (deposited − withdrawn, per asset) and signed positions."""

    KIND: ClassVar[str] = "client"
    client_id: str
    margin: dict[str, Decimal] = Field(default_factory=dict)
    positions: dict[str, Decimal] = Field(default_factory=dict)

    @property
    def natural_id(self) -> str:
        return self.client_id

    def check_withdrawal(self, asset: str, amount: Decimal) -> str | None:
        balance = self.margin.get(asset, ZERO)
        if amount > balance:
            return f"{amount:f} exceeds the {balance:f} {asset} deposited and not withdrawn"
        return None

    def check_liquidation(self, contract_id: str, quantity: Decimal) -> str | None:
        open_contracts = EXACT.abs(self.positions.get(contract_id, ZERO))
        if quantity > open_contracts:
            return (
                f"{quantity:f} exceeds the client's open position of {open_contracts:f}"
                f" contracts in '{contract_id}'"
            )
        return None

    def deposit(self, asset: str, amount: Decimal) -> None:
        self.margin[asset] = EXACT.add(self.margin.get(asset, ZERO), amount)

    def withdraw(self, asset: str, amount: Decimal) -> None:
        self.margin[asset] = EXACT.subtract(self.margin.get(asset, ZERO), amount)

    def fill(self, contract_id: str, signed_quantity: Decimal) -> None:
        self.positions[contract_id] = EXACT.add(
            self.positions.get(contract_id, ZERO), signed_quantity
        )

    def liquidate(self, contract_id: str, quantity: Decimal) -> None:
        position = self.positions[contract_id]
        toward_zero = EXACT.subtract if position > 0 else EXACT.add
        self.positions[contract_id] = toward_zero(position, quantity)


class AccountRecord(Record):
    KIND: ClassVar[str] = "account"
    account_id: str
    client_id: str
    closed: bool = False

    @property
    def natural_id(self) -> str:
        return self.account_id

    def check_belongs_to(self, client_id: str) -> str | None:
        owner = self.client_id
        if owner == client_id:
            return None
        return f"account '{self.account_id}' belongs to client '{owner}', not '{client_id}'"

    def check_open(self) -> str | None:
        return f"account '{self.account_id}' is already closed" if self.closed else None

    def close(self) -> None:
        self.closed = True


class PledgeRecord(Record):
    """Collateral pledged for VA financing; ``open_quantity`` is what is still pledged."""

    KIND: ClassVar[str] = "pledge"
    pledge_id: str
    client_id: str
    asset: str
    open_quantity: Decimal

    @property
    def natural_id(self) -> str:
        return self.pledge_id

    def check_reduction(self, quantity: Decimal) -> str | None:
        if quantity > self.open_quantity:
            return f"{quantity:f} exceeds the pledge's open quantity {self.open_quantity:f}"
        return None

    def reduce(self, quantity: Decimal) -> None:
        self.open_quantity = EXACT.subtract(self.open_quantity, quantity)


class LoanRecord(Record):
    KIND: ClassVar[str] = "loan"
    loan_id: str
    client_id: str
    outstanding: Decimal

    @property
    def natural_id(self) -> str:
        return self.loan_id

    def check_repayment(self, amount: Decimal) -> str | None:
        if amount > self.outstanding:
            return f"{amount:f} exceeds the loan's outstanding amount {self.outstanding:f}"
        return None

    def repay(self, amount: Decimal) -> None:
        self.outstanding = EXACT.subtract(self.outstanding, amount)


class CallRecord(Record):
    KIND: ClassVar[str] = "call"
    call_id: str
    client_id: str
    resolved: bool = False

    @property
    def natural_id(self) -> str:
        return self.call_id

    def check_unresolved(self) -> str | None:
        return f"margin call '{self.call_id}' is already resolved" if self.resolved else None

    def resolve(self) -> None:
        self.resolved = True


class ContractRecord(Record):
    KIND: ClassVar[str] = "contract"
    contract_id: str
    delisted: bool = False

    @property
    def natural_id(self) -> str:
        return self.contract_id

    def check_listed(self) -> str | None:
        return f"contract '{self.contract_id}' is delisted" if self.delisted else None

    def delist(self) -> None:
        self.delisted = True


class DepositRecord(Record):
    KIND: ClassVar[str] = "deposit"
    deposit_id: str
    client_id: str

    @property
    def natural_id(self) -> str:
        return self.deposit_id


class OrderRecord(Record):
    KIND: ClassVar[str] = "order"
    order_id: str
    client_id: str
    contract_id: str
    side: str
    quantity: Decimal
    filled: Decimal = ZERO
    cancelled: bool = False

    @property
    def natural_id(self) -> str:
        return self.order_id

    @property
    def unfilled(self) -> Decimal:
        """A cancel withdraws what remains, so a cancelled order can take no more fills."""
        return ZERO if self.cancelled else EXACT.subtract(self.quantity, self.filled)

    def check_cancellable(self) -> str | None:
        return f"order '{self.order_id}' is already cancelled" if self.cancelled else None

    def check_fill(self, side: str, contract_id: str, quantity: Decimal) -> list[str]:
        problems = []
        if self.side != side:
            problems.append(f"order '{self.order_id}' is a {self.side} order, not a {side} order")
        if self.contract_id != contract_id:
            problems.append(
                f"order '{self.order_id}' is on contract '{self.contract_id}', not '{contract_id}'"
            )
        if quantity > self.unfilled:
            state = " (cancelled)" if self.cancelled else ""
            problems.append(
                f"{quantity:f} exceeds the unfilled quantity {self.unfilled:f}"
                f" of order '{self.order_id}'{state}"
            )
        return problems

    def cancel(self) -> None:
        self.cancelled = True

    def fill(self, quantity: Decimal) -> None:
        self.filled = EXACT.add(self.filled, quantity)


class TradeRecord(Record):
    KIND: ClassVar[str] = "trade"
    trade_id: str
    settled: bool = False

    @property
    def natural_id(self) -> str:
        return self.trade_id

    def check_unsettled(self) -> str | None:
        return f"trade '{self.trade_id}' is already settled" if self.settled else None

    def settle(self) -> None:
        self.settled = True


RECORD_TYPES: dict[str, type[Record]] = {
    record.KIND: record
    for record in (
        AssetRecord,
        MarketMakerRecord,
        ClientRecord,
        AccountRecord,
        PledgeRecord,
        LoanRecord,
        CallRecord,
        ContractRecord,
        DepositRecord,
        OrderRecord,
        TradeRecord,
    )  # fmt: skip
}

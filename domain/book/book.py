"""The book: every fact the rules read, kept in journaled tables.

Only ``domain.book.apply`` changes it, in ledger order. Rules see it through ``BookView``.
Besides the persisted tables it keeps derived lookups (owners of pledges, loans, calls and
accounts; a heap of client orders resting per contract side; a heap of obligation deadlines).
What an event changed that a client's status reads is not kept here: the book writes it to
the ``Changes`` (``domain.book.changes``) its owner gives it, and the owner takes it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.book.amendments import AmendmentIndex
from domain.book.changes import BOTH_SIDES, Changes
from domain.book.entities import (
    HKD,
    Account,
    Amendment,
    Asset,
    Client,
    Contract,
    MarketMaker,
    Obligation,
    Order,
    Pledge,
)
from domain.book.journal import Journal
from domain.book.money import ONE, ZERO
from domain.book.table import Table
from domain.parameters import ParameterType

CONTRACT_MARK_PREFIX = "#"  # price key of a contract marked at its last trade price
DEADLINE_SLACK_ENTRIES = 64
RESTING_SLACK_ENTRIES = 64
Rank = tuple[bool, Decimal, str]  # a resting order's place: see ``_rank``
StatusRegime = tuple[tuple[str, ...], Decimal]  # (eligible assets, min haircut) of step (5)


class Book:
    def __init__(
        self, parameter_types: Mapping[str, Mapping[str, ParameterType]], changes: Changes | None = None
    ) -> None:
        self.parameter_types = parameter_types  # how amended values are read
        # Where edits that a client's status reads are reported: its owner's (the monitor's
        # status tracker), which takes them after each event; written here, never read.
        self.changes = Changes() if changes is None else changes
        j = self.journal = Journal()
        self.assets: Table[Asset] = Table(j, "asset", copy=Asset.copy)
        self.clients: Table[Client] = Table(j, "client", copy=Client.copy)
        self.contracts: Table[Contract] = Table(j, "contract", copy=Contract.copy)
        self.orders: Table[Order] = Table(j, "order", on_change=self._index_order)
        self.market_makers: Table[MarketMaker] = Table(j, "market_maker")
        self.obligations: Table[Obligation] = Table(j, "obligation", on_change=self._schedule)
        self.parameters = AmendmentIndex()
        self.amendments: Table[Amendment] = Table(j, "amendment", on_change=self.parameters.on_change)
        self.insurance_fund: Table[Decimal] = Table(j, "insurance_fund")
        self.status_regime: Table[StatusRegime] = Table(j, "status_regime")
        self.tables: tuple[Table[Any], ...] = (
            self.assets, self.clients, self.contracts, self.orders, self.market_makers,
            self.obligations, self.amendments, self.insurance_fund, self.status_regime,
        )
        self.pledge_owner: Table[str] = Table(j)
        self.loan_owner: Table[str] = Table(j)
        self.call_owner: Table[str] = Table(j)
        self.account_owner: Table[str] = Table(j)
        # Client orders resting per (contract, side), as heaps of ``_rank`` entries. An order
        # is pushed when placed and never taken out when it fills or is cancelled: its entry
        # goes stale and is dropped when it reaches the top of a look-up (a sorted index paid
        # an insertion and a removal, in Python, for every order, while only a market maker's
        # trade looks). Compacted when stale entries outnumber the orders (``_index_order``).
        self._resting: dict[tuple[str, str], list[Rank]] = {}
        self._resting_entries = 0  # in all the heaps, stale ones included
        self.deadlines: list[tuple[datetime, str]] = []
        # The rules' commonest reads (BookView), bound to the tables' own ``get``: the row by
        # key, or None, with no Python call in between (several per event).
        self.asset: Callable[[str], Asset | None] = self.assets.get
        self.client: Callable[[str], Client | None] = self.clients.get
        self.contract: Callable[[str], Contract | None] = self.contracts.get
        self.order: Callable[[str], Order | None] = self.orders.get
        self.market_maker: Callable[[str], MarketMaker | None] = self.market_makers.get
        self.obligation: Callable[[str], Obligation | None] = self.obligations.get

    # -- reading (BookView) ------------------------------------------------------------
    def is_priced(self, symbol: str) -> bool:
        asset = self.assets.get(symbol)
        return symbol == HKD or (asset is not None and asset.price is not None)

    def price(self, symbol: str) -> Decimal:
        """HKD is 1; an asset never priced is worth 0 (conservative)."""
        if symbol == HKD:
            return ONE
        asset = self.assets.get(symbol)
        return ZERO if asset is None or asset.price is None else asset.price

    def account(self, account_id: str) -> Account | None:
        owner = self.account_owner.get(account_id)
        return None if owner is None else self.clients[owner].accounts.get(account_id)

    def pledge(self, pledge_id: str) -> Pledge | None:
        owner = self.pledge_owner.get(pledge_id)
        return None if owner is None else self.clients[owner].pledges.get(pledge_id)

    def all_pledges(self) -> Iterator[Pledge]:
        """Every pledge, open or not (a full scan: for rare events only)."""
        for client in self.clients.values():
            yield from client.pledges.values()

    def mark(self, contract: Contract) -> Decimal | None:
        """The reference asset's price; if never priced, the last trade price (or None)."""
        symbol = contract.reference_asset
        if symbol == HKD:
            return ONE
        asset = self.assets.get(symbol)
        if asset is not None and asset.price is not None:
            return asset.price
        return contract.last_trade_price

    def mark_key(self, contract: Contract) -> str:
        if self.is_priced(contract.reference_asset):
            return contract.reference_asset
        return CONTRACT_MARK_PREFIX + contract.contract_id

    def mark_key_and_price(self, contract: Contract) -> tuple[str, Decimal]:
        """``mark_key`` and its ``key_price``, with one look-up of the reference asset (the
        status re-evaluation asks this of every position)."""
        symbol = contract.reference_asset
        if symbol == HKD:
            return symbol, ONE
        asset = self.assets.get(symbol)
        if asset is not None and asset.price is not None:
            return symbol, asset.price
        last = contract.last_trade_price
        return CONTRACT_MARK_PREFIX + contract.contract_id, ZERO if last is None else last

    def key_price(self, key: str) -> Decimal:
        if key.startswith(CONTRACT_MARK_PREFIX):
            last = self.contracts[key[len(CONTRACT_MARK_PREFIX):]].last_trade_price
            return ZERO if last is None else last
        return self.price(key)

    def affiliate_of(self, client: Client) -> MarketMaker | None:
        """The affiliate market maker whose account this is, if it is one."""
        mm = None if client.market_maker_id is None else self.market_makers.get(client.market_maker_id)
        return mm if mm is not None and mm.affiliate else None

    def fund_balance(self) -> Decimal:
        return self.insurance_fund.get("balance") or ZERO

    def best_resting_client_order(self, contract_id: str, side: str, excluding: Container[str]) -> Order | None:
        """The best resting order on the contract's side of a client that is not a
        market-maker account, other than the orders ``excluding`` names: orders without a
        limit first, then the best limit price, then the lowest order id."""
        heap = self._resting.get((contract_id, side))
        if not heap:
            return None
        set_aside: list[Rank] = []  # the excluded orders' entries, pushed back after
        found = None
        while heap:
            rank = heap[0]
            order = self.orders.get(rank[2])
            if (order is None or order.market_maker_account or order.contract_id != contract_id
                    or order.side != side or _rank(order) != rank):
                heapq.heappop(heap)  # filled, cancelled, or its id now names another order
                self._resting_entries -= 1
            elif order.order_id in excluding:
                set_aside.append(heapq.heappop(heap))
            else:
                found = order
                break
        for rank in set_aside:
            heapq.heappush(heap, rank)
        return found

    # -- writing (domain.book.apply) -------------------------------------------------------
    def edit_client(self, client_id: str, sides: int = BOTH_SIDES) -> Client:
        """The client's row, to change in place; ``sides``: which of its sides the change
        can reach (see ``changes.FINANCING``), so that step (5) re-evaluates only the
        statuses that read them."""
        touched = self.changes.touched
        touched[client_id] = touched.get(client_id, 0) | sides
        return self.clients.edit(client_id)

    def edit_asset(self, symbol: str) -> Asset:
        if symbol not in self.assets:
            self.assets.put(symbol, Asset(symbol))
        return self.assets.edit(symbol)

    def pop_overdue(self, now: datetime) -> list[Obligation]:
        """Take the open obligations whose deadline is strictly before ``now``, earliest
        first (they stay open until the caller drops them)."""
        due: dict[str, Obligation] = {}
        while self.deadlines and self.deadlines[0][0] < now:
            deadline, key = heapq.heappop(self.deadlines)
            obligation = self.obligations.get(key)
            if obligation is not None and obligation.deadline == deadline:
                due.setdefault(key, obligation)
        return list(due.values())

    # -- derived lookups ------------------------------------------------------------------
    def _index_order(self, order_id: str, old: Order | None, new: Order | None) -> None:
        """Push a client order's entry when it comes to rest (an order removed, or undone,
        leaves a stale entry: see ``best_resting_client_order``). A journal's undo restores
        an order through here too, so a restored order always has a live entry (perhaps two,
        which the look-up tells apart from nothing: both are the same order)."""
        if new is None or new.market_maker_account:
            return
        if old is not None and not old.market_maker_account and (
            old.contract_id, old.side, old.limit_price
        ) == (new.contract_id, new.side, new.limit_price):
            return  # a partial fill: the same entry (``_rank``) is still there
        heapq.heappush(self._resting.setdefault((new.contract_id, new.side), []), _rank(new))
        self._resting_entries += 1
        if self._resting_entries > 2 * len(self.orders) + RESTING_SLACK_ENTRIES:
            self._compact_resting()

    def _compact_resting(self) -> None:
        """The heaps rebuilt from the orders resting now: stale entries gone."""
        heaps: dict[tuple[str, str], list[Rank]] = {}
        for order in self.orders.values():
            if not order.market_maker_account:
                heaps.setdefault((order.contract_id, order.side), []).append(_rank(order))
        for heap in heaps.values():
            heapq.heapify(heap)
        self._resting = heaps
        self._resting_entries = sum(map(len, heaps.values()))

    def _schedule(self, key: str, old: Obligation | None, new: Obligation | None) -> None:
        if new is not None:
            heapq.heappush(self.deadlines, (new.deadline, key))
        if len(self.deadlines) > 2 * len(self.obligations) + DEADLINE_SLACK_ENTRIES:
            # Entries of met or cancelled obligations are skipped lazily; compact them away
            # so the heap grows with open obligations only.
            self.deadlines = [(o.deadline, k) for k, o in self.obligations.items()]
            heapq.heapify(self.deadlines)


def _rank(order: Order) -> Rank:
    if order.limit_price is None:
        return (False, ZERO, order.order_id)
    price = -order.limit_price if order.side == "buy" else order.limit_price
    return (True, price, order.order_id)

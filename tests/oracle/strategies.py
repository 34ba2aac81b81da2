"""Random market-making streams: JSON Lines as upstream would send them.

The pools are small on purpose (two contracts, a handful of clients, a few prices) so that
resting orders on the trade's side and contract, self-trades and partial fills are common.
A rough model of the book keeps most lines valid; the few that are not (and the duplicates
and conflicts mixed in) are sorted out by the ledger's own registry in the test, exactly as
ingest would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
CONTRACTS = ("C1", "C2")
MM_IDS = ("M1", "M2", "M3")
CLIENT_IDS = ("A", "B", "C", "D", "E", "F")
DATASETS = ("client_orders", "client_positions", "client_identities", "market_data")
# Fills of 0.1 and 0.2 must exhaust 0.3 exactly, a fill of 1 must leave 1E-29 of the last
# quantity resting, and 100.00 is the price 100 (another exponent; events.md refuses "1E+2").
QUANTITIES = ("1", "2", "3", "0.5", "1.0", "0.1", "0.2", "0.3", "1.00000000000000000000000000001")
PRICES = ("99", "100", "100.0", "100.00", "100.5", "101", "100.00000000000000000000000000001")
STEPS_MAX = 60
STEPS_MIN = 20


@dataclass
class BookOrder:
    client_id: str
    contract_id: str
    side: str
    quantity: Decimal
    filled: Decimal = Decimal(0)
    cancelled: bool = False

    @property
    def unfilled(self) -> Decimal:
        return Decimal(0) if self.cancelled else self.quantity - self.filled


@dataclass
class Model:
    draw: Any
    lines: list[str] = field(default_factory=list)
    market_makers: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    orders: dict[str, BookOrder] = field(default_factory=dict)
    trades: list[str] = field(default_factory=list)

    def send(self, type_: str, **data: Any) -> None:
        when = START + timedelta(seconds=self.draw(st.integers(0, 7200)))
        # The rules read ledger order, not occurred_at: times run backwards now and then,
        # and offsets vary, and neither may change a finding.
        offset = self.draw(st.sampled_from(("+08:00", "+00:00")))
        stamp = when.astimezone(datetime.fromisoformat(f"2026-01-01T00:00:00{offset}").tzinfo)
        self.lines.append(json.dumps({
            "event_id": f"e-{len(self.lines) + 1}", "type": type_,
            "occurred_at": stamp.isoformat(), "source": "oracle", "data": data,
        }))

    def number(self, choices: tuple[str, ...]) -> str | int:
        text = self.draw(st.sampled_from(choices))
        # JSON integers are decimals too (events.md, "Value conventions").
        if text.isdigit() and self.draw(st.booleans()):
            return int(text)
        return str(text)

    def fresh(self, pool: tuple[str, ...], used: list[str]) -> str:
        """An id not used yet, but now and then one already taken (a rejection)."""
        unused = [natural_id for natural_id in pool if natural_id not in used]
        if unused and self.draw(st.integers(0, 9)):
            return str(self.draw(st.sampled_from(unused)))
        return str(self.draw(st.sampled_from(pool)))

    def controls(self) -> dict[str, bool]:
        names = ("information_barrier", "functional_independence", "conflict_monitoring",
                 "client_priority")
        if self.draw(st.booleans()):
            return dict.fromkeys(names, True)
        return {name: self.draw(st.booleans()) for name in names}


def _register_mm(m: Model) -> None:
    mm_id = m.fresh(MM_IDS, m.market_makers)
    m.send("MarketMakerRegistered", mm_id=mm_id, legal_entity=f"{mm_id} Ltd",
           affiliate=m.draw(st.booleans()), controls=m.controls())
    if mm_id not in m.market_makers:
        m.market_makers.append(mm_id)


def _change_controls(m: Model) -> None:
    if m.market_makers:
        m.send("MarketMakerControlsChanged", mm_id=m.draw(st.sampled_from(m.market_makers)),
               controls=m.controls())


def _onboard(m: Model) -> None:
    client_id = m.fresh(CLIENT_IDS, m.clients)
    mm_id = m.draw(st.sampled_from([None, *m.market_makers]))
    m.send("ClientOnboarded", client_id=client_id, client_type="institutional",
           investor_class="professional", pi_assessment=None, market_maker_id=mm_id)
    if client_id not in m.clients:
        m.clients.append(client_id)


def _reclassify(m: Model) -> None:
    if m.clients:
        m.send("ClientReclassified", client_id=m.draw(st.sampled_from(m.clients)),
               investor_class=m.draw(st.sampled_from(("retail", "professional"))),
               pi_assessment=None)


def _place(m: Model) -> None:
    if not m.clients:
        return
    order_id = f"O{len(m.orders) + 1}"
    client_id = m.draw(st.sampled_from(m.clients))
    contract_id = m.draw(st.sampled_from(CONTRACTS))
    side = m.draw(st.sampled_from(("buy", "sell")))
    quantity = m.number(QUANTITIES)
    limit = m.draw(st.one_of(st.none(), st.sampled_from(PRICES)))
    m.send("PerpOrderPlaced", order_id=order_id, client_id=client_id, contract_id=contract_id,
           side=side, quantity=quantity, limit_price=limit, market_maker=m.draw(st.booleans()))
    m.orders[order_id] = BookOrder(client_id, contract_id, side, Decimal(quantity))


def _cancel(m: Model) -> None:
    if m.orders:
        order_id = m.draw(st.sampled_from(sorted(m.orders)))
        m.send("PerpOrderCancelled", order_id=order_id)
        m.orders[order_id].cancelled = True


def _trade(m: Model) -> None:
    pairs = [(buy_id, sell_id)
             for buy_id, buy in sorted(m.orders.items()) if buy.side == "buy" and buy.unfilled
             for sell_id, sell in sorted(m.orders.items()) if sell.side == "sell" and sell.unfilled
             and sell.contract_id == buy.contract_id]
    own = [(b, s) for b, s in pairs if m.orders[b].client_id == m.orders[s].client_id]
    if own and m.draw(st.booleans()):  # self-trades often
        pairs = own
    if not pairs:
        return
    buy_id, sell_id = m.draw(st.sampled_from(pairs))
    buy = m.orders[buy_id]
    most = min(buy.unfilled, m.orders[sell_id].unfilled)
    quantity = m.draw(st.sampled_from(sorted({most, *(Decimal(q) for q in QUANTITIES
                                                      if Decimal(q) < most)})))
    trade_id = f"T{len(m.trades) + 1}"
    m.send("PerpTradeExecuted", trade_id=trade_id, contract_id=buy.contract_id,
           buy_order_id=buy_id, sell_order_id=sell_id, quantity=str(quantity),
           price=m.number(PRICES))
    buy.filled += quantity
    m.orders[sell_id].filled += quantity
    m.trades.append(trade_id)


def _access(m: Model) -> None:
    m.send("DataAccessed", actor_id="analyst-1",
           actor_entity=m.draw(st.sampled_from(["platform", *m.market_makers])),
           dataset=m.draw(st.sampled_from(DATASETS)), record_count=m.draw(st.integers(0, 5)))


def _irrelevant(m: Model) -> None:
    kind = m.draw(st.sampled_from(("price", "funding", "settle", "fund", "delist")))
    if kind == "price":
        m.send("PriceObserved", asset="BTC", price=m.number(PRICES), price_source="feed")
    elif kind == "funding":
        m.send("FundingSettled", contract_id=m.draw(st.sampled_from(CONTRACTS)),
               funding_rate="0.0001")
    elif kind == "settle" and m.trades:
        m.send("PerpTradeSettled", trade_id=m.draw(st.sampled_from(m.trades)),
               settled_by="platform")
    elif kind == "fund":
        m.send("InsuranceFundChanged", delta="1000", reason="top-up")
    else:
        # Later orders on C2 are rejected; its resting orders still rest.
        m.send("PerpContractDelisted", contract_id="C2")


def _repeat(m: Model) -> None:
    """A duplicate (same line again) or a conflict (same event_id, other content)."""
    if not m.lines:
        return
    line = m.draw(st.sampled_from(m.lines))
    if m.draw(st.booleans()):
        m.lines.append(line)
    else:
        m.lines.append(line.replace('"source": "oracle"', '"source": "conflict"'))


def _unknown_reference(m: Model) -> None:
    type_, data = m.draw(st.sampled_from((
        ("PerpOrderCancelled", {"order_id": "O99"}),
        ("DataAccessed", {"actor_id": "x", "actor_entity": "M9", "dataset": "client_orders",
                          "record_count": 1}),
    )))
    m.send(type_, **data)


STEPS = {
    _register_mm: 1, _change_controls: 3, _onboard: 2, _reclassify: 1, _place: 10,
    _cancel: 2, _trade: 10, _access: 3, _irrelevant: 2, _repeat: 1, _unknown_reference: 1,
}
WEIGHTED_STEPS = [step for step, weight in STEPS.items() for _ in range(weight)]


@st.composite
def mm_streams(draw: Any) -> list[str]:
    """A market-making stream: reference data, then ``STEPS_MIN`` to ``STEPS_MAX`` random steps."""
    m = Model(draw)
    m.send("AssetListed", asset="BTC", asset_kind="virtual_asset", retail_spot_approved=True,
           iosco_compliant=False, hkma_licensed=False, issuer=None)
    m.send("AssetListed", asset="HKD", asset_kind="fiat", retail_spot_approved=False,
           iosco_compliant=False, hkma_licensed=False, issuer=None)
    for contract_id in CONTRACTS:
        m.send("PerpContractListed", contract_id=contract_id, reference_asset="BTC",
               settlement_asset="HKD", contract_size="0.01", initial_margin_rate="0.1",
               maintenance_margin_rate="0.05")
    for _ in range(draw(st.integers(1, 3))):
        _register_mm(m)
    for _ in range(draw(st.integers(2, 5))):
        _onboard(m)
    for step in draw(st.lists(st.sampled_from(WEIGHTED_STEPS), min_size=STEPS_MIN,
                                 max_size=STEPS_MAX)):
        step(m)
    return m.lines

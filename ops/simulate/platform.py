"""The platform's perpetual contracts: client order flow and market makers quoting around
the mark, trades settled by the platform within minutes, funding every 8 hours, and
liquidations within minutes of a client falling below its maintenance margin, with the
insurance fund absorbing what a liquidation leaves unpaid."""

from __future__ import annotations

from decimal import Decimal

from ops.simulate import accounts as acc
from ops.simulate.accounts import ContractSpec, SimulatedClient, fill
from ops.simulate.exchange import OrderBook, SimulatedOrder
from ops.simulate.market import BPS as BPS_SCALE
from ops.simulate.timeline import HOUR_MS, MINUTE_MS, SECOND_MS
from ops.simulate.world import World, cents_up, text

SOURCE = "matching-engine"
CONTRACTS = (
    ContractSpec("BTC-PERP", "BTC", Decimal("0.01"), Decimal("0.1"), Decimal("0.05")),
    ContractSpec("ETH-PERP", "ETH", Decimal("0.1"), Decimal("0.1"), Decimal("0.05")),
    ContractSpec("PAXG-PERP", "PAXG", Decimal("0.1"), Decimal("0.1"), Decimal("0.05")),
    ContractSpec("VAIDX-PERP", "VAIDX", Decimal(1), Decimal("0.125"), Decimal("0.0625")),
)
CONTRACT_WEIGHTS = (45, 30, 15, 10)
MARGIN_ASSETS = ("HKD", "HKD", "HKD", "HKDX", "HKTD")
QUOTE_EVERY_MS = 15 * MINUTE_MS
QUOTE_CONTRACTS = 1_000
ORDER_CONTRACTS_MAX = 20_000
LIQUIDATION_FEE = Decimal("0.005")


def list_contract(w: World, spec: ContractSpec) -> None:
    w.emit("PerpContractListed", {
        "contract_id": spec.contract_id, "reference_asset": spec.reference, "settlement_asset": "HKD",
        "contract_size": text(spec.size), "initial_margin_rate": text(spec.initial_rate),
        "maintenance_margin_rate": text(spec.maintenance_rate),
    }, "listing")
    w.contracts[spec.contract_id] = spec
    w.books[spec.contract_id] = OrderBook()


def deposit(w: World, c: SimulatedClient, asset: str, amount: Decimal, funding_source: str = "client_funds") -> None:
    w.emit("PerpMarginDeposited", {"deposit_id": w.new_id("D"), "client_id": c.client_id, "asset": asset,
                                   "amount": text(amount), "funding_source": funding_source}, "treasury")
    c.margin[asset] = c.margin.get(asset, Decimal(0)) + amount
    w.refresh_perp(c)


def start_trading(w: World, c: SimulatedClient) -> None:
    c.contract = w.rng.choices([s.contract_id for s in CONTRACTS], CONTRACT_WEIGHTS)[0]
    deposit(w, c, w.rng.choice(MARGIN_ASSETS), Decimal(w.rng.randint(300, 8_000)) * 1000)
    w.poisson(5.0, lambda: activity(w, c))


def activity(w: World, c: SimulatedClient) -> None:
    if not c.active or c.below or c.liquidation_pending:
        return
    roll = w.rng.random()
    if roll < 0.04:
        deposit(w, c, w.rng.choice(MARGIN_ASSETS), Decimal(w.rng.randint(50, 2_000)) * 1000)
    elif roll < 0.07:
        withdraw_excess(w, c)
    else:
        trade(w, c)


def withdraw_excess(w: World, c: SimulatedClient) -> None:
    available = acc.equity(c, w.prices, w.contracts)
    needed = 2 * acc.requirement(acc.held(c), w.prices, w.contracts, maintenance=False)
    for asset in sorted(c.margin):
        spare = min(c.margin[asset], (available - needed) / 2)
        amount = Decimal(int(spare) // 1000 * 1000)
        if amount >= 10_000 and w.prices[asset] == 1:
            w.emit("PerpMarginWithdrawn", {"client_id": c.client_id, "asset": asset, "amount": text(amount)}, "treasury")
            c.margin[asset] -= amount
            if c.margin[asset] == 0:
                del c.margin[asset]
            w.refresh_perp(c)
            return


def may_place(w: World, c: SimulatedClient, contract_id: str, signed: Decimal) -> bool:
    """PERP-04: equity covers the initial margin of the positions with the order filled."""
    quantities = acc.held(c)
    before = quantities.get(contract_id, Decimal(0))
    after = before + signed
    if abs(after) <= abs(before):
        return True
    quantities[contract_id] = after
    needed = acc.requirement(quantities, w.prices, w.contracts, maintenance=False)
    return acc.equity(c, w.prices, w.contracts) >= needed


def trade(w: World, c: SimulatedClient) -> None:
    assert c.contract is not None
    spec = w.contracts[c.contract]
    cancel_resting(w, c)
    position = c.positions.get(spec.contract_id)
    q = position.quantity if position is not None else Decimal(0)
    available = acc.equity(c, w.prices, w.contracts)
    per_contract = spec.size * w.prices[spec.reference] * spec.initial_rate
    most = int(available * c.leverage / per_contract) if available > 0 else 0
    if q != 0 and w.chance(0.35):
        side = "sell" if q > 0 else "buy"
        quantity = w.rng.randint(1, int(abs(q)))
    else:
        side = w.rng.choice(("buy", "sell"))
        same_way = q == 0 or (q > 0) == (side == "buy")
        room = most - int(abs(q)) if same_way else int(abs(q)) + most
        if room < 1:
            return
        low = room // 2 if c.leverage >= Decimal("0.7") else 1
        quantity = w.rng.randint(max(1, min(low, ORDER_CONTRACTS_MAX)), min(room, ORDER_CONTRACTS_MAX))
    signed = Decimal(quantity if side == "buy" else -quantity)
    if not may_place(w, c, spec.contract_id, signed):
        return
    mark = w.market.cents[spec.reference]
    roll = w.rng.random()
    if roll < 0.1:
        limit: int | None = None
    elif roll < 0.7:
        limit = _away(mark, side, -30)  # crosses the quotes
    else:
        limit = _away(mark, side, w.rng.randint(10, 120))  # rests behind them
    place(w, c, spec.contract_id, side, Decimal(quantity), limit)


def _away(mark_cents: int, side: str, bps: int) -> int:
    """A limit ``bps`` away from the mark on the passive side (negative: aggressive)."""
    sign = -1 if side == "buy" else 1
    return max(1, mark_cents * (BPS_SCALE + sign * bps) // BPS_SCALE)


def place(
    w: World, c: SimulatedClient, contract_id: str, side: str, quantity: Decimal, limit_cents: int | None,
    *, flagged: bool | None = None, match: bool = True,
) -> SimulatedOrder:
    order = SimulatedOrder(w.new_id("O"), c.client_id, contract_id, side, quantity, limit_cents,
                  c.mm_id is not None, w.events)
    w.emit("PerpOrderPlaced", {
        "order_id": order.order_id, "client_id": c.client_id, "contract_id": contract_id, "side": side,
        "quantity": text(quantity),
        "limit_price": None if limit_cents is None else text(Decimal(limit_cents).scaleb(-2)),
        "market_maker": order.market_maker if flagged is None else flagged,
    }, SOURCE)
    if not match:
        return order
    book = w.books[contract_id]
    for f in book.match(order):
        execute(w, order, f.maker, f.quantity, f.price_cents)
    if order.remaining > 0:
        if limit_cents is None:
            cancel(w, order)
        else:
            book.rest(order)
            if not order.market_maker:
                c.resting = order.order_id
                lifetime = w.between_ms(HOUR_MS, 8 * HOUR_MS)
                w.tl.after(lifetime, lambda: _expire(w, c, order.order_id))
    return order


def cancel(w: World, order: SimulatedOrder) -> None:
    w.emit("PerpOrderCancelled", {"order_id": order.order_id}, SOURCE)
    w.books[order.contract_id].remove(order.order_id)


def cancel_resting(w: World, c: SimulatedClient) -> None:
    if c.resting is not None:
        order = w.books[c.contract or ""].orders.get(c.resting)
        if order is not None:
            cancel(w, order)
        c.resting = None


def _expire(w: World, c: SimulatedClient, order_id: str) -> None:
    if c.resting == order_id:
        cancel_resting(w, c)


def execute(w: World, taker: SimulatedOrder, maker: SimulatedOrder, quantity: Decimal, price_cents: int) -> str:
    buy, sell = (taker, maker) if taker.side == "buy" else (maker, taker)
    trade_id = w.new_id("T")
    price = Decimal(price_cents).scaleb(-2)
    w.emit("PerpTradeExecuted", {
        "trade_id": trade_id, "contract_id": taker.contract_id, "buy_order_id": buy.order_id,
        "sell_order_id": sell.order_id, "quantity": text(quantity), "price": text(price),
    }, SOURCE)
    for order, signed in ((buy, quantity), (sell, -quantity)):
        owner = w.clients[order.client_id]
        if order is maker and maker.remaining == 0 and owner.resting == maker.order_id:
            owner.resting = None
        apply_fill(w, owner, taker.contract_id, signed, price)
    breach = w.settlement_breaches.pop(0) if w.settlement_breaches else None
    settle = "counterparty" if breach == "counterparty" else "platform"
    if breach == "late":
        delay = w.between_ms(24 * HOUR_MS + 30 * MINUTE_MS, 27 * HOUR_MS)
    else:
        delay = w.between_ms(5 * SECOND_MS, 15 * MINUTE_MS)
    w.tl.after(delay, lambda: w.emit("PerpTradeSettled", {"trade_id": trade_id, "settled_by": settle}, "clearing"))
    return trade_id


def apply_fill(w: World, c: SimulatedClient, contract_id: str, signed: Decimal, price: Decimal) -> None:
    position, realised = fill(c.positions.get(contract_id), signed, price, w.contracts[contract_id].size)
    if position is None:
        c.positions.pop(contract_id, None)
    else:
        c.positions[contract_id] = position
    c.realised += realised
    w.refresh_perp(c)


# --- market makers ---------------------------------------------------------------------------
def quote(w: World) -> None:
    """Each market maker replaces its bid and ask around the mark on every listed contract."""
    for mm in w.mm_accounts:
        spread_bps = 5 if w.market_makers[mm.mm_id or ""] else 8
        for contract_id in sorted(w.contracts):
            if contract_id in w.delisted:
                continue
            book = w.books[contract_id]
            for order in [o for o in book.orders.values() if o.client_id == mm.client_id]:
                cancel(w, order)
            mark = w.market.cents[w.contracts[contract_id].reference]
            for side in ("buy", "sell"):
                signed = Decimal(QUOTE_CONTRACTS if side == "buy" else -QUOTE_CONTRACTS)
                if may_place(w, mm, contract_id, signed):
                    place(w, mm, contract_id, side, Decimal(QUOTE_CONTRACTS), _away(mark, side, spread_bps))


# --- liquidations ----------------------------------------------------------------------------
def became_below(w: World, c: SimulatedClient) -> None:
    if c.liquidation_pending:
        return
    c.liquidation_pending = True
    if c.late_liquidation:
        c.late_liquidation = False
        delay = w.between_ms(20 * MINUTE_MS, 40 * MINUTE_MS)
    else:
        delay = w.between_ms(MINUTE_MS, 10 * MINUTE_MS)
    w.tl.after(delay, lambda: liquidate(w, c))


def liquidate(w: World, c: SimulatedClient) -> None:
    c.liquidation_pending = False
    if not acc.is_below_maintenance(c, w.prices, w.contracts):
        return
    cancel_resting(w, c)
    for contract_id in sorted(c.positions):
        position = c.positions[contract_id]
        spec = w.contracts[contract_id]
        price = w.prices[spec.reference]
        w.emit("PositionLiquidated", {"client_id": c.client_id, "contract_id": contract_id,
                                      "quantity": text(abs(position.quantity)), "price": text(price)}, "risk-engine")
        notional = abs(position.quantity) * spec.size * price
        apply_fill(w, c, contract_id, -position.quantity, price)
        fund_change(w, cents_up(notional * LIQUIDATION_FEE), f"liquidation fee {c.client_id} {contract_id}")
        left = acc.equity(c, w.prices, w.contracts)
        if left < 0:
            loss = cents_up(-left)
            fund_change(w, -loss, f"liquidation shortfall {c.client_id} {contract_id}")
            w.emit("LossAllocated", {"contract_id": contract_id, "amount": text(loss),
                                     "method": "insurance_fund"}, "risk-engine")
            c.active = False  # its account is closed once the loss is written off


def fund_change(w: World, delta: Decimal, reason: str) -> None:
    w.emit("InsuranceFundChanged", {"delta": text(delta), "reason": reason}, "treasury")
    w.fund += delta


# --- the platform's clock --------------------------------------------------------------------
def funding(w: World) -> None:
    for contract_id in sorted(w.contracts):
        if contract_id in w.delisted or w.funding_skip_until_ms.get(contract_id, -1) > w.tl.now_ms:
            continue
        rate = Decimal(w.rng.randint(-30, 60)).scaleb(-6)
        w.emit("FundingSettled", {"contract_id": contract_id, "funding_rate": text(rate)}, "funding-engine")


def data_access(w: World) -> None:
    if w.chance(0.8):
        dataset = w.rng.choice(("client_orders", "client_positions", "client_identities", "market_data"))
        actor, entity = f"ops.analyst.{w.rng.randint(1, 12):02d}", "platform"
    else:
        entity = w.rng.choice(sorted(w.market_makers))
        actor, dataset = f"{entity.lower()}.trader.{w.rng.randint(1, 6)}", "market_data"
    w.emit("DataAccessed", {"actor_id": actor, "actor_entity": entity, "dataset": dataset,
                            "record_count": w.rng.randint(1, 5_000)}, "access-log")

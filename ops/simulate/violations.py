"""Injected breaches: one injector per rule, each creating one breach of that rule and, as
far as the rulebook allows, of no other.

With a rate above zero every rule is injected once on the first day (so a run of two days
or more shows every rule firing), and then, every simulated hour, each rule again with
probability ``rate``. An injector that finds nothing to act on yet tries again later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial

from ops.simulate import accounts as acc
from ops.simulate import broker, haircuts, platform
from ops.simulate.accounts import SimulatedClient
from ops.simulate.onboarding import ALL_CONTROLS, evidence, onboard
from ops.simulate.timeline import DAY_MS, HOUR_MS, MINUTE_MS
from ops.simulate.world import World, round_down, text

Injector = Callable[[World], bool]
RETRIES_MAX = 16
RETRY_MS = 30 * MINUTE_MS
FIRST_INJECTION_MS = 6 * HOUR_MS
INJECTION_SPACING_MS = 20 * MINUTE_MS
SMALL = Decimal(20_000)
THOUSAND = Decimal(1_000)
BELOW_MIN_HAIRCUT = Decimal("0.5")


def _pick(w: World, candidates: list[SimulatedClient]) -> SimulatedClient | None:
    return w.rng.choice(candidates) if candidates else None


def _borrower(w: World, ok: Callable[[SimulatedClient], bool] = lambda c: True) -> SimulatedClient | None:
    return _pick(w, [c for c in w.clients.values() if c.borrows and c.account_open and not c.short
                     and c.open_call is None and not c.call_pending and ok(c)])


def _trader(w: World, ok: Callable[[SimulatedClient], bool] = lambda c: True) -> SimulatedClient | None:
    return _pick(w, [c for c in w.clients.values() if c.trades_perps and c.active and c.mm_id is None
                     and not c.below and not c.liquidation_pending and ok(c)])


def _mm(w: World, affiliate: bool) -> SimulatedClient:
    return next(m for m in w.mm_accounts if w.market_makers[m.mm_id or ""] is affiliate)


def _probe(w: World, c: SimulatedClient, side: str = "buy", quantity: int = 1, flagged: bool | None = None) -> bool:
    """An order far from the market, cancelled at once: judged, never filled."""
    contract = c.contract or platform.CONTRACTS[0].contract_id
    signed = Decimal(quantity if side == "buy" else -quantity)
    if not platform.may_place(w, c, contract, signed):
        return False
    platform.cancel_resting(w, c)
    mark = w.market.cents[w.contracts[contract].reference]
    limit = mark * 8 // 10 if side == "buy" else mark * 12 // 10
    order = platform.place(w, c, contract, side, Decimal(quantity), limit, flagged=flagged, match=False)
    w.emit("PerpOrderCancelled", {"order_id": order.order_id}, platform.SOURCE)
    return True


def _covered(w: World, c: SimulatedClient, factor: str) -> bool:
    price = w.prices[c.collateral]
    return acc.lending_value(c, price, w.min_haircut) >= Decimal(factor) * (acc.debt(c) + 2 * SMALL)


# --- professional investors ------------------------------------------------------------------
def pi_01(w: World) -> bool:
    c = _pick(w, [c for c in w.clients.values() if c.investor_class == "retail"])
    if c is None:
        return False
    platform.deposit(w, c, "HKD", SMALL)
    return True


def pi_02(w: World) -> bool:
    c = _trader(w, lambda c: c.assessed_on is not None)
    if c is None:
        return False
    fresh = c.assessed_on
    c.assessed_on = w.tl.day() - timedelta(days=400)
    w.emit("ClientReclassified", {"client_id": c.client_id, "investor_class": "professional",
                                  "pi_assessment": evidence(c)}, "kyc")
    platform.deposit(w, c, "HKD", SMALL)
    c.assessed_on = max(fresh or w.tl.day(), w.tl.day() - timedelta(days=30))
    w.emit("ClientReclassified", {"client_id": c.client_id, "investor_class": "professional",
                                  "pi_assessment": evidence(c)}, "kyc")
    return True


def pi_03(w: World) -> bool:
    c = _trader(w, lambda c: platform.may_place(w, c, c.contract or "", Decimal(1)))
    if c is None:
        return False
    w.emit("DerivativesKnowledgeAssessed", {"client_id": c.client_id, "has_knowledge": False, "basis": "annual review"}, "kyc")
    _probe(w, c)
    w.emit("DerivativesKnowledgeAssessed", {"client_id": c.client_id, "has_knowledge": True, "basis": "training"}, "kyc")
    return True


def pi_04(w: World) -> bool:
    c = SimulatedClient(w.new_id("CX"), "individual", "professional", w.tl.day() - timedelta(days=30),
               Decimal(20_000_000), None, trades_perps=False)
    c.contract = platform.CONTRACTS[0].contract_id
    onboard(w, c, knowledge=True, disclosures=())
    platform.deposit(w, c, "HKD", Decimal(1_000_000))
    return _probe(w, c)


# --- VA margin financing ---------------------------------------------------------------------
def mf_01(w: World) -> bool:
    c = _borrower(w, lambda c: broker.headroom(w, c) >= 2 * SMALL)
    other = None if c is None else _pick(w, [o for o in w.clients.values() if o.account_open and o is not c
                                             and o.credit_limit >= acc.debt(c) + 2 * SMALL])
    if c is None or other is None:
        return False
    broker.draw(w, c, SMALL, other.account_id)
    return True


def mf_02(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    broker.set_limit(w, c, c.credit_limit + Decimal(1_000_000), "va_financing")
    return True


def mf_03(w: World) -> bool:
    c = _borrower(w, lambda c: _covered(w, c, "1.3"))
    if c is None:
        return False
    before = c.credit_limit
    broker.set_limit(w, c, round_down(acc.debt(c), THOUSAND) + THOUSAND, "periodic_review")
    broker.draw(w, c, SMALL)
    broker.set_limit(w, c, max(before, round_down(acc.debt(c) * 2, THOUSAND)), "periodic_review")
    return True


def mf_04(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    broker.pledge(w, c, Decimal(100_000), Decimal("0.7"), asset="SOL")
    return True


def mf_05(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    eligible = sorted(pid for pid, p in c.pledges.items() if p.asset in acc.ELIGIBLE_COLLATERAL)
    if eligible and w.chance(0.5):  # a haircut review below the minimum, or a new pledge below it
        haircuts.change(w, c, w.rng.choice(eligible), BELOW_MIN_HAIRCUT)
    else:
        broker.pledge(w, c, Decimal(100_000), BELOW_MIN_HAIRCUT)
    return True


def mf_06(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    lending = acc.lending_value(c, w.prices[c.collateral], w.min_haircut)
    amount = round_down(lending - acc.debt(c), THOUSAND) + 5 * SMALL
    if acc.debt(c) + amount > c.credit_limit:
        broker.set_limit(w, c, round_down(acc.debt(c) + amount, THOUSAND) + 10 * SMALL, "periodic_review")
    broker.draw(w, c, amount)  # short after it: a margin call follows, in time
    return True


def _make_short(w: World, c: SimulatedClient) -> None:
    """The securities system reports a loss: the client is short by a quarter."""
    lending = acc.lending_value(c, w.prices[c.collateral], w.min_haircut)
    c.loan_balance += round_down(lending * Decimal("1.25") - acc.debt(c), THOUSAND) + 5 * SMALL
    broker.report(w, c)


def mf_07(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    c.late_call = True
    _make_short(w, c)
    return True


def mf_08(w: World) -> bool:
    c = _borrower(w)
    if c is None:
        return False
    c.late_resolution = True
    _make_short(w, c)
    return True


def mf_09(w: World) -> bool:
    c = _borrower(w, lambda c: broker.headroom(w, c) >= 2 * SMALL)
    if c is None:
        return False
    broker.issue_call(w, c, force=True)  # a precautionary call on a client that is not short
    broker.draw(w, c, SMALL)
    return True


def mf_10(w: World) -> bool:
    c = _borrower(w, lambda c: _covered(w, c, "1.5") and bool(c.pledges))
    pledge_id = None if c is None else broker._largest_pledge(c)
    if c is None or pledge_id is None:
        return False
    quantity = round_down(c.pledges[pledge_id].quantity / 100, Decimal("0.00000001"))
    if quantity <= 0:
        return False
    w.emit("CollateralTransferred", {
        "pledge_id": pledge_id, "quantity": text(quantity), "destination_kind": "broker_house",
        "destination": "house-wallet-1", "purpose": "short-term funding",
    }, "custody")
    broker._reduce(c, pledge_id, quantity)
    w.refresh_broker(c)
    return True


# --- perpetual contracts ---------------------------------------------------------------------
def perp_01(w: World) -> bool:
    symbol = f"ALT{len(w.delisted) + 1}"
    w.emit("AssetListed", {"asset": symbol, "asset_kind": "virtual_asset", "retail_spot_approved": False,
                           "iosco_compliant": False, "hkma_licensed": False, "issuer": None}, "reference-data")
    w.emit("PriceObserved", {"asset": symbol, "price": "12.5", "price_source": "vatp-composite"}, "market-data")
    contract_id = f"{symbol}-PERP"
    w.emit("PerpContractListed", {
        "contract_id": contract_id, "reference_asset": symbol, "settlement_asset": "HKD",
        "contract_size": "100", "initial_margin_rate": "0.2", "maintenance_margin_rate": "0.1",
    }, "listing")
    w.delisted.add(contract_id)  # never traded here; delisted within the hour
    w.tl.after(45 * MINUTE_MS, lambda: w.emit("PerpContractDelisted", {"contract_id": contract_id}, "listing"))
    return True


def perp_02(w: World) -> bool:
    c = _trader(w)
    if c is None:
        return False
    platform.deposit(w, c, "USDT", Decimal(10_000))
    return True


def perp_03(w: World) -> bool:
    c = _trader(w)
    if c is None:
        return False
    platform.deposit(w, c, "HKD", SMALL, funding_source="platform_credit")
    return True


def perp_04(w: World) -> bool:
    c = _trader(w, lambda c: acc.equity(c, w.prices, w.contracts) > 0)
    if c is None or c.contract is None:
        return False
    spec = w.contracts[c.contract]
    position = c.positions.get(c.contract)
    side = "sell" if position is not None and position.quantity < 0 else "buy"
    per_contract = spec.size * w.prices[spec.reference] * spec.initial_rate
    quantity = int(acc.equity(c, w.prices, w.contracts) / per_contract) + 1
    quantity += 0 if position is None else int(abs(position.quantity))
    if quantity > 1_000_000:
        return False
    contract = c.contract
    signed = Decimal(quantity if side == "buy" else -quantity)
    assert not platform.may_place(w, c, contract, signed)
    platform.cancel_resting(w, c)
    mark = w.market.cents[spec.reference]
    order = platform.place(w, c, contract, side, Decimal(quantity),
                           mark * 8 // 10 if side == "buy" else mark * 12 // 10, match=False)
    w.emit("PerpOrderCancelled", {"order_id": order.order_id}, platform.SOURCE)
    return True


def perp_05(w: World) -> bool:
    w.settlement_breaches.append("counterparty" if w.chance(0.5) else "late")
    return True


def _fat_finger(w: World, c: SimulatedClient) -> int | None:
    """Contracts that, bought 10 % above the mark, pass PERP-04 but leave ``c`` below its
    maintenance margin; None when there are none."""
    assert c.contract is not None
    spec = w.contracts[c.contract]
    m = Fraction(w.prices[spec.reference])
    e0 = Fraction(acc.equity(c, w.prices, w.contracts))
    n = int(e0 * Fraction(9, 10) / (Fraction(spec.size) * m * Fraction(spec.initial_rate)))
    nkm = n * Fraction(spec.size) * m
    below = e0 - nkm * Fraction(1, 10) < nkm * Fraction(spec.maintenance_rate)
    return n if n >= 1 and below else None


def perp_06(w: World) -> bool:
    c = _trader(w, lambda c: not c.positions and _fat_finger(w, c) is not None)
    if c is None or c.contract is None:
        return False
    n = _fat_finger(w, c)
    assert n is not None
    platform.cancel_resting(w, c)
    price = w.market.cents[w.contracts[c.contract].reference] * 11 // 10
    seller = platform.place(w, _mm(w, affiliate=False), c.contract, "sell", Decimal(n), price, match=False)
    buyer = platform.place(w, c, c.contract, "buy", Decimal(n), price, match=False)
    c.late_liquidation = True
    platform.execute(w, buyer, seller, Decimal(n), price)
    return True


def perp_07(w: World) -> bool:
    if w.fund < SMALL:
        return False
    w.emit("LossAllocated", {"contract_id": platform.CONTRACTS[0].contract_id, "amount": text(SMALL),
                             "method": "auto_deleveraging"}, "risk-engine")
    return True


def perp_08(w: World) -> bool:
    contract_id = w.rng.choice(sorted(set(w.contracts) - w.delisted))
    w.funding_skip_until_ms[contract_id] = w.tl.now_ms + 26 * HOUR_MS
    return True


# --- market making ---------------------------------------------------------------------------
def mm_01(w: World) -> bool:
    mm = _mm(w, affiliate=True)
    weakened = {**ALL_CONTROLS, "conflict_monitoring": False}
    w.emit("MarketMakerControlsChanged", {"mm_id": mm.mm_id, "controls": weakened}, "compliance")
    _probe(w, mm, flagged=True)
    w.emit("MarketMakerControlsChanged", {"mm_id": mm.mm_id, "controls": ALL_CONTROLS}, "compliance")
    return True


def mm_02(w: World) -> bool:
    if w.chance(0.5):
        return _probe(w, _mm(w, affiliate=False), side="sell", flagged=False)
    c = _trader(w, lambda c: platform.may_place(w, c, c.contract or "", Decimal(1)))
    return c is not None and _probe(w, c, flagged=True)


def mm_03(w: World) -> bool:
    c = _trader(w, lambda c: platform.may_place(w, c, c.contract or "", Decimal(1)))
    if c is None or c.contract is None:
        return False
    platform.cancel_resting(w, c)
    contract = c.contract
    mark = w.market.cents[w.contracts[contract].reference]
    price = min(mark, w.books[contract].best_cents("sell") or mark) * 9_950 // 10_000
    resting = platform.place(w, c, contract, "buy", Decimal(1), price)
    assert resting.remaining > 0, "a buy below the best offer rests"
    affiliate = platform.place(w, _mm(w, affiliate=True), contract, "buy", Decimal(5), price, match=False)
    seller = platform.place(w, _mm(w, affiliate=False), contract, "sell", Decimal(5), price, match=False)
    platform.execute(w, seller, affiliate, Decimal(5), price)
    return True


def mm_04(w: World) -> bool:
    mm = _mm(w, affiliate=True)
    w.emit("DataAccessed", {"actor_id": f"{(mm.mm_id or '').lower()}.trader.1", "actor_entity": mm.mm_id,
                            "dataset": "client_orders", "record_count": w.rng.randint(10, 500)}, "access-log")
    return True


INJECTORS: dict[str, Injector] = {
    "PI-01": pi_01, "PI-02": pi_02, "PI-03": pi_03, "PI-04": pi_04,
    "MF-01": mf_01, "MF-02": mf_02, "MF-03": mf_03, "MF-04": mf_04, "MF-05": mf_05,
    "MF-06": mf_06, "MF-07": mf_07, "MF-08": mf_08, "MF-09": mf_09, "MF-10": mf_10,
    "PERP-01": perp_01, "PERP-02": perp_02, "PERP-03": perp_03, "PERP-04": perp_04,
    "PERP-05": perp_05, "PERP-06": perp_06, "PERP-07": perp_07, "PERP-08": perp_08,
    "MM-01": mm_01, "MM-02": mm_02, "MM-03": mm_03, "MM-04": mm_04,
}


def _attempt(w: World, rule_id: str, retries: int) -> None:
    if not INJECTORS[rule_id](w) and retries > 0:
        w.tl.after(RETRY_MS, partial(_attempt, w, rule_id, retries - 1))


def _hourly(w: World) -> None:
    for rule_id in INJECTORS:
        if w.chance(w.config.violations):
            w.tl.after(w.between_ms(0, HOUR_MS - 1), partial(_attempt, w, rule_id, RETRIES_MAX))


def schedule(w: World) -> None:
    if w.config.violations <= 0:
        return
    for i, rule_id in enumerate(INJECTORS):
        w.tl.at(FIRST_INJECTION_MS + i * INJECTION_SPACING_MS, partial(_attempt, w, rule_id, RETRIES_MAX))
    w.every(HOUR_MS, DAY_MS, lambda: _hourly(w))

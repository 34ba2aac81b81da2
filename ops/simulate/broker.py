"""The broker's VA margin financing: accounts and their daily position reports, BTC/ETH
pledges, drawdowns and repayments, and margin calls issued and resolved in time.

A client borrows only while it is not short, has no margin call and stays within both its
credit limit and its lending value; when a price move (or anything else) leaves it short,
a margin call follows within minutes and is resolved within hours, by a top-up, a repayment
or a sale of collateral.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ops.simulate import accounts as acc
from ops.simulate import haircuts
from ops.simulate.accounts import SimulatedClient, SimulatedPledge
from ops.simulate.timeline import DAY_MS, HOUR_MS, MINUTE_MS, is_business_day
from ops.simulate.world import World, cents_down, cents_up, round_down, text, units_down, units_up

SOURCE = "broker-core"
CALL_DUE_MS = DAY_MS
RESTORED_COVERAGE = Fraction(8, 5)  # lending value over debt after a margin call is met
CREDIT_LIMITS = (Decimal(5_000_000), Decimal(10_000_000), Decimal(20_000_000), Decimal(40_000_000))
THOUSAND = Decimal(1000)


def open_account(w: World, c: SimulatedClient) -> None:
    c.account_id = f"A-{c.client_id}"
    c.account_open = True
    c.credit_limit = w.rng.choice(CREDIT_LIMITS)
    w.emit("SecuritiesMarginAccountOpened", {"client_id": c.client_id, "account_id": c.account_id,
                                             "credit_limit": text(c.credit_limit)}, SOURCE)
    c.marginable = Decimal(w.rng.randint(200, 1_500)) * THOUSAND
    c.loan_balance = round_down(c.marginable * Decimal(w.rng.randint(0, 40)) / 100, THOUSAND)
    report(w, c)


def report(w: World, c: SimulatedClient) -> None:
    assert c.account_id is not None
    w.emit("SecuritiesMarginPositionReported", {
        "client_id": c.client_id, "account_id": c.account_id,
        "marginable_value": text(c.marginable), "loan_balance": text(c.loan_balance),
    }, "securities-margin")
    w.refresh_broker(c)


def daily_reports(w: World) -> None:
    """After the close of each Hong Kong business day, the securities system's figures."""
    if not is_business_day(w.tl.day()):
        return
    for c in w.clients.values():
        if not c.account_open or c.mm_id is not None:
            continue
        # Reading: a client in a margin call keeps its figures until the call is met, so
        # that the securities side neither hides nor deepens what the call is about.
        if not (c.short or c.open_call is not None or c.call_pending):
            drift = Decimal(w.rng.randint(-300, 300)) / 10_000
            c.marginable = round_down(c.marginable * (1 + drift), THOUSAND)
            wanted = c.loan_balance * (1 + Decimal(w.rng.randint(-500, 500)) / 10_000)
            c.loan_balance = round_down(min(wanted, c.marginable / 2), THOUSAND)
        report(w, c)


def pledge(w: World, c: SimulatedClient, value_hkd: Decimal, haircut: Decimal, asset: str | None = None) -> str:
    asset = asset or c.collateral
    quantity = units_up(Fraction(value_hkd) / Fraction(w.prices[asset]))
    pledge_id = w.new_id("P")
    w.emit("CollateralPledged", {"pledge_id": pledge_id, "client_id": c.client_id, "asset": asset,
                                 "quantity": text(quantity), "haircut": text(haircut)}, "custody")
    c.pledges[pledge_id] = SimulatedPledge(asset, quantity, haircut)
    w.refresh_broker(c)
    return pledge_id


def start_borrowing(w: World, c: SimulatedClient) -> None:
    value = Decimal(w.rng.randint(1_000, 8_000)) * THOUSAND
    pledge(w, c, value, w.rng.choice(haircuts.granted(w)))
    w.poisson(0.8, lambda: activity(w, c))


def activity(w: World, c: SimulatedClient) -> None:
    if not c.borrows or c.open_call is not None or c.call_pending:
        return  # not borrowing any more: its account is being closed (see ``closing``)
    if c.short:  # still short after a call was met: call again
        became_short(w, c)
        return
    roll = w.rng.random()
    if roll < 0.45:
        draw(w, c)
    elif roll < 0.7:
        repay(w, c)
    elif roll < 0.82:
        pledge(w, c, Decimal(w.rng.randint(100, 1_500)) * THOUSAND, w.rng.choice(haircuts.granted(w)))
    elif roll < 0.92:
        release(w, c)
    elif roll < 0.95:
        rotate_wallet(w, c)
    elif roll < 0.97:
        haircuts.review(w, c)
    else:
        review_limit(w, c)


def headroom(w: World, c: SimulatedClient) -> Decimal:
    """What the client may still draw within its credit limit and its target coverage."""
    lending = acc.lending_value(c, w.prices[c.collateral], w.min_haircut)
    owed = acc.debt(c)
    by_value = cents_down(Fraction(lending) / Fraction(c.coverage_target) - Fraction(owed))
    by_limit = c.credit_limit * Decimal("0.95") - owed
    return max(Decimal(0), round_down(min(by_value, by_limit), THOUSAND))


def draw(w: World, c: SimulatedClient, amount: Decimal | None = None, account_id: str | None = None) -> str | None:
    if not c.account_open or c.account_id is None:
        return None
    if amount is None:
        room = headroom(w, c)
        if room < 20 * THOUSAND:
            return None
        amount = round_down(room * Decimal(w.rng.randint(30, 100)) / 100, THOUSAND)
    loan_id = w.new_id("L")
    w.emit("VAFinancingDrawn", {
        "loan_id": loan_id, "client_id": c.client_id, "account_id": account_id or c.account_id,
        "amount": text(amount), "purpose_asset": w.rng.choice(("BTC", "ETH", "PAXG")),
    }, SOURCE)
    c.loans[loan_id] = amount
    w.refresh_broker(c)
    return loan_id


def repay(w: World, c: SimulatedClient, amount: Decimal | None = None) -> None:
    if not c.loans:
        return
    for loan_id in sorted(c.loans):
        outstanding = c.loans[loan_id]
        part = outstanding if amount is None else min(outstanding, amount)
        if amount is None and w.chance(0.5):
            # about half, in thousands, and never more than is owed (a loan under 1,000 is repaid whole)
            part = min(outstanding, max(THOUSAND, round_down(outstanding / 2, THOUSAND)))
        w.emit("VAFinancingRepaid", {"loan_id": loan_id, "amount": text(part)}, SOURCE)
        if part == outstanding:
            del c.loans[loan_id]
        else:
            c.loans[loan_id] = outstanding - part
        if amount is None:
            break
        amount -= part
        if amount <= 0:
            break
    w.refresh_broker(c)


def _largest_pledge(c: SimulatedClient) -> str | None:
    eligible = [(p.quantity, pid) for pid, p in c.pledges.items() if p.asset == c.collateral and p.quantity > 0]
    return max(eligible)[1] if eligible else None


def release(w: World, c: SimulatedClient) -> None:
    pledge_id = _largest_pledge(c)
    if pledge_id is None:
        return
    p = c.pledges[pledge_id]
    price = w.prices[c.collateral]
    spare = Fraction(acc.lending_value(c, price, w.min_haircut)) - 2 * Fraction(acc.debt(c))
    per_unit = Fraction(price) * (1 - Fraction(acc.effective_haircut(p, w.min_haircut)))
    if spare <= 0 or per_unit <= 0:
        return
    quantity = min(p.quantity, units_down(spare / per_unit / 2))
    if quantity <= 0:
        return
    w.emit("CollateralReleased", {"pledge_id": pledge_id, "quantity": text(quantity)}, "custody")
    _reduce(c, pledge_id, quantity)
    w.refresh_broker(c)


def _reduce(c: SimulatedClient, pledge_id: str, quantity: Decimal) -> None:
    p = c.pledges[pledge_id]
    p.quantity -= quantity
    if p.quantity == 0:
        del c.pledges[pledge_id]


def rotate_wallet(w: World, c: SimulatedClient) -> None:
    pledge_id = _largest_pledge(c)
    if pledge_id is None:
        return
    w.emit("CollateralTransferred", {
        "pledge_id": pledge_id, "quantity": text(c.pledges[pledge_id].quantity),
        "destination_kind": "segregated_custody", "destination": f"seg-wallet-{w.rng.randint(1, 40):02d}",
        "purpose": "custody wallet rotation",
    }, "custody")


def review_limit(w: World, c: SimulatedClient) -> None:
    if c.account_id is None or not c.account_open:
        return
    floor = acc.debt(c) * Decimal("1.3")
    new = max(round_down(floor, THOUSAND) + THOUSAND,
              round_down(c.credit_limit * Decimal(w.rng.randint(90, 120)) / 100, THOUSAND))
    reason = w.rng.choice(("periodic_review", "client_request", "financial_change"))
    set_limit(w, c, new, reason)


def set_limit(w: World, c: SimulatedClient, limit: Decimal, reason: str) -> None:
    assert c.account_id is not None
    w.emit("CreditLimitChanged", {"client_id": c.client_id, "account_id": c.account_id,
                                  "credit_limit": text(limit), "reason": reason}, SOURCE)
    c.credit_limit = limit


# --- margin calls ----------------------------------------------------------------------------
def became_short(w: World, c: SimulatedClient) -> None:
    if c.open_call is not None or c.call_pending:
        return
    c.call_pending = True
    if c.late_call:
        c.late_call = False
        delay = w.between_ms(75 * MINUTE_MS, 110 * MINUTE_MS)
    else:
        delay = w.between_ms(3 * MINUTE_MS, 40 * MINUTE_MS)
    w.tl.after(delay, lambda: issue_call(w, c))


def issue_call(w: World, c: SimulatedClient, force: bool = False) -> None:
    c.call_pending = False
    price = w.prices[c.collateral]
    shortfall = acc.debt(c) - acc.lending_value(c, price, w.min_haircut)
    if c.open_call is not None or (shortfall <= 0 and not force):
        return
    call_id = w.new_id("MC")
    w.emit("MarginCallIssued", {
        "call_id": call_id, "client_id": c.client_id,
        "shortfall": text(cents_up(shortfall) if shortfall > 0 else Decimal(10_000)),
        "due_by": w.tl.stamp(w.tl.now_ms + CALL_DUE_MS),
    }, "risk")
    c.open_call = call_id
    if c.late_resolution:
        c.late_resolution = False
        delay = CALL_DUE_MS + w.between_ms(HOUR_MS, 3 * HOUR_MS)
    else:
        delay = w.between_ms(30 * MINUTE_MS, 12 * HOUR_MS)
    w.tl.after(delay, lambda: resolve_call(w, c))
    w.refresh_broker(c)


def resolve_call(w: World, c: SimulatedClient) -> None:
    assert c.open_call is not None
    price = w.prices[c.collateral]
    resolution = "withdrawn"
    if acc.is_short(c, price, w.min_haircut):
        roll = w.rng.random()
        resolution = "topped_up"
        if roll < 0.3 and _repay_to_cover(w, c):
            resolution = "repaid"
        elif roll >= 0.7 and _sell_to_cover(w, c):
            resolution = "liquidated"
        else:
            _top_up(w, c)
    w.emit("MarginCallResolved", {"call_id": c.open_call, "resolution": resolution}, "risk")
    c.open_call = None
    w.refresh_broker(c)


def _gap(w: World, c: SimulatedClient) -> Fraction:
    """How far the lending value is below the restored coverage of the debt."""
    price = w.prices[c.collateral]
    return RESTORED_COVERAGE * Fraction(acc.debt(c)) - Fraction(acc.lending_value(c, price, w.min_haircut))


def _top_up(w: World, c: SimulatedClient) -> None:
    haircut = max(haircuts.HAIRCUTS)
    value = _gap(w, c) / (1 - Fraction(haircut))
    pledge(w, c, cents_up(value) + THOUSAND, haircut)


def _repay_to_cover(w: World, c: SimulatedClient) -> bool:
    """Repay so that lending value covers the debt again; False when VA loans cannot."""
    need = cents_up(_gap(w, c) / RESTORED_COVERAGE)
    if need <= 0 or need > sum(c.loans.values(), Decimal(0)):
        return False
    repay(w, c, need)
    return True


def _sell_to_cover(w: World, c: SimulatedClient) -> bool:
    """Sell pledged collateral and repay loans with the proceeds."""
    pledge_id = _largest_pledge(c)
    if pledge_id is None:
        return False
    p = c.pledges[pledge_id]
    price = Fraction(w.prices[c.collateral])
    h = Fraction(acc.effective_haircut(p, w.min_haircut))
    quantity = units_up(_gap(w, c) / (price * (RESTORED_COVERAGE - 1 + h)))
    proceeds = Decimal(int(Fraction(quantity) * price))
    if quantity > p.quantity or proceeds > sum(c.loans.values(), Decimal(0)) or proceeds <= 0:
        return False
    w.emit("CollateralTransferred", {
        "pledge_id": pledge_id, "quantity": text(quantity), "destination_kind": "liquidation",
        "destination": "otc-desk", "purpose": "sale to meet margin call",
    }, "custody")
    _reduce(c, pledge_id, quantity)
    repay(w, c, proceeds)
    return True


def schedule(w: World) -> None:
    w.on_short = lambda c: became_short(w, c)
    for day in range(w.config.days):
        w.tl.at(day * DAY_MS + 17 * HOUR_MS + 30 * MINUTE_MS, lambda: daily_reports(w))

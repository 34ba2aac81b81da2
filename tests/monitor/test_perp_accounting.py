"""Perpetual accounting is conserved: the book's cash-flow form of each position gives the
rulebook's average entry price, realised and unrealised PnL exactly, however the position is
opened, reduced, flipped or liquidated."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.book.entities import Position
from domain.book.money import exact
from domain.book.perp_accounting import ENTRY_DIGITS_MAX, fill
from tests.monitor.builders import Stream

quantities = st.integers(min_value=-50, max_value=50).filter(bool).map(Decimal)
prices = st.integers(min_value=1, max_value=10**6).map(lambda cents: Decimal(cents) / 100)
fills = st.lists(st.tuples(quantities, prices), min_size=1, max_size=25)
sizes = st.sampled_from([Decimal("0.01"), Decimal("1"), Decimal("0.5")])


def implied_pnl(trades: list[tuple[Decimal, Decimal]], mark: Decimal, k: Decimal) -> Fraction:
    return sum((Fraction(s * k) * Fraction(mark - p) for s, p in trades), Fraction(0))


def rulebook_fill(q: Fraction, entry: Fraction, signed: Fraction, price: Fraction, k: Fraction
                  ) -> tuple[Fraction, Fraction, Fraction]:
    """The rulebook's wording, literally: (q, E) after the fill and the PnL it realises."""
    after = q + signed
    if q == 0 or (q > 0) == (signed > 0):  # opening: quantity-weighted average
        return after, (abs(q) * entry + abs(signed) * price) / abs(after), Fraction(0)
    closed = min(abs(signed), abs(q))
    realised = closed * k * (price - entry) * (1 if q > 0 else -1)
    if after == 0 or (after > 0) == (q > 0):  # reducing keeps E
        return after, entry, realised
    return after, price, realised  # a flip opens the remainder at the fill price


@given(fills, prices, sizes)
def test_the_cash_flow_position_gives_the_rulebook_entry_and_pnl_after_every_fill(
    trades: list[tuple[Decimal, Decimal]], mark: Decimal, k: Decimal
) -> None:
    with exact():
        position: Position | None = None
        closed_pnl = Decimal(0)
        q, entry, realised = Fraction(0), Fraction(0), Fraction(0)
        for signed, price in trades:
            position, gained = fill(position, signed, price, k)
            closed_pnl += gained
            q, entry, step = rulebook_fill(q, entry, Fraction(signed), Fraction(price), Fraction(k))
            realised += step
            assert (Fraction(0) if position is None else Fraction(position.quantity)) == q
            if position is not None:
                assert position.entry == entry
                realised_open = Fraction(k) * (Fraction(position.quantity) * position.entry - Fraction(position.cost))
                assert Fraction(closed_pnl) + realised_open == realised
        unrealised = q * Fraction(k) * (Fraction(mark) - entry)
        book_pnl = closed_pnl + (Decimal(0) if position is None else position.pnl(k, mark))
        assert book_pnl == realised + unrealised == implied_pnl(trades, mark, k)


def test_the_entry_ratio_stays_small_however_long_the_position_is_traded() -> None:
    with exact():
        position: Position | None = None
        q, entry = Fraction(0), Fraction(0)
        for n in range(2_000):  # add 3, take off 2, at prices that never average out evenly
            signed = Decimal(3) if n % 2 == 0 else Decimal(-2)
            price = Decimal(3_333_333 + 7 * (n % 13)).scaleb(-4)
            position, _ = fill(position, signed, price, Decimal(1))
            q, entry, _ = rulebook_fill(q, entry, Fraction(signed), Fraction(price), Fraction(1))
            assert position is not None and position.entry == entry
            assert len(position.entry_quantity.as_tuple().digits) <= 2 * ENTRY_DIGITS_MAX


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5).map(Decimal), prices, st.booleans()), min_size=1, max_size=8),
       prices, st.integers(0, 3))
def test_the_engines_equity_matches_the_fills_through_trades_and_liquidations(
    trades: list[tuple[Decimal, Decimal, bool]], mark: Decimal, liquidations: int
) -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.asset("BTC", retail_spot_approved=True)
    s.contract("BTC-PERP", reference="BTC", size="0.5")
    s.client("A")
    s.client("B")
    s.deposit("DA", "A", "1000000000")
    s.deposit("DB", "B", "1000000000")
    signed_fills: list[tuple[Decimal, Decimal]] = []
    for n, (qty, price, a_buys) in enumerate(trades):
        buyer, seller = ("A", "B") if a_buys else ("B", "A")
        s.fill(f"T{n}", buyer, seller, str(qty), str(price))
        signed_fills.append((qty if a_buys else -qty, price))
    held = sum(q for q, _ in signed_fills)
    for n in range(liquidations):
        if held == 0:
            break
        step = min(abs(held), Decimal(1))
        price = trades[n % len(trades)][1]
        s.send("PositionLiquidated", client_id="A", contract_id="BTC-PERP", quantity=str(step),
               price=str(price))
        signed_fills.append((-step if held > 0 else step, price))
        held -= step if held > 0 else -step
    s.price("BTC", str(mark))
    book = s.engine._book  # white-box: the figure the rules compare
    from domain.book.valuation import equity
    with exact():
        client = book.client("A")
        assert client is not None
        assert equity(book, client) == 1000000000 + implied_pnl(signed_fills, mark, Decimal("0.5"))

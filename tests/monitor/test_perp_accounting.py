"""Perpetual accounting is conserved: realised plus unrealised PnL equals what the fills and
the mark imply, however the position is opened, reduced, flipped or liquidated."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.book.entities import Position
from domain.book.money import exact
from domain.book.perp_accounting import fill
from tests.monitor.builders import Stream

quantities = st.integers(min_value=-50, max_value=50).filter(bool).map(Decimal)
prices = st.integers(min_value=1, max_value=10**6).map(lambda cents: Decimal(cents) / 100)
fills = st.lists(st.tuples(quantities, prices), min_size=1, max_size=25)
sizes = st.sampled_from([Decimal("0.01"), Decimal("1"), Decimal("0.5")])


def implied_pnl(trades: list[tuple[Decimal, Decimal]], mark: Decimal, k: Decimal) -> Fraction:
    return sum((Fraction(s * k) * Fraction(mark - p) for s, p in trades), Fraction(0))


@given(fills, prices, sizes)
def test_realised_plus_unrealised_equals_the_pnl_the_fills_imply(
    trades: list[tuple[Decimal, Decimal]], mark: Decimal, k: Decimal
) -> None:
    with exact():
        position: Position | None = None
        realised = Fraction(0)
        for signed, price in trades:
            position, gained = fill(position, signed, price, k)
            realised += gained
        q = Decimal(0) if position is None else position.quantity
        assert q == sum(s for s, _ in trades)
        unrealised = Fraction(0) if position is None else Fraction(q * k) * (Fraction(mark) - position.entry)
        assert realised + unrealised == implied_pnl(trades, mark, k)


@given(fills)
def test_a_flip_opens_the_remainder_at_the_fill_price(trades: list[tuple[Decimal, Decimal]]) -> None:
    with exact():
        position: Position | None = None
        for signed, price in trades:
            before = position
            position, _ = fill(position, signed, price, Decimal(1))
            if before is not None and position is not None and (before.quantity > 0) != (position.quantity > 0):
                assert position.entry == Fraction(price)
            if before is not None and position is not None and abs(position.quantity) < abs(before.quantity) \
                    and (before.quantity > 0) == (position.quantity > 0):
                assert position.entry == before.entry  # reducing keeps the entry


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

"""Step (5) is incremental (thresholds per price, the clients an event touched), yet after
every event each client's stored status equals a full re-evaluation."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.book.money import exact
from domain.book.valuation import is_below_maintenance, is_short
from projections.monitor.engine import MonitorEngine
from projections.monitor.status_index import rounded
from tests.monitor.builders import Stream

ASSETS = ("BTC", "ETH")
prices = st.integers(min_value=1, max_value=2000).map(lambda p: str(Decimal(p) * 50))


def priced_market() -> Stream:
    """HKD, and BTC and ETH listed and priced at 20,000."""
    s = Stream()
    s.asset("HKD", "fiat")
    for asset in ASSETS:
        s.asset(asset, retail_spot_approved=True)
        s.price(asset, "20000")
    return s


def assert_statuses_are_exact(engine: MonitorEngine) -> None:
    book = engine._book  # white-box: compare the stored statuses with a full evaluation
    with exact():
        for client in book.clients.values():
            assert client.short == is_short(book, client, ("BTC", "ETH"), Decimal("0.6")), client.client_id
            assert client.below_maintenance == is_below_maintenance(book, client), client.client_id


clients = st.lists(
    st.tuples(
        st.sampled_from(("BTC", "ETH", "BOTH")),
        st.integers(1, 20),  # collateral quantity
        st.integers(1, 400),  # debt in thousands
        st.sampled_from(("0.5", "0.6", "0.75")),
    ),
    min_size=1, max_size=12,
)
ticks = st.lists(st.tuples(st.sampled_from(ASSETS), prices), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(clients, ticks)
def test_short_status_follows_every_price_tick_exactly(
    setup: list[tuple[str, int, int, str]], path: list[tuple[str, str]]
) -> None:
    s = priced_market()
    for n, (asset, quantity, debt, haircut) in enumerate(setup):
        client = f"C{n}"
        s.client(client)
        s.margin_account(client, f"A{n}", "1000000000")
        for held in ASSETS if asset == "BOTH" else (asset,):
            s.pledge(f"P{n}{held}", client, held, str(quantity), haircut)
        s.draw(f"L{n}", client, f"A{n}", str(debt * 1000))
    assert_statuses_are_exact(s.engine)
    for asset, price in path:
        s.price(asset, price)
        assert_statuses_are_exact(s.engine)


positions = st.lists(
    st.tuples(st.integers(-5, 5).filter(bool), st.sampled_from(("HKD", "USD", "ETH")), st.integers(1, 50)),
    min_size=1, max_size=8,
)
marks = st.lists(st.tuples(st.sampled_from(("BTC", "USD", "ETH")), prices), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(positions, marks)
def test_below_maintenance_follows_every_price_tick_exactly(
    setup: list[tuple[int, str, int]], path: list[tuple[str, str]]
) -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.asset("USD", "fiat")
    s.price("USD", "7.8")
    for asset in ("BTC", "ETH"):
        s.asset(asset, retail_spot_approved=True)
        s.price(asset, "20000")
    s.contract("BTC-PERP", reference="BTC", size="0.1", initial="0.2", maintenance="0.1")
    s.client("MAKER")
    s.deposit("D-MAKER", "MAKER", "1000000000")
    for n, (quantity, margin_asset, margin) in enumerate(setup):
        client = f"C{n}"
        s.client(client)
        s.deposit(f"D{n}", client, str(margin * 100), asset=margin_asset)
        buyer, seller = (client, "MAKER") if quantity > 0 else ("MAKER", client)
        s.fill(f"T{n}", buyer, seller, str(abs(quantity)), "20000")
    assert_statuses_are_exact(s.engine)
    for asset, price in path:
        s.price(asset, price)
        assert_statuses_are_exact(s.engine)


def test_a_contract_marked_at_its_last_trade_moves_its_holders_and_then_its_first_price() -> None:
    s = Stream()
    s.asset("HKD", "fiat")
    s.asset("NEW", retail_spot_approved=True)  # never priced: marked at the last trade
    s.contract("NEW-PERP", reference="NEW", size="1", initial="0.2", maintenance="0.1")
    for client in ("L1", "S1", "X", "Y"):
        s.client(client)
        s.deposit(f"D-{client}", client, "56" if client == "L1" else "1000000")
    s.fill("T0", "L1", "S1", "2", "100", contract="NEW-PERP")
    s.fill("T1", "X", "Y", "1", "79.99", contract="NEW-PERP")  # moves L1's mark below 80
    assert_statuses_are_exact(s.engine)
    assert s.engine._book.clients["L1"].below_maintenance
    s.price("NEW", "100")  # now marked at the asset's price: L1 recovers
    assert_statuses_are_exact(s.engine)
    assert not s.engine._book.clients["L1"].below_maintenance


@given(clients, ticks)
@settings(max_examples=20, deadline=None)
def test_preview_of_a_tick_leaves_statuses_and_digest_untouched(
    setup: list[tuple[str, int, int, str]], path: list[tuple[str, str]]
) -> None:
    s = priced_market()
    for n, (asset, quantity, debt, haircut) in enumerate(setup):
        s.client(f"C{n}")
        s.margin_account(f"C{n}", f"A{n}", "1000000000")
        s.pledge(f"P{n}", f"C{n}", "BTC" if asset == "BOTH" else asset, str(quantity), haircut)
        s.draw(f"L{n}", f"C{n}", f"A{n}", str(debt * 1000))
    for asset, price in path:
        digest = s.engine.state_digest()
        previewed = s.check("PriceObserved", asset=asset, price=price, price_source="feed")
        assert s.engine.state_digest() == digest
        assert s.price(asset, price) == previewed
        assert_statuses_are_exact(s.engine)


decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=8)


@given(decimals, decimals.filter(bool))
def test_a_level_is_its_exact_ratio_correctly_rounded_so_float_order_never_contradicts_it(
    numerator: Decimal, denominator: Decimal
) -> None:
    assert rounded(numerator, denominator) == float(Fraction(numerator) / Fraction(denominator))


# Interleaved: trades, partial fills, margin, pledges, loans and ticks on clients with both
# sides, so that a side left unevaluated (a trade cannot make a client short) and levels
# kept while they cover the new ones (``StatusIndex.put``) are both exercised.
actions = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.sampled_from(ASSETS), prices, st.just("")),
        st.tuples(st.just("trade"), st.integers(0, 3), st.integers(-6, 6).filter(bool), prices),
        st.tuples(st.just("partial"), st.integers(0, 3), st.integers(1, 4), prices),
        st.tuples(st.just("deposit"), st.integers(0, 3), st.integers(1, 400), st.sampled_from(("HKD", "ETH"))),
        st.tuples(st.just("withdraw"), st.integers(0, 3), st.integers(1, 200), st.just("HKD")),
        st.tuples(st.just("pledge"), st.integers(0, 3), st.integers(1, 8), st.sampled_from(ASSETS)),
        st.tuples(st.just("draw"), st.integers(0, 3), st.integers(1, 300), st.just("")),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=120, deadline=None)
@given(actions)
def test_both_statuses_follow_interleaved_trades_financing_and_ticks_exactly(
    path: list[tuple[str, int | str, int | str, str]],
) -> None:
    s = priced_market()
    s.contract("BTC-PERP", reference="BTC", size="0.1", initial="0.2", maintenance="0.1")
    s.client("MAKER")
    s.deposit("D-MAKER", "MAKER", "1000000000")
    for n in range(4):
        s.client(f"C{n}")
        s.margin_account(f"C{n}", f"A{n}", "1000000000")
        s.deposit(f"D{n}", f"C{n}", "500")
        s.pledge(f"P{n}", f"C{n}", "ETH", "2")
    assert_statuses_are_exact(s.engine)
    for step, (kind, who, amount, extra) in enumerate(path):
        client = f"C{who}"
        if kind == "tick":
            s.price(str(who), str(amount))
        elif kind == "trade":
            assert isinstance(amount, int)
            buyer, seller = (client, "MAKER") if amount > 0 else ("MAKER", client)
            s.fill(f"T{step}", buyer, seller, str(abs(amount)), extra)
        elif kind == "partial":  # the client's order rests, filled in part
            s.order(f"O{step}", client, "buy", "10", extra)
            s.order(f"S{step}", "MAKER", "sell", str(amount), extra)
            s.trade(f"T{step}", f"O{step}", f"S{step}", str(amount), extra)
        elif kind == "deposit":
            s.deposit(f"D{step}", client, str(amount), asset=extra)
        elif kind == "withdraw":
            s.send("PerpMarginWithdrawn", client_id=client, asset=extra, amount=str(amount))
        elif kind == "pledge":
            s.pledge(f"P{step}", client, extra, str(amount))
        else:
            s.draw(f"L{step}", client, f"A{who}", str(int(amount) * 1000))
        assert_statuses_are_exact(s.engine)

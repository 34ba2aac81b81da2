"""The book's resting client orders: a heap per contract side whose stale entries (orders
filled, cancelled, or undone) are dropped lazily, against a brute force over the live orders."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.book import book as book_module
from domain.book.book import Book
from domain.book.entities import Order
from policies.registry import parameter_catalogue


def order(order_id: str, side: str = "buy", limit: str | None = "100", *, contract: str = "C1",
          remaining: str = "1", mm: bool = False) -> Order:
    return Order(order_id, "K1", contract, side, Decimal(remaining),
                 None if limit is None else Decimal(limit), mm)


def best(book: Book, contract: str, side: str, excluding: tuple[str, ...] = ()) -> str | None:
    found = book.best_resting_client_order(contract, side, excluding)
    return None if found is None else found.order_id


def brute_force(book: Book, contract: str, side: str, excluding: tuple[str, ...] = ()) -> str | None:
    """The rulebook's order, spelled out: no limit first, then the best limit, then the id."""
    def place(o: Order) -> tuple[bool, Decimal, str]:
        if o.limit_price is None:
            return (False, Decimal(0), o.order_id)
        return (True, -o.limit_price if side == "buy" else o.limit_price, o.order_id)
    live = [o for o in book.orders.values()
            if o.contract_id == contract and o.side == side and not o.market_maker_account
            and o.order_id not in excluding]
    return min(live, key=place).order_id if live else None


def test_no_limit_first_then_the_best_price_then_the_lowest_id() -> None:
    book = Book(parameter_catalogue())
    for o in (order("B3", limit="101"), order("B2", limit="101"), order("B1", limit="100"),
              order("S1", "sell", "99"), order("S2", "sell", "98")):
        book.orders.put(o.order_id, o)
    assert best(book, "C1", "buy") == "B2"  # 101 beats 100; B2 before B3 at the same price
    assert best(book, "C1", "sell") == "S2"  # the lowest ask
    book.orders.put("B9", order("B9", limit=None))
    assert best(book, "C1", "buy") == "B9"  # no limit rests ahead of any limit
    assert best(book, "C2", "buy") is None


def test_excluded_orders_are_skipped_and_kept() -> None:
    book = Book(parameter_catalogue())
    for o in (order("B1", limit="101"), order("B2", limit="100"), order("B3", limit="99")):
        book.orders.put(o.order_id, o)
    assert best(book, "C1", "buy", ("B1", "B2")) == "B3"
    assert best(book, "C1", "buy", ("B1", "B2", "B3")) is None
    assert best(book, "C1", "buy") == "B1"  # set aside, not dropped
    assert best(book, "C1", "buy", ("B1",)) == "B2"


def test_filled_cancelled_and_market_maker_orders_do_not_rest_and_a_partial_fill_does() -> None:
    book = Book(parameter_catalogue())
    book.orders.put("M1", order("M1", limit="200", mm=True))
    book.orders.put("B1", order("B1", limit="150"))
    book.orders.put("B2", order("B2", limit="120", remaining="5"))
    book.orders.put("B3", order("B3", limit="110"))
    book.orders.drop("B1")  # filled or cancelled
    assert best(book, "C1", "buy") == "B2"
    book.orders.put("B2", order("B2", limit="120", remaining="2"))  # partly filled
    assert best(book, "C1", "buy") == "B2"
    assert book.best_resting_client_order("C1", "buy", ()) == order("B2", limit="120", remaining="2")
    book.orders.drop("B2")
    assert best(book, "C1", "buy") == "B3"


def test_an_id_that_now_names_an_order_elsewhere_is_not_found_where_it_was() -> None:
    book = Book(parameter_catalogue())
    book.orders.put("X", order("X", limit="150"))
    book.orders.put("B1", order("B1", limit="100"))
    book.orders.drop("X")
    book.orders.put("X", order("X", "sell", "150"))  # the same id on the other side
    assert best(book, "C1", "buy") == "B1"
    assert best(book, "C1", "sell") == "X"
    book.orders.put("X", order("X", "sell", "150", contract="C2"))  # and on another contract
    assert best(book, "C1", "sell") is None
    assert best(book, "C2", "sell") == "X"
    book.orders.put("X", order("X", "sell", "140", contract="C2"))  # at another price
    assert best(book, "C2", "sell") == "X"


def test_an_id_that_now_names_a_market_makers_order_at_the_same_place_is_not_found() -> None:
    book = Book(parameter_catalogue())
    book.orders.put("X", order("X", limit="150"))
    book.orders.put("B1", order("B1", limit="100"))
    book.orders.drop("X")
    book.orders.put("X", order("X", limit="150", mm=True))  # same contract, side and price
    assert best(book, "C1", "buy") == "B1"


def test_a_rolled_back_change_leaves_the_resting_orders_as_they_were() -> None:
    book = Book(parameter_catalogue())
    book.orders.put("B1", order("B1", limit="150"))
    book.orders.put("B2", order("B2", limit="100"))
    with book.journal.rolled_back():
        book.orders.drop("B1")
        assert best(book, "C1", "buy") == "B2"  # B1's entry dropped as stale on the way
        book.orders.put("B0", order("B0", limit=None))
        assert best(book, "C1", "buy") == "B0"
    assert best(book, "C1", "buy") == "B1"  # restored through the change hook
    book.orders.drop("B1")
    assert best(book, "C1", "buy") == "B2"  # B0 was undone


def test_stale_entries_are_compacted_once_they_outnumber_the_orders() -> None:
    slack = book_module.RESTING_SLACK_ENTRIES
    book = Book(parameter_catalogue())
    book.orders.put("KEEP", order("KEEP", limit="1"))
    # Every placement pushes an entry; each order filled at once leaves it stale. Compaction
    # happens when the entries exceed twice the orders plus the slack: with one order kept
    # and one just placed, at the push that makes 2 * 2 + slack + 1 entries.
    pushes = 1
    while pushes < 2 * 2 + slack:
        book.orders.put("T", order("T", limit="2"))
        book.orders.drop("T")
        pushes += 1
    assert book._resting_entries == pushes  # below and at the threshold: nothing compacted
    book.orders.put("T", order("T", limit="2"))  # above it
    assert book._resting_entries == 2  # KEEP and T, nothing stale
    assert best(book, "C1", "buy") == "T"
    book.orders.drop("T")
    assert best(book, "C1", "buy") == "KEEP"


OPS = st.lists(st.tuples(
    st.sampled_from(["place", "fill", "drop", "preview", "query"]),
    st.sampled_from([f"O{i}" for i in range(8)]),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from([None, "99", "100", "101"]),
    st.booleans(),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_the_best_resting_order_is_always_the_brute_forces(ops: list[tuple[str, str, str, str | None, bool]]) -> None:
    book = Book(parameter_catalogue())
    for op, order_id, side, limit, flag in ops:
        if op == "place":
            book.orders.put(order_id, order(order_id, side, limit, mm=flag and order_id == "O7",
                                            contract="C2" if flag else "C1"))
        elif op == "fill" and (o := book.orders.get(order_id)) is not None:
            book.orders.put(order_id, order(order_id, o.side, None if o.limit_price is None else str(o.limit_price),
                                            contract=o.contract_id, remaining="0.5", mm=o.market_maker_account))
        elif op == "drop":
            book.orders.drop(order_id)
        elif op == "preview":
            with book.journal.rolled_back():
                book.orders.drop(order_id)
                book.orders.put("O9", order("O9", side, limit))
                assert best(book, "C1", side) == brute_force(book, "C1", side)
        for contract in ("C1", "C2"):
            for s in ("buy", "sell"):
                excluding = (order_id,) if flag else ()
                assert best(book, contract, s, excluding) == brute_force(book, contract, s, excluding)

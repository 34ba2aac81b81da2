"""Exactness by construction: a stress result is what the monitor's own state and rules give
once the shocked ``PriceObserved`` events are appended to a scratch copy of the ledger, for
random margin books, perpetual books and shocks, on both stores."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.book.entities import obligation_key
from domain.book.money import exact
from domain.book.valuation import lending_value, lending_value_parts
from projections.asof import client_state, replay
from projections.asof.state import collateral_terms
from projections.monitor.engine import MonitorEngine
from projections.store import open_store
from projections.stress import parse_shock
from projections.stress.query import run_stress
from tests.audit.helpers import ingest
from tests.conftest import fresh_store_url
from tests.stress.book import Lines

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000000"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
haircuts = st.sampled_from(["0.5", "0.6", "0.65", "0.8"])
pledges = st.lists(st.tuples(st.sampled_from(["BTC", "ETH", "SOL"]), quantities, haircuts), max_size=3)
borrowers = st.lists(st.tuples(pledges, st.one_of(st.just(Decimal(0)), amounts), st.booleans()),
                     min_size=1, max_size=4)
traders = st.lists(st.tuples(st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=0),
                             st.sampled_from(["1", "2", "5"]), st.sampled_from(["ETH-PERP", "BTC-PERP"])),
                   max_size=3)
percents = st.decimals(min_value=Decimal("-95"), max_value=Decimal("60"), places=1)
shocks = st.lists(st.tuples(st.sampled_from(["BTC", "ETH", "SOL"]), st.one_of(
    percents.map(lambda p: f"{p}%"),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("900000"), places=2).map(str),
)), min_size=1, max_size=3, unique_by=lambda s: s[0])


def build(book_borrowers: list[Any], book_traders: list[Any], fund: Decimal) -> list[bytes]:
    book = Lines()
    book.market()
    book.send("AssetListed", asset="SOL", asset_kind="virtual_asset", retail_spot_approved=True)
    book.send("PriceObserved", asset="SOL", price="1200", price_source="feed")
    for n, (held, loan, called) in enumerate(book_borrowers):
        client_id = f"C{n}"
        book.borrower(client_id, [(a, str(q), h) for a, q, h in held], str(loan))
        if called:  # an open call meets MF-07 whatever the shock
            book.send("MarginCallIssued", call_id=f"MC{n}", client_id=client_id, shortfall="1",
                      due_by="2026-03-03T09:00:00+08:00")
    if book_traders:
        book.contract("ETH-PERP", "ETH", "1", "0.2", "0.1")
        book.contract("BTC-PERP", "BTC", "0.01", "0.1", "0.05")
    for n, (margin, quantity, contract) in enumerate(book_traders):
        long, short = f"L{n}", f"S{n}"
        book.trader(long, str(margin))
        book.trader(short, str(margin))
        price = "20000" if contract == "ETH-PERP" else "500000"
        book.fill(f"T{n}", long, short, quantity, price, contract)
    if fund:
        book.fund(str(fund))
    return book.lines


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(book_borrowers=borrowers, book_traders=traders, fund=st.one_of(st.just(Decimal(0)), amounts),
       shock_texts=shocks)
def test_a_stress_result_equals_the_monitor_after_the_shocked_prices_are_appended(
    kind: str, tmp_path: Path, book_borrowers: list[Any], book_traders: list[Any], fund: Decimal,
    shock_texts: list[tuple[str, str]],
) -> None:
    with fresh_store_url(kind, tmp_path) as url:
        store = open_store(url, create=True)
        try:
            check_exact(store, build(book_borrowers, book_traders, fund),
                        [parse_shock(f"{a}={v}") for a, v in shock_texts])
        finally:
            store.close()


def check_exact(store: Any, lines: list[bytes], shocks: list[Any]) -> None:
    ingest(store, lines)
    [scenario] = run_stress(store, shocks=shocks)["scenarios"]
    moment = replay(store).moment
    assert moment is not None
    # The scratch copy: the same ledger with the shocked prices appended, as a feed would send them.
    shocked = Lines(moment)
    shocked.now = moment
    for asset, price in scenario["prices_after"].items():
        shocked.lines.append(Lines.line(f"x-{asset}", "PriceObserved", moment,
                                        {"asset": asset, "price": price, "price_source": "feed"}))
    ingest(store, shocked.lines)
    state = replay(store)
    monitor = MonitorEngine.restore(store.monitor_records())  # the live monitor's own state
    book, live = state.engine.book, monitor.book
    rows = {c["client_id"]: c for c in scenario["clients"]}
    with exact():
        terms = collateral_terms(state)
        for client_id, client in book.clients.items():
            figures = client_state(state, client_id)
            row = rows.get(client_id)
            if row is None:
                assert (figures["debt"], figures["lending_value"]) == ("0", "0")
                continue
            assert (row["lending_value_after"], row["debt"]) == (figures["lending_value"], figures["debt"])
            assert (Decimal(row["shortfall_after"]) > 0) is figures["short"] is live.clients[client_id].short
            assert sum(lending_value_parts(book, client, *terms).values()) == lending_value(book, client, *terms)
    calls = {c["client_id"]: c for c in scenario["margin_calls"]}
    owing = {c for c, client in live.clients.items() if client.short and not client.open_calls}
    assert set(calls) == owing
    for client_id, call in calls.items():
        obligation = live.obligations.get(obligation_key("MF-07", client_id))
        assert call["due_by"] == (None if obligation is None else obligation.deadline.isoformat())
        assert call["amount"] == rows[client_id]["shortfall_after"]
    for perp in scenario["perp_positions"]:
        figures = client_state(state, perp["client_id"])
        assert (perp["equity_after"], perp["maintenance_after"]) == (
            figures["equity"], figures["maintenance_requirement"])
        assert perp["liquidated"] is figures["below_maintenance"] is live.clients[perp["client_id"]].below_maintenance
    assert scenario["insurance_fund_before"] == client_fund(state)


def client_fund(state: Any) -> str:
    from domain.book.money import number_text

    return number_text(state.engine.book.fund_balance())

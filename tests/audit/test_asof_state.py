"""``state --as-of``: a client's, contract's and market maker's figures at a moment, checked
against figures computed by hand from the public scenarios."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projections.asof import client_state, contract_state, market_maker_state, replay
from projections.audit import known_through
from projections.store.base import Store
from tests.audit.helpers import LATER, RECORDED, event, ingest, lines_of


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def state(store: Store, client_id: str, as_of: str | None, known_at: datetime | None = None) -> dict[str, Any]:
    through = None if known_at is None else known_through(store, known_at)
    return client_state(replay(store, as_of=None if as_of is None else at(as_of), through=through), client_id)


def figures(found: dict[str, Any]) -> dict[str, Any]:
    return {k: found[k] for k in ("debt", "lending_value", "short")}


def test_c1_after_the_price_fall_is_short_with_the_rulebooks_figures(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    # BTC at 370000 (mf-day-0018): LV = 10 x 370000 x (1 - 0.6) = 1480000 < D = 1500000.
    assert state(store, "C1", "2026-03-02T12:30:00+08:00") == {
        "client_id": "C1", "as_of": "2026-03-02T12:30:00+08:00", "ledger_position": 18,
        "events_applied": 18, "left_out": [], "left_out_count": 0,
        "client_type": "individual", "investor_class": "retail", "pi_assessment": None,
        "market_maker_id": None, "derivatives_knowledge": True,
        "risk_disclosures": ["perpetuals", "va_financing"],
        "parameters": {"MF-04.eligible_assets": ["BTC", "ETH"], "MF-05.min_haircut": "0.6"},
        "accounts": [{"account_id": "A1", "open": True, "credit_limit": "2000000",
                      "marginable_value": "0", "loan_balance": "0"}],
        "pledges": [{"pledge_id": "P1", "asset": "BTC", "quantity": "10", "open": True,
                     "eligible": True, "haircut": "0.6", "haircut_applied": "0.6",
                     "price": "370000", "value": "3700000", "lending_value": "1480000"}],
        "loans": [{"loan_id": "L1", "outstanding": "1500000"}],
        "debt": "1500000", "lending_value": "1480000", "short": True,
        "open_margin_calls": [],
        "margin_assets": [], "realised_pnl": "0", "perpetual_positions": [],
        "margin_balance": "0", "equity": "0", "initial_requirement": "0",
        "maintenance_requirement": "0", "below_maintenance": False,
    }


def test_c1_before_during_and_after_the_margin_call(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    # BTC at 447000 (0017): LV = 10 x 447000 x 0.4 = 1788000 >= 1500000, not short.
    assert figures(state(store, "C1", "2026-03-02T11:30:00+08:00")) == {
        "debt": "1500000", "lending_value": "1788000", "short": False,
    }
    during = state(store, "C1", "2026-03-02T13:30:00+08:00")
    assert during["open_margin_calls"] == [{
        "call_id": "MC1", "shortfall": "20000", "due_by": "2026-03-02T15:15:18+08:00",
        "issued_at": "2026-03-02T13:15:18+08:00", "event_id": "mf-day-0019",
    }]
    # At the end: L1 repaid by 100000 (0020); 1 BTC of P1 moved to the house (0038):
    # D = 1400000, LV = 9 x 370000 x 0.4 = 1332000: short again, with no call open.
    end = state(store, "C1", None)
    assert figures(end) == {"debt": "1400000", "lending_value": "1332000", "short": True}
    assert (end["open_margin_calls"], end["pledges"][0]["quantity"], end["loans"]) == (
        [], "9", [{"loan_id": "L1", "outstanding": "1400000"}],
    )


def test_known_at_leaves_out_a_back_dated_event_recorded_later(store: Store) -> None:
    ingest(store, lines_of("mf-day"), recorded_at=RECORDED)
    back_dated = event("late-1", "VAFinancingRepaid", "2026-03-02T12:10:00+08:00", {"loan_id": "L1", "amount": "200000"})
    ingest(store, [back_dated], recorded_at=LATER)
    # What happened by 12:30, as known now: the repayment counts, D = 1300000 <= LV 1480000.
    assert figures(state(store, "C1", "2026-03-02T12:30:00+08:00")) == {
        "debt": "1300000", "lending_value": "1480000", "short": False,
    }
    # ... as the ledger knew it before the late report: short.
    assert figures(state(store, "C1", "2026-03-02T12:30:00+08:00", known_at=RECORDED)) == {
        "debt": "1500000", "lending_value": "1480000", "short": True,
    }
    # ... and as of a moment before the repayment occurred, whatever is known.
    assert figures(state(store, "C1", "2026-03-02T12:05:00+08:00", known_at=LATER)) == {
        "debt": "1500000", "lending_value": "1480000", "short": True,
    }


def test_a_back_dated_event_about_something_created_later_is_left_out_and_listed(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    # P2 is pledged at 13:45:27; a release of it reported as occurring at 12:00 is accepted
    # (P2 exists when it is recorded) but cannot be part of the state as of 12:30.
    release = event("late-2", "CollateralReleased", "2026-03-02T12:00:00+08:00", {"pledge_id": "P2", "quantity": "1"})
    ingest(store, [release], recorded_at=LATER)
    found = state(store, "C2", None)
    assert found["pledges"][0]["quantity"] == "99"
    replayed = replay(store, as_of=at("2026-03-02T13:45:30+08:00"))
    assert [x.event_id for x in replayed.left_out] == []
    early = replay(store, as_of=at("2026-03-02T12:30:00+08:00"))
    assert [(x.position, x.event_id, x.reason) for x in early.left_out] == [
        (39, "late-2", "refers to pledge 'P2', which occurred after the as-of time"),
    ]


def test_a_perpetual_clients_margin_positions_and_requirements(store: Store) -> None:
    ingest(store, lines_of("perp-day"))
    found = client_state(replay(store), "P1")
    # HKD 100000 + USDT 1000 x 7.8 = 107800; long 100 BTC-PERP (size 0.01) at 500000, marked
    # at 505000 at the end: unrealised 100 x 0.01 x 5000 = 5000; IM 10% and MM 5% of
    # 100 x 0.01 x 505000 = 505000.
    assert {k: found[k] for k in (
        "margin_balance", "equity", "initial_requirement", "maintenance_requirement",
        "below_maintenance", "perpetual_positions",
    )} == {
        "margin_balance": "107800", "equity": "112800", "initial_requirement": "50500",
        "maintenance_requirement": "25250", "below_maintenance": False,
        "perpetual_positions": [{
            "contract_id": "BTC-PERP", "quantity": "100", "contract_size": "0.01",
            "average_entry": "500000", "mark": "505000", "unrealised_pnl": "5000",
        }],
    }


def test_a_contracts_state_lists_holders_resting_orders_and_last_funding(store: Store) -> None:
    ingest(store, lines_of("perp-day"))
    found = contract_state(replay(store, as_of=at("2026-03-02T18:00:00+08:00")), "BTC-PERP")
    assert {k: found[k] for k in ("mark", "mark_basis", "last_trade_price", "last_funding", "open_interest", "positions")} == {
        "mark": "500000", "mark_basis": "reference_asset", "last_trade_price": "500000",
        "last_funding": {"event_id": "perp-day-0038", "occurred_at": "2026-03-02T17:00:37+08:00", "funding_rate": "0.0001"},
        "open_interest": "100",
        "positions": [
            {"client_id": "P1", "quantity": "100", "average_entry": "500000", "unrealised_pnl": "0"},
            {"client_id": "P2", "quantity": "-100", "average_entry": "500000", "unrealised_pnl": "0"},
        ],
    }


def test_a_market_makers_state_shows_its_controls_and_accounts(store: Store) -> None:
    ingest(store, lines_of("mm-day"))
    found = market_maker_state(replay(store), "MM-B")
    assert (found["affiliate"], found["missing_controls"], [a["client_id"] for a in found["accounts"]]) == (
        True, ["information_barrier"], ["MMB-1"],
    )

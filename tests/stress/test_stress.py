"""``regledger stress``'s figures at the boundaries, on both stores: a client exactly at
D = LV after the shock is not short and one cent more is; liquidations, the insurance fund
first and loss sharing for the rest (PERP-07's order); stress writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidRequest
from projections.asof import replay
from projections.store.base import FindingFilter, Store
from projections.stress import parse_shock
from projections.stress.query import run_stress
from projections.stress.run import stress
from projections.stress.scenario import ladder
from tests.audit.helpers import ingest
from tests.stress.book import Lines


def only(result: dict[str, Any]) -> dict[str, Any]:
    [scenario] = result["scenarios"]
    return scenario


def margin_book(loan: str) -> list[bytes]:
    # 10 BTC at 500000, haircut 0.6: LV 2000000; at BTC -30 % (350000) LV is 1400000.
    book = Lines()
    book.market()
    book.borrower("C1", [("BTC", "10", "0.6")], loan)
    return book.lines


@pytest.mark.parametrize(("loan", "shortfall", "calls"), [
    ("1399999.99", "0", []),  # a cent below: not short
    ("1400000", "0", []),  # D = LV exactly: not short
    ("1400000.01", "0.01", [{"client_id": "C1", "amount": "0.01", "short_before": False,
                             "due_by": "2026-03-02T10:00:12+08:00"}]),  # one cent more: short
])
def test_a_client_exactly_at_lending_value_after_the_shock_is_not_short_and_one_cent_more_is(
    store: Store, loan: str, shortfall: str, calls: list[dict[str, Any]],
) -> None:
    ingest(store, margin_book(loan))
    scenario = only(run_stress(store, shocks=[parse_shock("BTC=-30%")]))
    assert scenario["clients"] == [{
        "client_id": "C1", "lending_value_before": "2000000", "lending_value_after": "1400000",
        "debt": loan, "shortfall_before": "0", "shortfall_after": shortfall,
    }]
    assert (scenario["total_shortfall_after"], scenario["margin_calls"]) == (shortfall, calls)
    assert (scenario["shocks"], scenario["prices_after"]) == ({"BTC": "-0.3"}, {"BTC": "350000"})


def test_an_absolute_shock_sets_the_price_and_a_client_without_debt_or_lending_value_is_left_out(store: Store) -> None:
    book = Lines()
    book.market()
    book.borrower("C1", [("ETH", "100", "0.7")], "500000")
    book.client("NOBODY")
    ingest(store, book.lines)
    scenario = only(run_stress(store, shocks=[parse_shock("ETH=15000"), parse_shock("BTC=+10%")]))
    # LV after = 100 x 15000 x (1 - 0.7) = 450000 < D 500000: shortfall 50000.
    assert [(c["client_id"], c["lending_value_after"], c["shortfall_after"]) for c in scenario["clients"]] == [
        ("C1", "450000", "50000"),
    ]
    assert (scenario["shocks"], scenario["prices"]) == ({"BTC": "0.1"}, {"ETH": "15000"})
    assert scenario["concentration"]["assets"] == [
        {"asset": "ETH", "lending_value": "450000", "lending_value_share": "1", "debt_share": "1"},
    ]


def test_an_open_margin_call_meets_the_call_a_short_client_would_owe(store: Store) -> None:
    book = Lines()
    book.market()
    book.borrower("C1", [("BTC", "10", "0.6")], "1500000")
    book.send("MarginCallIssued", call_id="MC1", client_id="C1", shortfall="1",
              due_by="2026-03-02T12:00:00+08:00")
    ingest(store, book.lines)
    scenario = only(run_stress(store, shocks=[parse_shock("BTC=-30%")]))
    assert scenario["clients"][0]["shortfall_after"] == "100000"
    assert scenario["margin_calls"] == []  # reading 8: any open call meets MF-07


def perp_book(fund: str) -> list[bytes]:
    # ETH-PERP (1 ETH, 20 % / 10 %): L1 long 2 at 100 on 56 HKD of margin, S1 short 2.
    # Equity of L1 = 56 + 2 (m - 100): at ETH 20 (-80 %), -104; maintenance 2 x 20 x 0.1 = 4.
    book = Lines()
    book.market(eth="100")
    book.contract()
    book.trader("L1", "56")
    book.trader("S1", "1000000")
    book.fill("T1", "L1", "S1", "2", "100")
    if fund != "0":
        book.fund(fund)
    return book.lines


@pytest.mark.parametrize(("fund", "after", "shared"), [
    ("0", "0", "104"), ("100", "0", "4"), ("104", "0", "0"), ("500", "396", "0"),
])
def test_the_insurance_fund_covers_losses_beyond_margin_first_and_loss_sharing_takes_the_rest(
    store: Store, fund: str, after: str, shared: str,
) -> None:
    ingest(store, perp_book(fund))
    scenario = only(run_stress(store, shocks=[parse_shock("ETH=-80%")]))
    assert scenario["perp_positions"][0] == {
        "client_id": "L1", "contracts": {"ETH-PERP": "2"},
        "equity_before": "56", "equity_after": "-104", "maintenance_before": "20", "maintenance_after": "4",
        "below_maintenance_before": False, "liquidated": True, "loss_beyond_margin": "104",
    }
    assert scenario["perp_positions"][1]["liquidated"] is False
    assert (scenario["liquidations"], scenario["insurance_fund_before"], scenario["insurance_fund_after"],
            scenario["loss_sharing"]) == (1, fund, after, shared)


@pytest.mark.parametrize(("eth", "liquidated"), [("80", False), ("79.99", True)])
def test_a_position_exactly_at_maintenance_is_not_liquidated_and_one_cent_below_is(
    store: Store, eth: str, liquidated: bool,
) -> None:
    ingest(store, perp_book("0"))  # L1 below maintenance exactly when m < 80
    scenario = only(run_stress(store, shocks=[parse_shock(f"ETH={eth}")]))
    assert scenario["perp_positions"][0]["liquidated"] is liquidated
    assert scenario["loss_beyond_margin"] == "0"


def test_stress_writes_nothing_and_leaves_the_replayed_state_as_it_was(store: Store) -> None:
    book = Lines()
    book.market(eth="100")
    book.borrower("C1", [("BTC", "10", "0.6")], "1400000.01")
    book.contract()
    book.trader("L1", "56")
    book.trader("S1", "1000000")
    book.fill("T1", "L1", "S1", "2", "100")
    ingest(store, book.lines)
    tip, findings = store.tip(), store.findings(FindingFilter())
    state = replay(store)
    digest = state.engine.state_digest()
    stress(state, ladder("BTC") + ladder("ETH"))
    assert state.engine.state_digest() == digest
    assert (store.tip(), store.findings(FindingFilter())) == (tip, findings)


def test_a_ladder_runs_ten_to_sixty_per_cent_and_the_worst_one_day_move_seen(store: Store) -> None:
    book = Lines()
    book.market()
    book.borrower("C1", [("BTC", "10", "0.6")], "1000000")
    book.now = book.now.replace(day=3)
    book.send("PriceObserved", asset="BTC", price="447000", price_source="feed")  # -10.6 % close to close
    book.now = book.now.replace(day=4)
    book.send("PriceObserved", asset="BTC", price="490359", price_source="feed")  # +9.7 %
    ingest(store, book.lines)
    result = run_stress(store, ladders=["BTC"])
    assert [s["shocks"] for s in result["scenarios"]] == [
        {"BTC": "-0.1"}, {"BTC": "-0.2"}, {"BTC": "-0.3"}, {"BTC": "-0.4"}, {"BTC": "-0.5"}, {"BTC": "-0.6"},
        {"BTC": "-0.106"},
    ]
    assert result["scenarios"][-1]["label"] == "BTC -10.6% (worst 1-day move, 2026-03-03)"
    # BTC at 490359 x 0.5 = 245179.5: LV = 10 x 245179.5 x 0.4 = 980718, short by 19282.
    assert result["scenarios"][4]["total_shortfall_after"] == "19282"


@pytest.mark.parametrize(("text", "reason"), [
    ("BTC", "write ASSET=-30%"), ("BTC=-100%", "100 %"), ("BTC=0", "positive"),
    ("HKD=-10%", "unit of account"), ("btc=-10%", "write ASSET"), ("BTC=ten%", "neither a percentage"),
])
def test_a_shock_that_makes_no_sense_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        parse_shock(text)


@pytest.mark.parametrize(("asset", "reason"), [("HKD", "unit of account"), ("btc", "not an asset symbol")])
def test_a_ladder_of_no_asset_is_refused(asset: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        ladder(asset)


def test_a_price_path_reports_its_worst_point(store: Store) -> None:
    ingest(store, margin_book("1400000"))
    from projections.stress.path import parse_path

    points = parse_path(b'{"asset":"BTC","price":"400000"}\n{"asset":"BTC","price":"300000"}\n'
                        b'{"type":"PriceObserved","data":{"asset":"BTC","price":"450000","price_source":"x"}}\n')
    [worst] = run_stress(store, path=points)["scenarios"]
    # At 300000: LV = 10 x 300000 x 0.4 = 1200000, short by 200000.
    assert (worst["path"]["worst_point"], worst["total_shortfall_after"]) == (2, "200000")
    assert [p["total_shortfall"] for p in worst["path"]["totals"]] == ["0", "200000", "0"]
    assert Decimal(worst["clients"][0]["lending_value_after"]) == Decimal("1200000")


def test_the_command_keeps_the_json_shape_scripts_depend_on_and_writes_tables_and_csv(store_url: str, tmp_path: Any) -> None:
    import json

    from tests.test_cli import regledger

    source = tmp_path / "book.jsonl"
    source.write_bytes(b"\n".join(margin_book("1400000.01")) + b"\n")
    assert regledger("ingest", str(source), db=store_url).returncode == 0
    done = regledger("stress", "--shock", "BTC=-30%", "--format", "json", db=store_url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["as_of"] == "2026-03-02T09:00:12+08:00"
    [scenario] = result["scenarios"]
    assert scenario["shocks"] == {"BTC": "-0.3"}
    assert scenario["clients"] == [{
        "client_id": "C1", "lending_value_before": "2000000", "lending_value_after": "1400000",
        "debt": "1400000.01", "shortfall_before": "0", "shortfall_after": "0.01",
    }]
    assert {"total_shortfall_after", "margin_calls", "perp_positions", "insurance_fund_before",
            "insurance_fund_after", "loss_sharing"} <= set(scenario)
    table = regledger("stress", "--ladder", "BTC", db=store_url)
    assert table.returncode == 0, table.stderr
    assert "BTC -60%" in table.stdout and "1,400,000.01" not in table.stdout  # the ladder: a summary
    assert "0.01" in regledger("stress", "--shock", "BTC=-30%", db=store_url).stdout
    csv_text = regledger("stress", "--shock", "BTC=-30%", "--format", "csv", db=store_url).stdout
    assert csv_text.splitlines() == [
        "scenario,client_id,lending_value_before,lending_value_after,debt,shortfall_before,shortfall_after,margin_call",
        "BTC -30%,C1,2000000,1400000,1400000.01,0,0.01,0.01",
    ]
    refused = regledger("stress", "--shock", "BTC=-130%", db=store_url)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "a fall of 100 % or more" in refused.stderr and "Traceback" not in refused.stderr


def test_bad_lines_of_a_price_path_are_refused_together_by_line_field_and_reason() -> None:
    from projections.stress.path import parse_path

    raw = (b'{"asset":"BTC","price":"-4"}\nnot json\n{"asset":"HKD","price":"1"}\n'
           b'{"type":"VAFinancingDrawn","data":{}}\n{"asset":"BTC","price":"400000"}\n')
    with pytest.raises(InvalidRequest) as refused:
        parse_path(raw, "p.jsonl")
    assert str(refused.value) == (
        "p.jsonl line 1: price: Input should be greater than 0; p.jsonl line 2: not JSON (Expecting value); "
        "p.jsonl line 3: asset: HKD is the unit of account, its price is always 1; "
        "p.jsonl line 4: type: 'VAFinancingDrawn' is not PriceObserved"
    )
    with pytest.raises(InvalidRequest, match="no price"):
        parse_path(b"\n", "p.jsonl")


def test_totals_only_give_the_same_aggregates_as_the_full_result(store: Store) -> None:
    ingest(store, margin_book("1400000.01"))
    full = run_stress(store, shocks=[parse_shock("BTC=-30%")], ladders=["BTC"])["scenarios"]
    totals = run_stress(store, shocks=[parse_shock("BTC=-30%")], ladders=["BTC"], totals_only=True)["scenarios"]
    keys = ("label", "total_shortfall_after", "margin_call_count", "liquidations", "loss_sharing", "kind")
    assert [{k: s[k] for k in keys} for s in totals] == [{k: s[k] for k in keys} for s in full]
    assert "clients" not in totals[0]
    with pytest.raises(InvalidRequest, match="leave out --totals"):
        run_stress(store, path=[("BTC", Decimal(1))], totals_only=True)

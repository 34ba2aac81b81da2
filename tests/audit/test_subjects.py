"""Which subjects an event concerns (pure): the ids it names and their owners."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.cases import CaseFact
from projections.audit.subjects import Concerns, EntityKey, Owners, case_concerns, concerns

OWNERS: dict[EntityKey, Owners] = {
    ("order", "O1"): ("C1", "BTC-PERP"),
    ("order", "O2"): ("C2", "BTC-PERP"),
    ("trade", "T1"): ("C1", "BTC-PERP", "C2"),
    ("pledge", "P1"): ("C1",),
    ("account", "A9"): ("C9",),
}


def of(event_type: str, data: dict[str, object]) -> Concerns:
    return concerns(event_type, data, lambda key: OWNERS.get(key, ()))


def test_a_trade_concerns_both_orders_their_clients_and_the_contract_and_records_its_owners() -> None:
    found = of("PerpTradeExecuted", {
        "trade_id": "T1", "contract_id": "BTC-PERP", "buy_order_id": "O1", "sell_order_id": "O2",
        "quantity": "1", "price": "500000",
    })
    assert found == Concerns(
        {"T1", "BTC-PERP", "O1", "O2", "C1", "C2"}, {("trade", "T1"): ("C1", "BTC-PERP", "C2")},
    )


def test_a_settlement_naming_only_the_trade_concerns_both_sides() -> None:
    assert of("PerpTradeSettled", {"trade_id": "T1", "settled_by": "platform"}) == Concerns(
        {"T1", "C1", "BTC-PERP", "C2"}, {},
    )


def test_a_release_naming_only_the_pledge_concerns_its_client() -> None:
    assert of("CollateralReleased", {"pledge_id": "P1", "quantity": "1"}) == Concerns({"P1", "C1"}, {})


def test_a_drawdown_on_another_clients_account_concerns_both_clients() -> None:
    found = of("VAFinancingDrawn", {
        "loan_id": "L1", "client_id": "C1", "account_id": "A9", "amount": "1", "purpose_asset": "BTC",
    })
    assert found == Concerns({"L1", "C1", "A9", "C9", "BTC"}, {("loan", "L1"): ("C1",)})


def test_an_order_belongs_to_its_client_and_contract() -> None:
    found = of("PerpOrderPlaced", {
        "order_id": "O3", "client_id": "C3", "contract_id": "ETH-PERP", "side": "buy",
        "quantity": "1", "limit_price": None, "market_maker": False,
    })
    assert found == Concerns({"O3", "C3", "ETH-PERP"}, {("order", "O3"): ("C3", "ETH-PERP")})
    assert of("PerpOrderCancelled", {"order_id": "O1"}) == Concerns({"O1", "C1", "BTC-PERP"}, {})


def test_rule_ids_actors_and_market_makers_are_subjects_too() -> None:
    assert of("RuleParameterAmended", {
        "rule_id": "MF-05", "parameter": "min_haircut", "value": "0.7",
        "effective_from": "2026-03-03T00:00:00+08:00", "notice_ref": "26EC9",
    }).subjects == {"MF-05"}
    assert of("DataAccessed", {
        "actor_id": "trader-7", "actor_entity": "MM-A", "dataset": "client_orders", "record_count": 5,
    }).subjects == {"trader-7", "MM-A"}
    assert of("DataAccessed", {
        "actor_id": "ops-1", "actor_entity": "platform", "dataset": "market_data", "record_count": 5,
    }).subjects == {"ops-1"}
    assert of("ClientOnboarded", {
        "client_id": "MMA-1", "client_type": "corporation", "investor_class": "professional",
        "pi_assessment": None, "market_maker_id": "MM-A",
    }).subjects == {"MMA-1", "MM-A"}


def test_a_case_action_concerns_its_finding_its_actor_and_the_assignee() -> None:
    fact = CaseFact("CaseAssigned", "F-1", "alice", datetime(2026, 3, 3, tzinfo=UTC), {"assignee": "bob"})
    assert case_concerns(fact) == {"F-1", "alice", "bob"}

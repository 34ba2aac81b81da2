"""The registry: every rejection of events.md "Rejections" beside its accepted boundary."""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.errors import EventRejected, StoreCorrupted
from domain.events import Envelope, parse_event, parse_line
from domain.parameters import coerce_parameter
from domain.registry import EntityKey, ParameterType, Registry

SCENARIOS = sorted((Path(__file__).parents[1] / "fixtures" / "scenarios").glob("*.jsonl"))
CATALOGUE: dict[str, dict[str, ParameterType]] = {
    "MF-05": {"min_haircut": "rate"},
    "MF-04": {"eligible_assets": "asset_list"},
    "MF-07": {"margin_call_within_minutes": "positive_int"},
    "PI-02": {"individual_portfolio": "decimal"},
}
TYPE_WORDS = {
    "rate": "a rate",
    "decimal": "a decimal",
    "positive_int": "a whole number greater than 0",
    "asset_list": "a list of asset symbols",
}
_event_ids = itertools.count(1)


def event(event_type: str, **data: Any) -> Envelope:
    return parse_event(
        {
            "event_id": f"t-{next(_event_ids)}",
            "type": event_type,
            "occurred_at": "2026-03-02T09:00:00+08:00",
            "data": data,
        }
    )


class Ledger:
    """A registry over a dict standing in for the store, counting the loader's calls."""

    def __init__(self) -> None:
        self.store: dict[EntityKey, str] = {}
        self.loads: list[list[EntityKey]] = []
        self.registry = Registry(self.load, CATALOGUE)

    def load(self, keys: Collection[EntityKey]) -> Mapping[EntityKey, str]:
        self.loads.append(list(keys))
        return {key: self.store[key] for key in keys if key in self.store}

    def accept(self, event_type: str, **data: Any) -> None:
        self.registry.accept(event(event_type, **data))

    def reject(self, event_type: str, **data: Any) -> list[str]:
        with pytest.raises(EventRejected) as caught:
            self.registry.accept(event(event_type, **data))
        return [str(reason) for reason in caught.value.reasons]

    def commit(self) -> None:
        for kind, natural_id, text in self.registry.drain_changes():
            self.store[(kind, natural_id)] = text

    def record(self, kind: str, natural_id: str) -> dict[str, Any]:
        self.commit()
        record: dict[str, Any] = json.loads(self.store[(kind, natural_id)])
        return record


@pytest.fixture
def ledger() -> Ledger:
    """Assets, two clients with an account each, a pledge, a loan, a call, two contracts,
    a market maker, margin deposited by C1 and a resting buy order of C1 and sell order of C2.
    """
    ledger = Ledger()
    for asset in ("HKD", "USD", "BTC", "ETH"):
        ledger.accept("AssetListed", asset=asset, asset_kind="fiat")
    ledger.accept(
        "MarketMakerRegistered",
        mm_id="MM-A",
        legal_entity="Liquidity Ltd",
        affiliate=True,
        controls=CONTROLS,
    )
    for client, account in (("C1", "A1"), ("C2", "A2")):
        ledger.accept(
            "ClientOnboarded",
            client_id=client,
            client_type="individual",
            investor_class="professional",
        )
        ledger.accept(
            "SecuritiesMarginAccountOpened",
            client_id=client,
            account_id=account,
            credit_limit="1000000",
        )
    ledger.accept(
        "CollateralPledged",
        pledge_id="P1",
        client_id="C1",
        asset="BTC",
        quantity="10",
        haircut="0.6",
    )
    ledger.accept(
        "VAFinancingDrawn",
        loan_id="L1",
        client_id="C1",
        account_id="A1",
        amount="1000",
        purpose_asset="BTC",
    )
    ledger.accept(
        "MarginCallIssued",
        call_id="MC1",
        client_id="C1",
        shortfall="100",
        due_by="2026-03-02T11:00:00+08:00",
    )
    for contract in ("BTC-PERP", "ETH-PERP"):
        ledger.accept(
            "PerpContractListed",
            contract_id=contract,
            reference_asset="BTC",
            settlement_asset="HKD",
            contract_size="1",
            initial_margin_rate="0.1",
            maintenance_margin_rate="0.05",
        )
    ledger.accept(
        "PerpMarginDeposited",
        deposit_id="D1",
        client_id="C1",
        asset="HKD",
        amount="500",
        funding_source="client_funds",
    )
    place(ledger, "B1", "C1", "buy", "5")
    place(ledger, "S1", "C2", "sell", "5")
    return ledger


def place(
    ledger: Ledger,
    order_id: str,
    client_id: str,
    side: str,
    quantity: str,
    contract_id: str = "BTC-PERP",
) -> None:
    ledger.accept(
        "PerpOrderPlaced",
        order_id=order_id,
        client_id=client_id,
        contract_id=contract_id,
        side=side,
        quantity=quantity,
        limit_price="100",
        market_maker=False,
    )


def trade(
    ledger: Ledger, trade_id: str, buy: str, sell: str, quantity: str, contract_id: str = "BTC-PERP"
) -> dict[str, Any]:
    return {
        "trade_id": trade_id,
        "contract_id": contract_id,
        "buy_order_id": buy,
        "sell_order_id": sell,
        "quantity": quantity,
        "price": "100",
    }


# An id that would create an entity that already exists

CONTROLS = dict.fromkeys(
    ("information_barrier", "functional_independence", "conflict_monitoring", "client_priority"),
    True,
)


def case(event_type: str, reason: str, /, **data: Any) -> Any:
    """One parametrised case: the event, and the one reason it must be rejected with."""
    return pytest.param(event_type, data, reason, id=f"{event_type}-{reason.split(':')[0]}")


CREATIONS = [
    case(
        "AssetListed",
        "data.asset: asset 'BTC' is already listed (use AssetStatusChanged)",
        asset="BTC",
        asset_kind="virtual_asset",
    ),
    case(
        "ClientOnboarded",
        "data.client_id: client 'C1' already exists",
        client_id="C1",
        client_type="individual",
        investor_class="retail",
    ),
    case(
        "SecuritiesMarginAccountOpened",
        "data.account_id: securities margin account 'A1' already exists",
        client_id="C2",
        account_id="A1",
        credit_limit="1",
    ),
    case(
        "CollateralPledged",
        "data.pledge_id: pledge 'P1' already exists",
        pledge_id="P1",
        client_id="C1",
        asset="BTC",
        quantity="1",
        haircut="0.6",
    ),
    case(
        "VAFinancingDrawn",
        "data.loan_id: loan 'L1' already exists",
        loan_id="L1",
        client_id="C1",
        account_id="A1",
        amount="1",
        purpose_asset="BTC",
    ),
    case(
        "MarginCallIssued",
        "data.call_id: margin call 'MC1' already exists",
        call_id="MC1",
        client_id="C1",
        shortfall="1",
        due_by="2026-03-02T11:00:00+08:00",
    ),
    case(
        "PerpContractListed",
        "data.contract_id: contract 'BTC-PERP' already exists",
        contract_id="BTC-PERP",
        reference_asset="BTC",
        settlement_asset="HKD",
        contract_size="1",
        initial_margin_rate="0.1",
        maintenance_margin_rate="0.05",
    ),
    case(
        "PerpMarginDeposited",
        "data.deposit_id: deposit 'D1' already exists",
        deposit_id="D1",
        client_id="C1",
        asset="HKD",
        amount="1",
        funding_source="client_funds",
    ),
    case(
        "PerpOrderPlaced",
        "data.order_id: order 'B1' already exists",
        order_id="B1",
        client_id="C1",
        contract_id="BTC-PERP",
        side="buy",
        quantity="1",
        limit_price=None,
        market_maker=False,
    ),
    case(
        "PerpTradeExecuted",
        "data.trade_id: trade 'T1' already exists",
        trade_id="T1",
        contract_id="BTC-PERP",
        buy_order_id="B1",
        sell_order_id="S1",
        quantity="1",
        price="100",
    ),
    case(
        "MarketMakerRegistered",
        "data.mm_id: market maker 'MM-A' already exists",
        mm_id="MM-A",
        legal_entity="Other Ltd",
        affiliate=False,
        controls=CONTROLS,
    ),
]


@pytest.mark.parametrize(("event_type", "data", "reason"), CREATIONS)
def test_an_id_that_already_exists_is_rejected_for_each_creating_type(
    ledger: Ledger, event_type: str, data: dict[str, Any], reason: str
) -> None:
    if event_type == "PerpTradeExecuted":
        ledger.accept(event_type, **data)
        place(ledger, "B2", "C1", "buy", "1")
        place(ledger, "S2", "C2", "sell", "1")
        data = {**data, "buy_order_id": "B2", "sell_order_id": "S2"}

    assert ledger.reject(event_type, **data) == [reason]


@pytest.mark.parametrize(("event_type", "data", "reason"), CREATIONS)
def test_a_new_id_is_accepted_for_each_creating_type(
    ledger: Ledger, event_type: str, data: dict[str, Any], reason: str
) -> None:
    field = reason.split(":")[0].removeprefix("data.")
    ledger.accept(event_type, **{**data, field: "NEW"})


# A reference to something that does not exist

C9 = "data.client_id: unknown client 'C9'"
XRP = "data.asset: unknown asset 'XRP'"
A9 = "data.account_id: unknown securities margin account 'A9'"
K9 = "data.contract_id: unknown contract 'K9'"
P9 = "data.pledge_id: unknown pledge 'P9'"
DUE = "2026-03-02T11:00:00+08:00"

UNKNOWN = [
    case("AssetStatusChanged", XRP, asset="XRP", iosco_compliant=True),
    case("PriceObserved", XRP, asset="XRP", price="1", price_source="feed"),
    case(
        "ClientOnboarded",
        "data.market_maker_id: unknown market maker 'MM-Z'",
        client_id="C3",
        client_type="corporation",
        investor_class="professional",
        market_maker_id="MM-Z",
    ),
    case("ClientReclassified", C9, client_id="C9", investor_class="retail"),
    case("SecuritiesMarginAccountOpened", C9, client_id="C9", account_id="A9", credit_limit="1"),
    case(
        "CreditLimitChanged",
        A9,
        client_id="C1",
        account_id="A9",
        credit_limit="1",
        reason="other",
    ),
    case("SecuritiesMarginAccountClosed", A9, client_id="C1", account_id="A9"),
    case(
        "SecuritiesMarginPositionReported",
        C9,
        client_id="C9",
        account_id="A1",
        marginable_value="0",
        loan_balance="0",
    ),
    case("DerivativesKnowledgeAssessed", C9, client_id="C9", has_knowledge=True, basis="work"),
    case("RiskDisclosureAcknowledged", C9, client_id="C9", product="perpetuals", version="1"),
    case(
        "CollateralPledged",
        C9,
        pledge_id="P9",
        client_id="C9",
        asset="BTC",
        quantity="1",
        haircut="0.6",
    ),
    case(
        "CollateralPledged",
        XRP,
        pledge_id="P9",
        client_id="C1",
        asset="XRP",
        quantity="1",
        haircut="0.6",
    ),
    case("CollateralHaircutChanged", P9, pledge_id="P9", haircut="0.7"),
    case("CollateralReleased", P9, pledge_id="P9", quantity="1"),
    case(
        "CollateralTransferred",
        P9,
        pledge_id="P9",
        quantity="1",
        destination_kind="liquidation",
        destination="otc",
        purpose="default",
    ),
    case(
        "VAFinancingDrawn",
        A9,
        loan_id="L9",
        client_id="C1",
        account_id="A9",
        amount="1",
        purpose_asset="BTC",
    ),
    case(
        "VAFinancingDrawn",
        "data.purpose_asset: unknown asset 'XRP'",
        loan_id="L9",
        client_id="C1",
        account_id="A1",
        amount="1",
        purpose_asset="XRP",
    ),
    case("VAFinancingRepaid", "data.loan_id: unknown loan 'L9'", loan_id="L9", amount="1"),
    case("MarginCallIssued", C9, call_id="MC9", client_id="C9", shortfall="1", due_by=DUE),
    case(
        "MarginCallResolved",
        "data.call_id: unknown margin call 'MC9'",
        call_id="MC9",
        resolution="repaid",
    ),
    case(
        "PerpContractListed",
        "data.reference_asset: unknown asset 'XRP'",
        contract_id="XRP-PERP",
        reference_asset="XRP",
        settlement_asset="HKD",
        contract_size="1",
        initial_margin_rate="0.1",
        maintenance_margin_rate="0.05",
    ),
    case(
        "PerpContractListed",
        "data.settlement_asset: unknown asset 'XRP'",
        contract_id="BTC-PERP2",
        reference_asset="BTC",
        settlement_asset="XRP",
        contract_size="1",
        initial_margin_rate="0.1",
        maintenance_margin_rate="0.05",
    ),
    case("PerpContractDelisted", K9, contract_id="K9"),
    case("FundingSettled", K9, contract_id="K9", funding_rate="0"),
    case(
        "PerpMarginDeposited",
        C9,
        deposit_id="D9",
        client_id="C9",
        asset="HKD",
        amount="1",
        funding_source="client_funds",
    ),
    case(
        "PerpMarginDeposited",
        XRP,
        deposit_id="D9",
        client_id="C1",
        asset="XRP",
        amount="1",
        funding_source="client_funds",
    ),
    case("PerpMarginWithdrawn", C9, client_id="C9", asset="HKD", amount="1"),
    case("PerpMarginWithdrawn", XRP, client_id="C1", asset="XRP", amount="1"),
    case(
        "PerpOrderPlaced",
        C9,
        order_id="O9",
        client_id="C9",
        contract_id="BTC-PERP",
        side="buy",
        quantity="1",
        limit_price=None,
        market_maker=False,
    ),
    case(
        "PerpOrderPlaced",
        K9,
        order_id="O9",
        client_id="C1",
        contract_id="K9",
        side="buy",
        quantity="1",
        limit_price=None,
        market_maker=False,
    ),
    case("PerpOrderCancelled", "data.order_id: unknown order 'O9'", order_id="O9"),
    case(
        "PerpTradeExecuted",
        K9,
        trade_id="T9",
        contract_id="K9",
        buy_order_id="B1",
        sell_order_id="S1",
        quantity="1",
        price="1",
    ),
    case(
        "PerpTradeExecuted",
        "data.buy_order_id: unknown order 'O9'",
        trade_id="T9",
        contract_id="BTC-PERP",
        buy_order_id="O9",
        sell_order_id="S1",
        quantity="1",
        price="1",
    ),
    case(
        "PerpTradeExecuted",
        "data.sell_order_id: unknown order 'O9'",
        trade_id="T9",
        contract_id="BTC-PERP",
        buy_order_id="B1",
        sell_order_id="O9",
        quantity="1",
        price="1",
    ),
    case(
        "PerpTradeSettled",
        "data.trade_id: unknown trade 'T9'",
        trade_id="T9",
        settled_by="platform",
    ),
    case("PositionLiquidated", C9, client_id="C9", contract_id="BTC-PERP", quantity="1", price="1"),
    case("PositionLiquidated", K9, client_id="C1", contract_id="K9", quantity="1", price="1"),
    case("LossAllocated", K9, contract_id="K9", amount="1", method="insurance_fund"),
    case(
        "MarketMakerControlsChanged",
        "data.mm_id: unknown market maker 'MM-Z'",
        mm_id="MM-Z",
        controls=CONTROLS,
    ),
    case(
        "DataAccessed",
        "data.actor_entity: unknown market maker 'MM-Z'",
        actor_id="trader-7",
        actor_entity="MM-Z",
        dataset="market_data",
        record_count=1,
    ),
]


@pytest.mark.parametrize(("event_type", "data", "reason"), UNKNOWN)
def test_a_reference_to_something_that_does_not_exist_is_rejected(
    ledger: Ledger, event_type: str, data: dict[str, Any], reason: str
) -> None:
    assert ledger.reject(event_type, **data) == [reason]


def test_every_unknown_reference_of_one_event_gets_a_reason(ledger: Ledger) -> None:
    assert ledger.reject(
        "VAFinancingDrawn",
        loan_id="L9",
        client_id="C9",
        account_id="A9",
        amount="1",
        purpose_asset="XRP",
    ) == [
        "data.client_id: unknown client 'C9'",
        "data.account_id: unknown securities margin account 'A9'",
        "data.purpose_asset: unknown asset 'XRP'",
    ]


def test_a_client_of_a_registered_market_maker_is_accepted(ledger: Ledger) -> None:
    ledger.accept(
        "ClientOnboarded",
        client_id="C3",
        client_type="corporation",
        investor_class="professional",
        market_maker_id="MM-A",
    )


def test_data_accessed_by_the_platform_names_no_market_maker(ledger: Ledger) -> None:
    ledger.accept(
        "DataAccessed",
        actor_id="ops-1",
        actor_entity="platform",
        dataset="client_identities",
        record_count=0,
    )


def test_data_accessed_by_a_registered_market_maker_is_accepted(ledger: Ledger) -> None:
    ledger.accept(
        "DataAccessed",
        actor_id="trader-7",
        actor_entity="MM-A",
        dataset="client_orders",
        record_count=12,
    )


def test_a_rejected_event_carries_its_event_id(ledger: Ledger) -> None:
    envelope = event("PerpOrderCancelled", order_id="O9")
    with pytest.raises(EventRejected) as caught:
        ledger.registry.check(envelope)
    assert caught.value.event_id == envelope.event_id


# An account of another client

OWNED = [
    ("CreditLimitChanged", {"credit_limit": "5", "reason": "periodic_review"}),
    ("SecuritiesMarginPositionReported", {"marginable_value": "10", "loan_balance": "5"}),
    ("SecuritiesMarginAccountClosed", {}),
]


@pytest.mark.parametrize(("event_type", "data"), OWNED, ids=[c[0] for c in OWNED])
def test_an_account_of_another_client_is_rejected(
    ledger: Ledger, event_type: str, data: dict[str, Any]
) -> None:
    assert ledger.reject(event_type, client_id="C2", account_id="A1", **data) == [
        "data.account_id: account 'A1' belongs to client 'C1', not 'C2'"
    ]


@pytest.mark.parametrize(("event_type", "data"), OWNED, ids=[c[0] for c in OWNED])
def test_the_client_s_own_account_is_accepted(
    ledger: Ledger, event_type: str, data: dict[str, Any]
) -> None:
    ledger.accept(event_type, client_id="C1", account_id="A1", **data)


def test_financing_drawn_on_a_closed_account_or_another_client_s_is_accepted(
    ledger: Ledger,
) -> None:
    ledger.accept("SecuritiesMarginAccountClosed", client_id="C2", account_id="A2")

    ledger.accept(
        "VAFinancingDrawn",
        loan_id="L2",
        client_id="C1",
        account_id="A2",
        amount="1",
        purpose_asset="ETH",
    )


# Impossible state changes


def test_closing_an_account_already_closed_is_rejected(ledger: Ledger) -> None:
    ledger.accept("SecuritiesMarginAccountClosed", client_id="C1", account_id="A1")

    assert ledger.reject("SecuritiesMarginAccountClosed", client_id="C1", account_id="A1") == [
        "data.account_id: account 'A1' is already closed"
    ]


def test_an_order_on_a_delisted_contract_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpContractDelisted", contract_id="ETH-PERP")

    assert ledger.reject(
        "PerpOrderPlaced",
        order_id="O9",
        client_id="C1",
        contract_id="ETH-PERP",
        side="buy",
        quantity="1",
        limit_price=None,
        market_maker=False,
    ) == ["data.contract_id: contract 'ETH-PERP' is delisted"]


def test_an_order_on_a_listed_contract_is_accepted(ledger: Ledger) -> None:
    place(ledger, "O9", "C1", "buy", "1", contract_id="ETH-PERP")


def test_cancelling_an_order_once_is_accepted_and_twice_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpOrderCancelled", order_id="B1")

    assert ledger.reject("PerpOrderCancelled", order_id="B1") == [
        "data.order_id: order 'B1' is already cancelled"
    ]


def test_a_trade_whose_buy_order_is_a_sell_order_is_rejected(ledger: Ledger) -> None:
    place(ledger, "S2", "C1", "sell", "5")

    assert ledger.reject("PerpTradeExecuted", **trade(ledger, "T9", "S2", "S1", "1")) == [
        "data.buy_order_id: order 'S2' is a sell order, not a buy order"
    ]


def test_a_trade_whose_sell_order_is_a_buy_order_is_rejected(ledger: Ledger) -> None:
    place(ledger, "B2", "C2", "buy", "5")

    assert ledger.reject("PerpTradeExecuted", **trade(ledger, "T9", "B1", "B2", "1")) == [
        "data.sell_order_id: order 'B2' is a buy order, not a sell order"
    ]


def test_a_trade_whose_orders_are_on_another_contract_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject(
        "PerpTradeExecuted", **trade(ledger, "T9", "B1", "S1", "1", contract_id="ETH-PERP")
    ) == [
        "data.buy_order_id: order 'B1' is on contract 'BTC-PERP', not 'ETH-PERP'",
        "data.sell_order_id: order 'S1' is on contract 'BTC-PERP', not 'ETH-PERP'",
    ]


def test_a_trade_of_exactly_both_orders_unfilled_quantity_is_accepted(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "5"))

    assert ledger.record("order", "B1")["filled"] == "5"
    assert ledger.record("order", "S1")["filled"] == "5"


def test_a_trade_larger_than_the_buy_order_s_unfilled_quantity_is_rejected(ledger: Ledger) -> None:
    place(ledger, "S2", "C2", "sell", "10")

    assert ledger.reject("PerpTradeExecuted", **trade(ledger, "T9", "B1", "S2", "6")) == [
        "data.buy_order_id: 6 exceeds the unfilled quantity 5 of order 'B1'"
    ]


def test_a_trade_larger_than_the_sell_order_s_unfilled_quantity_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "3"))
    place(ledger, "B2", "C1", "buy", "10")

    assert ledger.reject("PerpTradeExecuted", **trade(ledger, "T2", "B2", "S1", "2.5")) == [
        "data.sell_order_id: 2.5 exceeds the unfilled quantity 2 of order 'S1'"
    ]
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T2", "B2", "S1", "2"))


def test_a_trade_against_a_cancelled_order_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "2"))
    ledger.accept("PerpOrderCancelled", order_id="S1")
    place(ledger, "B2", "C1", "buy", "1")

    assert ledger.reject("PerpTradeExecuted", **trade(ledger, "T2", "B2", "S1", "1")) == [
        "data.sell_order_id: 1 exceeds the unfilled quantity 0 of order 'S1' (cancelled)"
    ]


def test_a_trade_moves_the_buyer_s_position_up_and_the_seller_s_down(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "2"))

    assert ledger.record("client", "C1")["positions"] == {"BTC-PERP": "2"}
    assert ledger.record("client", "C2")["positions"] == {"BTC-PERP": "-2"}


def test_a_self_trade_fills_both_orders_and_leaves_the_position_unchanged(ledger: Ledger) -> None:
    place(ledger, "S2", "C1", "sell", "5")

    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S2", "4"))

    assert ledger.record("order", "B1")["filled"] == "4"
    assert ledger.record("order", "S2")["filled"] == "4"
    assert Decimal(ledger.record("client", "C1")["positions"]["BTC-PERP"]) == 0


def test_settling_a_trade_once_is_accepted_and_twice_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "1"))
    ledger.accept("PerpTradeSettled", trade_id="T1", settled_by="platform")

    assert ledger.reject("PerpTradeSettled", trade_id="T1", settled_by="platform") == [
        "data.trade_id: trade 'T1' is already settled"
    ]


def test_resolving_a_margin_call_once_is_accepted_and_twice_is_rejected(ledger: Ledger) -> None:
    ledger.accept("MarginCallResolved", call_id="MC1", resolution="topped_up")

    assert ledger.reject("MarginCallResolved", call_id="MC1", resolution="withdrawn") == [
        "data.call_id: margin call 'MC1' is already resolved"
    ]


def test_release_of_exactly_the_open_quantity_is_accepted(ledger: Ledger) -> None:
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="10")

    assert ledger.record("pledge", "P1")["open_quantity"] == "0"


def test_release_of_one_unit_more_than_the_open_quantity_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject("CollateralReleased", pledge_id="P1", quantity="11") == [
        "data.quantity: 11 exceeds the pledge's open quantity 10"
    ]


def test_releases_and_transfers_out_reduce_the_open_quantity(ledger: Ledger) -> None:
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="2")
    for kind in ("liquidation", "broker_house", "third_party"):
        ledger.accept(
            "CollateralTransferred",
            pledge_id="P1",
            quantity="1",
            destination_kind=kind,
            destination="w",
            purpose="p",
        )

    assert ledger.reject("CollateralReleased", pledge_id="P1", quantity="5.000001") == [
        "data.quantity: 5.000001 exceeds the pledge's open quantity 5"
    ]


def test_a_transfer_to_segregated_custody_keeps_the_open_quantity(ledger: Ledger) -> None:
    ledger.accept(
        "CollateralTransferred",
        pledge_id="P1",
        quantity="10",
        destination_kind="segregated_custody",
        destination="w2",
        purpose="rotation",
    )

    ledger.accept("CollateralReleased", pledge_id="P1", quantity="10")


@pytest.mark.parametrize(
    "kind", ["segregated_custody", "liquidation", "broker_house", "third_party"]
)
def test_a_transfer_larger_than_the_open_quantity_is_rejected(ledger: Ledger, kind: str) -> None:
    assert ledger.reject(
        "CollateralTransferred",
        pledge_id="P1",
        quantity="10.5",
        destination_kind=kind,
        destination="w",
        purpose="p",
    ) == ["data.quantity: 10.5 exceeds the pledge's open quantity 10"]


def test_a_liquidation_transfer_of_exactly_the_open_quantity_is_accepted(ledger: Ledger) -> None:
    ledger.accept(
        "CollateralTransferred",
        pledge_id="P1",
        quantity="10",
        destination_kind="liquidation",
        destination="otc",
        purpose="default",
    )

    assert ledger.record("pledge", "P1")["open_quantity"] == "0"


def test_repaying_exactly_the_outstanding_amount_is_accepted(ledger: Ledger) -> None:
    ledger.accept("VAFinancingRepaid", loan_id="L1", amount="400")
    ledger.accept("VAFinancingRepaid", loan_id="L1", amount="600")

    assert ledger.record("loan", "L1")["outstanding"] == "0"


def test_repaying_more_than_the_outstanding_amount_is_rejected(ledger: Ledger) -> None:
    ledger.accept("VAFinancingRepaid", loan_id="L1", amount="400")

    assert ledger.reject("VAFinancingRepaid", loan_id="L1", amount="601") == [
        "data.amount: 601 exceeds the loan's outstanding amount 600"
    ]


def test_withdrawing_exactly_what_is_deposited_is_accepted(ledger: Ledger) -> None:
    ledger.accept("PerpMarginWithdrawn", client_id="C1", asset="HKD", amount="500")

    assert ledger.record("client", "C1")["margin"] == {"HKD": "0"}


def test_withdrawing_more_than_is_deposited_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject("PerpMarginWithdrawn", client_id="C1", asset="HKD", amount="500.01") == [
        "data.amount: 500.01 exceeds the 500 HKD deposited and not withdrawn"
    ]


def test_withdrawing_an_asset_never_deposited_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject("PerpMarginWithdrawn", client_id="C1", asset="USD", amount="1") == [
        "data.amount: 1 exceeds the 0 USD deposited and not withdrawn"
    ]


def test_a_liquidation_of_exactly_the_open_long_position_is_accepted(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "3"))

    ledger.accept(
        "PositionLiquidated", client_id="C1", contract_id="BTC-PERP", quantity="3", price="90"
    )

    assert Decimal(ledger.record("client", "C1")["positions"]["BTC-PERP"]) == 0


def test_a_liquidation_moves_a_short_position_toward_zero(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "3"))

    ledger.accept(
        "PositionLiquidated", client_id="C2", contract_id="BTC-PERP", quantity="1", price="110"
    )

    assert ledger.record("client", "C2")["positions"] == {"BTC-PERP": "-2"}


def test_a_liquidation_larger_than_the_open_position_is_rejected(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "3"))

    assert ledger.reject(
        "PositionLiquidated", client_id="C2", contract_id="BTC-PERP", quantity="4", price="110"
    ) == ["data.quantity: 4 exceeds the client's open position of 3 contracts in 'BTC-PERP'"]


def test_a_liquidation_without_a_position_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject(
        "PositionLiquidated", client_id="C1", contract_id="ETH-PERP", quantity="1", price="1"
    ) == ["data.quantity: 1 exceeds the client's open position of 0 contracts in 'ETH-PERP'"]


def test_an_existing_id_and_an_impossible_state_are_reported_together(ledger: Ledger) -> None:
    ledger.accept("PerpContractDelisted", contract_id="ETH-PERP")

    assert ledger.reject(
        "PerpOrderPlaced",
        order_id="B1",
        client_id="C1",
        contract_id="ETH-PERP",
        side="buy",
        quantity="1",
        limit_price=None,
        market_maker=False,
    ) == [
        "data.order_id: order 'B1' already exists",
        "data.contract_id: contract 'ETH-PERP' is delisted",
    ]


def test_an_unknown_reference_is_not_echoed_by_the_state_checks(ledger: Ledger) -> None:
    assert ledger.reject("PerpMarginWithdrawn", client_id="C1", asset="XRP", amount="1") == [
        "data.asset: unknown asset 'XRP'"
    ]


# Rule parameter amendments


def amend(rule_id: str, parameter: str, value: object) -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "parameter": parameter,
        "value": value,
        "effective_from": "2026-03-03T00:00:00+08:00",
        "notice_ref": "SFC notice",
    }


def test_an_amendment_of_an_unknown_rule_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject("RuleParameterAmended", **amend("MF-99", "min_haircut", "0.7")) == [
        'data.rule_id: unknown rule "MF-99"'
    ]


def test_an_amendment_of_a_parameter_the_rule_does_not_declare_is_rejected(ledger: Ledger) -> None:
    assert ledger.reject("RuleParameterAmended", **amend("MF-05", "max_haircut", "0.7")) == [
        'data.parameter: rule MF-05 has no parameter "max_haircut" (it has: min_haircut)'
    ]


@pytest.mark.parametrize(
    ("rule_id", "parameter", "value"),
    [
        ("MF-05", "min_haircut", "0.7"),
        ("MF-05", "min_haircut", 1),
        ("MF-05", "min_haircut", "0"),
        ("MF-04", "eligible_assets", ["BTC", "ETH", "SOL"]),
        ("MF-04", "eligible_assets", []),
        ("MF-07", "margin_call_within_minutes", 30),
        ("MF-07", "margin_call_within_minutes", "30"),
        ("PI-02", "individual_portfolio", "8000000.00"),
        ("PI-02", "individual_portfolio", 8000000),
    ],
)
def test_an_amendment_whose_value_fits_the_parameter_type_is_accepted(
    ledger: Ledger, rule_id: str, parameter: str, value: object
) -> None:
    ledger.accept("RuleParameterAmended", **amend(rule_id, parameter, value))


@pytest.mark.parametrize(
    ("rule_id", "parameter", "value", "reason"),
    [
        ("MF-05", "min_haircut", "1.5", "a rate must be between 0 and 1, not 1.5"),
        ("MF-05", "min_haircut", "-0.1", "a rate must be between 0 and 1, not -0.1"),
        ("MF-05", "min_haircut", True, "not true or false"),
        ("MF-05", "min_haircut", "sixty", "must be a decimal"),
        ("MF-05", "min_haircut", ["0.6"], "must be a decimal"),
        ("MF-04", "eligible_assets", "BTC", "must be a list of asset symbols"),
        ("MF-04", "eligible_assets", ["BTC", "eth"], "item 1 must be an asset symbol"),
        ("MF-07", "margin_call_within_minutes", 0, "from 1 to"),
        ("MF-07", "margin_call_within_minutes", -5, "from 1 to"),
        ("MF-07", "margin_call_within_minutes", "1.5", "must be a whole number"),
        ("MF-07", "margin_call_within_minutes", True, "must be a whole number"),
        ("PI-02", "individual_portfolio", "8m", "must be a decimal"),
    ],
)
def test_an_amendment_whose_value_does_not_fit_the_parameter_type_is_rejected(
    ledger: Ledger, rule_id: str, parameter: str, value: object, reason: str
) -> None:
    [rejection] = ledger.reject("RuleParameterAmended", **amend(rule_id, parameter, value))

    assert rejection.startswith("data.value: ")
    assert reason in rejection
    assert rejection.endswith(f"({parameter} is {TYPE_WORDS[CATALOGUE[rule_id][parameter]]})")


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("rate", "0.65", Decimal("0.65")),
        ("rate", 1, Decimal(1)),
        ("decimal", "-8000000.5", Decimal("-8000000.5")),
        ("decimal", 7, Decimal(7)),
        ("positive_int", 30, 30),
        ("positive_int", "0030", 30),
        ("asset_list", ["BTC", "ETH"], ("BTC", "ETH")),
        ("asset_list", ("HKDX",), ("HKDX",)),
    ],
)
def test_coerce_parameter_gives_the_value_rules_compute_with(
    kind: ParameterType, raw: object, value: object
) -> None:
    coerced = coerce_parameter(kind, raw)

    assert coerced == value
    assert type(coerced) is type(value)


# The registry as the storage layer drives it


def test_check_never_changes_a_record(ledger: Ledger) -> None:
    ledger.commit()
    before = dict(ledger.store)

    ledger.registry.check(event("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "5")))
    ledger.registry.check(event("CollateralReleased", pledge_id="P1", quantity="10"))

    assert ledger.registry.drain_changes() == []
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="10")
    ledger.commit()
    assert ledger.store.keys() == before.keys()


def test_drain_changes_gives_each_changed_record_once_as_exact_json(ledger: Ledger) -> None:
    ledger.commit()
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="0.10")
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="0.05")

    assert ledger.registry.drain_changes() == [
        ("pledge", "P1", '{"pledge_id":"P1","client_id":"C1","asset":"BTC","open_quantity":"9.85"}')
    ]
    assert ledger.registry.drain_changes() == []


def test_records_survive_a_round_trip_through_the_store(ledger: Ledger) -> None:
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "2"))
    ledger.commit()
    fresh = Registry(ledger.load, CATALOGUE)

    with pytest.raises(EventRejected):
        fresh.accept(
            event(
                "PositionLiquidated",
                client_id="C1",
                contract_id="BTC-PERP",
                quantity="3",
                price="1",
            )
        )
    fresh.accept(
        event("PositionLiquidated", client_id="C1", contract_id="BTC-PERP", quantity="2", price="1")
    )
    fresh.accept(event("PerpTradeSettled", trade_id="T1", settled_by="platform"))


def test_references_name_the_first_level_keys_of_an_event(ledger: Ledger) -> None:
    envelope = event("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "2"))

    assert ledger.registry.references(envelope) == {
        ("trade", "T1"),
        ("contract", "BTC-PERP"),
        ("order", "B1"),
        ("order", "S1"),
    }


def test_prefetch_loads_a_batch_in_two_calls_then_accept_needs_none(ledger: Ledger) -> None:
    ledger.commit()
    ledger.registry.clear()
    ledger.loads.clear()
    batch = [
        event("PerpTradeExecuted", **trade(ledger, "T1", "B1", "S1", "2")),
        event("CollateralReleased", pledge_id="P1", quantity="1"),
        event(
            "DataAccessed",
            actor_id="a",
            actor_entity="platform",
            dataset="market_data",
            record_count=1,
        ),
    ]

    ledger.registry.prefetch({key for e in batch for key in ledger.registry.references(e)})
    for envelope in batch:
        ledger.registry.accept(envelope)

    assert [sorted(keys) for keys in ledger.loads] == [
        sorted(
            [
                ("trade", "T1"),
                ("contract", "BTC-PERP"),
                ("order", "B1"),
                ("order", "S1"),
                ("pledge", "P1"),
            ]
        ),
        [("client", "C1"), ("client", "C2")],
    ]


def test_a_record_not_prefetched_is_loaded_lazily_one_key_at_a_time(ledger: Ledger) -> None:
    ledger.commit()
    ledger.registry.clear()
    ledger.loads.clear()

    ledger.accept("CollateralReleased", pledge_id="P1", quantity="1")

    assert ledger.loads == [[("pledge", "P1")]]


def test_a_missing_record_is_asked_for_only_once(ledger: Ledger) -> None:
    ledger.loads.clear()
    ledger.reject("PerpOrderCancelled", order_id="O9")
    ledger.reject("PerpOrderCancelled", order_id="O9")

    assert ledger.loads == [[("order", "O9")]]


def test_trim_evicts_the_least_recently_used_clean_records_and_keeps_changed_ones(
    ledger: Ledger,
) -> None:
    ledger.commit()
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="1")

    ledger.registry.trim(1)
    ledger.loads.clear()
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="1")
    ledger.accept("VAFinancingRepaid", loan_id="L1", amount="1")

    assert ledger.loads == [[("loan", "L1")]]
    assert ledger.record("pledge", "P1")["open_quantity"] == "8"


def test_clear_forgets_records_so_another_writer_s_changes_are_seen(ledger: Ledger) -> None:
    ledger.commit()
    ledger.store[("pledge", "P1")] = ledger.store[("pledge", "P1")].replace('"10"', '"2"')
    ledger.accept("CollateralReleased", pledge_id="P1", quantity="5")  # the cached view

    ledger.registry.clear()

    assert ledger.reject("CollateralReleased", pledge_id="P1", quantity="5") == [
        "data.quantity: 5 exceeds the pledge's open quantity 2"
    ]


def test_an_unreadable_stored_record_is_a_corrupted_store(ledger: Ledger) -> None:
    ledger.store[("pledge", "P7")] = '{"pledge_id": "P7"}'

    with pytest.raises(StoreCorrupted):
        ledger.accept("CollateralReleased", pledge_id="P7", quantity="1")


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_every_scenario_line_is_accepted_batch_by_batch(path: Path) -> None:
    ledger = Ledger()
    lines = path.read_text("utf-8").splitlines()
    for start in range(0, len(lines), 7):  # batches, each committed and then forgotten
        batch = [parse_line(line)[0] for line in lines[start : start + 7]]
        ledger.registry.prefetch({k for e in batch for k in ledger.registry.references(e)})
        for envelope in batch:
            ledger.registry.accept(envelope)
        ledger.commit()
        ledger.registry.trim(0)

    assert all(json.loads(text) for text in ledger.store.values())


def test_quantities_keep_every_digit_through_the_registry(ledger: Ledger) -> None:
    ledger.accept(
        "CollateralPledged",
        pledge_id="P2",
        client_id="C1",
        asset="BTC",
        quantity="1234567890123456789012345678901.123456789",
        haircut="0.6",
    )
    ledger.accept("CollateralReleased", pledge_id="P2", quantity="0.000000001")

    assert ledger.record("pledge", "P2")["open_quantity"] == (
        "1234567890123456789012345678901.123456788"
    )


def test_positions_and_loans_keep_every_digit(ledger: Ledger) -> None:
    size = "98765432109876543210987654321.5"
    place(ledger, "B2", "C1", "buy", size)
    place(ledger, "S2", "C2", "sell", size)
    ledger.accept("PerpTradeExecuted", **trade(ledger, "T2", "B2", "S2", size))
    ledger.accept("VAFinancingRepaid", loan_id="L1", amount="999.9999999999999999999999999999")

    assert ledger.record("client", "C2")["positions"] == {"BTC-PERP": f"-{size}"}
    assert ledger.record("loan", "L1")["outstanding"] == "1E-28"

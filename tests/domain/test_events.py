"""The event contract: every type parses and dumps back, every validation class rejects."""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.errors import EventRejected
from domain.events import (
    EVENT_TYPES,
    CollateralPledged,
    Envelope,
    InsuranceFundChanged,
    MarginCallIssued,
    Payload,
    PerpOrderPlaced,
    PriceObserved,
    RecordedEvent,
    RuleParameterAmended,
    VAFinancingDrawn,
    canonical_content,
    parse_event,
    parse_line,
)

P = TypeVar("P", bound=Payload)

SCENARIOS = sorted((Path(__file__).parents[1] / "fixtures" / "scenarios").glob("*.jsonl"))
T = "2026-03-02T09:00:00+08:00"
CONTROLS = {
    "information_barrier": True,
    "functional_independence": True,
    "conflict_monitoring": False,
    "client_priority": True,
}
PI = {"portfolio": "9000000", "total_assets": "40000000.50", "assessed_on": "2026-01-15"}

# One complete payload per type, written the way the models dump them, so that parse then
# dump must give back exactly this.
EXAMPLES: dict[str, dict[str, Any]] = {
    "AssetListed": {"asset": "HKDX", "asset_kind": "stablecoin", "retail_spot_approved": False,
                    "iosco_compliant": False, "hkma_licensed": True, "issuer": "HK Issuer Ltd"},
    "AssetStatusChanged": {"asset": "BTC", "retail_spot_approved": True, "iosco_compliant": None,
                           "hkma_licensed": False},
    "PriceObserved": {"asset": "BTC", "price": "447000.25", "price_source": "vatp-a"},
    "RuleParameterAmended": {"rule_id": "MF-05", "parameter": "min_haircut", "value": "0.65",
                             "effective_from": "2026-03-03T00:00:00+08:00", "notice_ref": "26EC5"},
    "ClientOnboarded": {"client_id": "C1", "client_type": "individual",
                        "investor_class": "professional", "pi_assessment": PI,
                        "market_maker_id": "MM-A"},
    "ClientReclassified": {"client_id": "C1", "investor_class": "retail", "pi_assessment": None},
    "SecuritiesMarginAccountOpened": {"client_id": "C1", "account_id": "A1",
                                      "credit_limit": "2000000"},
    "CreditLimitChanged": {"client_id": "C1", "account_id": "A1", "credit_limit": "0",
                           "reason": "va_financing"},
    "SecuritiesMarginAccountClosed": {"client_id": "C1", "account_id": "A1"},
    "SecuritiesMarginPositionReported": {"client_id": "C1", "account_id": "A1",
                                         "marginable_value": "150000.5", "loan_balance": "0"},
    "DerivativesKnowledgeAssessed": {"client_id": "C1", "has_knowledge": True,
                                     "basis": "training"},
    "RiskDisclosureAcknowledged": {"client_id": "C1", "product": "va_financing",
                                   "version": "2026.1"},
    "CollateralPledged": {"pledge_id": "P1", "client_id": "C1", "asset": "BTC",
                          "quantity": "10.12345678", "haircut": "0.6"},
    "CollateralHaircutChanged": {"pledge_id": "P1", "haircut": "1"},
    "CollateralReleased": {"pledge_id": "P1", "quantity": "0.5"},
    "CollateralTransferred": {"pledge_id": "P1", "quantity": "1", "destination_kind": "liquidation",
                              "destination": "otc-desk", "purpose": "cover default"},
    "VAFinancingDrawn": {"loan_id": "L1", "client_id": "C1", "account_id": "A1",
                         "amount": "1500000", "purpose_asset": "BTC"},
    "VAFinancingRepaid": {"loan_id": "L1", "amount": "100000"},
    "MarginCallIssued": {"call_id": "MC1", "client_id": "C1", "shortfall": "20000",
                         "due_by": "2026-03-02T15:15:18.250000+08:00"},
    "MarginCallResolved": {"call_id": "MC1", "resolution": "withdrawn"},
    "PerpContractListed": {"contract_id": "BTC-PERP", "reference_asset": "BTC",
                           "settlement_asset": "HKD", "contract_size": "0.01",
                           "initial_margin_rate": "0.1", "maintenance_margin_rate": "0.05"},
    "PerpContractDelisted": {"contract_id": "BTC-PERP"},
    "FundingSettled": {"contract_id": "BTC-PERP", "funding_rate": "-0.0001"},
    "PerpMarginDeposited": {"deposit_id": "D1", "client_id": "C1", "asset": "HKD",
                            "amount": "50000", "funding_source": "third_party_loan"},
    "PerpMarginWithdrawn": {"client_id": "C1", "asset": "HKD", "amount": "100"},
    "PerpOrderPlaced": {"order_id": "O1", "client_id": "C1", "contract_id": "BTC-PERP",
                        "side": "sell", "quantity": "3", "limit_price": None, "market_maker": True},
    "PerpOrderCancelled": {"order_id": "O1"},
    "PerpTradeExecuted": {"trade_id": "T1", "contract_id": "BTC-PERP", "buy_order_id": "O2",
                          "sell_order_id": "O1", "quantity": "2", "price": "500000"},
    "PerpTradeSettled": {"trade_id": "T1", "settled_by": "counterparty"},
    "PositionLiquidated": {"client_id": "C1", "contract_id": "BTC-PERP", "quantity": "1",
                           "price": "480000"},
    "InsuranceFundChanged": {"delta": "-2500.75", "reason": "covered a liquidation loss"},
    "LossAllocated": {"contract_id": "BTC-PERP", "amount": "1000", "method": "socialised"},
    "MarketMakerRegistered": {"mm_id": "MM-A", "legal_entity": "Platform Liquidity Ltd",
                              "affiliate": True, "controls": CONTROLS},
    "MarketMakerControlsChanged": {"mm_id": "MM-A", "controls": CONTROLS},
    "DataAccessed": {"actor_id": "trader-7", "actor_entity": "MM-A", "dataset": "client_orders",
                     "record_count": 120},
}  # fmt: skip


def envelope_of(event_type: object, data: object, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": "e-1",
        "type": event_type,
        "occurred_at": T,
        "source": "tests",
        "data": data,
        **fields,
    }


def line_of(event_type: str, **changes: Any) -> str:
    return json.dumps(envelope_of(event_type, {**EXAMPLES[event_type], **changes}))


def payload(line: str, model: type[P]) -> P:
    envelope, _ = parse_line(line)
    assert isinstance(envelope.data, model)
    return envelope.data


def rejection(line: str | bytes) -> EventRejected:
    with pytest.raises(EventRejected) as caught:
        parse_line(line)
    return caught.value


def reasons(line: str | bytes) -> dict[str, str]:
    return {reason.field: reason.reason for reason in rejection(line).reasons}


# Round trips


def test_the_examples_cover_every_event_type_of_the_contract() -> None:
    assert EXAMPLES.keys() == EVENT_TYPES.keys()
    assert len(EVENT_TYPES) == 35
    assert all(model.__name__ == name for name, model in EVENT_TYPES.items())


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_every_event_type_round_trips_through_its_model(event_type: str) -> None:
    sent = envelope_of(event_type, EXAMPLES[event_type])

    envelope, raw = parse_line(json.dumps(sent))

    assert type(envelope.data) is EVENT_TYPES[event_type]
    assert envelope.model_dump(mode="json") == sent
    assert raw == sent


def test_every_line_of_the_scenarios_parses() -> None:
    lines = [line for path in SCENARIOS for line in path.read_text("utf-8").splitlines()]

    assert len([parse_line(line) for line in lines]) == 117


def test_a_decimal_keeps_its_exact_value_and_writing() -> None:
    price = "0.10000000000000000000000001"
    observed = payload(line_of("PriceObserved", price=price), PriceObserved)

    assert observed.price == Decimal(price)
    assert observed.model_dump(mode="json")["price"] == price


def test_a_decimal_given_as_a_json_integer_is_accepted_exactly() -> None:
    drawn = payload(line_of("VAFinancingDrawn", amount=12345678901234567890123), VAFinancingDrawn)

    assert drawn.amount == Decimal("12345678901234567890123")
    assert drawn.model_dump(mode="json")["amount"] == "12345678901234567890123"


def test_a_decimal_with_an_exponent_is_rejected_at_ingest_but_still_decodes_when_stored() -> None:
    line = line_of("CollateralPledged", quantity="1E-8")

    assert "data.quantity" in reasons(line)
    stored, _ = parse_line(line, stored=True)
    assert isinstance(stored.data, CollateralPledged)
    assert stored.data.quantity == Decimal("0.00000001")


def test_fractional_seconds_and_the_offset_are_kept() -> None:
    line = line_of("MarginCallIssued", due_by="2026-03-02T15:15:18.123456-05:30")

    due_by = payload(line, MarginCallIssued).due_by
    assert due_by.microsecond == 123456
    assert due_by.utcoffset() == -timedelta(hours=5, minutes=30)


def test_a_utc_timestamp_written_with_z_is_the_same_instant() -> None:
    envelope, _ = parse_line(
        json.dumps(
            envelope_of(
                "PerpOrderCancelled", {"order_id": "O1"}, occurred_at="2026-03-02T01:00:00Z"
            )
        )
    )
    assert envelope.occurred_at == datetime(2026, 3, 2, 1, tzinfo=UTC)


def test_trailing_zero_nanoseconds_are_rejected_at_ingest_and_still_decode_when_stored() -> None:
    # events.md: more than six fractional digits is rejected; earlier versions stored them.
    line = json.dumps(
        envelope_of(
            "PerpOrderCancelled",
            {"order_id": "O1"},
            occurred_at="2026-03-02T09:00:00.5000000+08:00",
        )
    )
    assert "occurred_at" in reasons(line)
    envelope, _ = parse_line(line, stored=True)
    assert envelope.occurred_at.microsecond == 500000


def test_source_defaults_to_unknown() -> None:
    sent = envelope_of("PerpOrderCancelled", {"order_id": "O1"})
    del sent["source"]

    envelope = parse_event(sent)

    assert envelope.source == "unknown"


def test_asset_listed_flags_default_to_false_and_issuer_to_none() -> None:
    envelope = parse_event(
        envelope_of("AssetListed", {"asset": "BTC", "asset_kind": "virtual_asset"})
    )

    assert envelope.data.model_dump() == {
        "asset": "BTC",
        "asset_kind": "virtual_asset",
        "retail_spot_approved": False,
        "iosco_compliant": False,
        "hkma_licensed": False,
        "issuer": None,
    }


def test_parse_line_takes_utf8_bytes() -> None:
    envelope, _ = parse_line(line_of("InsuranceFundChanged", reason="Zuführung 保险").encode())

    assert isinstance(envelope.data, InsuranceFundChanged)
    assert envelope.data.reason == "Zuführung 保险"


@pytest.mark.parametrize("value", ["0.65", 30, True, ["BTC", "ETH"], []])
def test_an_amended_value_is_kept_as_sent_for_the_registry_to_fit(value: object) -> None:
    amended = payload(line_of("RuleParameterAmended", value=value), RuleParameterAmended)

    assert amended.value == (tuple(value) if isinstance(value, list) else value)


# Rejections: the line as a whole


@pytest.mark.parametrize(
    "line",
    [
        '{"event_id": "e-1", ',
        "",
        "   ",
        "not json",
        '{"a": 1} trailing',
        "{'single': 'quotes'}",
        '{"event_id": "e\x00-1"}',
        "\x00",
    ],
)
def test_a_line_that_is_not_json_is_rejected(line: str) -> None:
    assert reasons(line)["event"].startswith("is not valid JSON")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_is_not_json(constant: str) -> None:
    line = line_of("PriceObserved").replace('"447000.25"', constant)

    assert reasons(line) == {"event": f"is not valid JSON: {constant} is not a JSON number"}


def test_invalid_utf8_is_rejected() -> None:
    assert reasons(b'{"event_id": "e-\xff"}') == {"event": "is not valid UTF-8 (byte 17)"}


@pytest.mark.parametrize("value", [[], [1, 2], "text", 5, None, True])
def test_a_top_level_value_that_is_not_an_object_is_rejected(value: object) -> None:
    assert reasons(json.dumps(value)) == {"event": "must be a JSON object"}


def test_a_duplicate_key_in_the_payload_is_rejected_with_its_path() -> None:
    line = line_of("CollateralPledged").replace(
        '"quantity": "10.12345678"', '"quantity": "1", "quantity": "10"'
    )
    rejected = rejection(line)

    assert [str(reason) for reason in rejected.reasons] == [
        "data.quantity: appears more than once in its JSON object"
    ]
    assert rejected.event_id == "e-1"


def test_a_duplicate_key_in_the_envelope_is_rejected_with_the_other_faults() -> None:
    line = line_of("CollateralPledged", haircut="2").replace(
        '"source": "tests"', '"source": "a", "source": "b"'
    )
    assert reasons(line) == {
        "source": "appears more than once in its JSON object",
        "data.haircut": "must be at most 1",
    }


def test_repeats_inside_a_value_lost_to_a_later_repeat_are_rejected_not_crashing() -> None:
    line = line_of("CollateralPledged").replace(
        '"quantity": "10.12345678"', '"quantity": {"b": 1, "b": 2}, "quantity": "10"'
    )
    assert reasons(line) == {"data.quantity": "appears more than once in its JSON object"}
    assert "a: appears more than once in its JSON object" in [
        str(reason) for reason in rejection('{"a": {"b": 1, "b": 2}, "a": 3}').reasons
    ]


def test_a_very_deep_nesting_is_rejected_not_crashing() -> None:
    assert "event" in reasons("[" * 100_000 + "]" * 100_000)


def test_an_integer_too_long_for_python_to_read_is_rejected() -> None:
    assert "event" in reasons('{"event_id": ' + "9" * 5000 + "}")


# Rejections: fields


def test_a_float_where_a_decimal_is_expected_is_rejected() -> None:
    line = line_of("CollateralPledged").replace('"10.12345678"', "10.5")

    assert reasons(line) == {
        "data.quantity": "must be a decimal written as a string or an "
        "integer, not a floating-point number"
    }


def test_a_float_inside_a_nested_object_is_rejected() -> None:
    line = line_of("ClientOnboarded").replace('"9000000"', "9000000.0")

    assert "floating-point" in reasons(line)["data.pi_assessment.portfolio"]


@pytest.mark.parametrize(
    "value",
    [
        True,
        "NaN",
        "Infinity",
        "1e999999",
        "1,000",
        " 1",
        "1.",
        "0x10",
        "",
        "1" * 65,
        [1],
        {"v": 1},
        None,
    ],
)
def test_a_decimal_that_is_not_a_plain_decimal_is_rejected(value: object) -> None:
    assert "data.price" in reasons(line_of("PriceObserved", price=value))


def test_an_integer_decimal_of_more_than_forty_digits_is_rejected() -> None:
    assert reasons(line_of("PriceObserved", price=10**40)) == {
        "data.price": "has more than 40 digits"
    }


def test_a_timestamp_without_offset_is_rejected() -> None:
    line = json.dumps(
        envelope_of("PerpOrderCancelled", {"order_id": "O1"}, occurred_at="2026-03-02T09:00:00")
    )
    assert reasons(line) == {"occurred_at": "timestamp must include a UTC offset"}


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-03-02",
        "2026-03-02T09:00+08:00",
        "2026-02-30T09:00:00+08:00",
        "2026-03-02T09:00:00+0800",
        "2026-03-02T09:00:00.123456789+08:00",
        "2026-03-02T09:00:00.1234560+08:00",
        "1772413200",
        "2026-03-02T25:00:00Z",
        1772413200,
    ],
)
def test_a_timestamp_that_is_not_rfc3339_to_the_microsecond_is_rejected(timestamp: object) -> None:
    line = json.dumps(envelope_of("PerpOrderCancelled", {"order_id": "O1"}, occurred_at=timestamp))
    assert "occurred_at" in reasons(line)


@pytest.mark.parametrize("day", ["2026-1-15", "15/01/2026", "2026-02-30", "20260115", 20260115])
def test_a_date_that_is_not_yyyy_mm_dd_is_rejected(day: object) -> None:
    line = line_of("ClientOnboarded", pi_assessment={**PI, "assessed_on": day})
    assert "data.pi_assessment.assessed_on" in reasons(line)


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 129, "é", "a/b", 17, None])
def test_an_id_outside_its_pattern_is_rejected(bad_id: object) -> None:
    assert "data.client_id" in reasons(line_of("RiskDisclosureAcknowledged", client_id=bad_id))


def test_an_id_of_exactly_128_characters_is_accepted() -> None:
    parse_line(line_of("RiskDisclosureAcknowledged", client_id="x" * 128))


@pytest.mark.parametrize("asset", ["btc", "Btc", "", "B" * 33, "BTC/USD", "BTC "])
def test_an_asset_outside_its_pattern_or_lowercase_is_rejected(asset: str) -> None:
    assert reasons(line_of("PriceObserved", asset=asset)) == {
        "data.asset": "must be an asset symbol: 1-32 characters of A-Z0-9._- (upper case)"
    }


def test_an_unknown_type_is_rejected() -> None:
    line = json.dumps(envelope_of("CollateralPledgd", EXAMPLES["CollateralPledged"]))
    assert reasons(line) == {"type": 'unknown event type "CollateralPledgd"'}


def test_an_unknown_field_in_the_payload_is_rejected_naming_the_type() -> None:
    assert reasons(line_of("CollateralPledged", haircutt="0.6")) == {
        "data.haircutt": "unknown field (not part of CollateralPledged)"
    }


def test_an_unknown_field_in_the_envelope_is_rejected() -> None:
    line = json.dumps(envelope_of("PerpOrderCancelled", {"order_id": "O1"}, recorded_at=T))
    assert reasons(line) == {"recorded_at": "unknown field (not part of the envelope)"}


def test_an_unknown_field_in_a_nested_object_is_rejected() -> None:
    line = line_of("MarketMakerRegistered", controls={**CONTROLS, "chinese_wall": True})
    assert reasons(line) == {"data.controls.chinese_wall": "unknown field (not part of controls)"}


def test_an_enumeration_value_outside_its_list_is_rejected_listing_the_options() -> None:
    assert reasons(line_of("PerpOrderPlaced", side="BUY")) == {
        "data.side": "must be one of: buy, sell"
    }


def test_a_rate_above_one_is_rejected() -> None:
    assert reasons(line_of("CollateralPledged", haircut="1.0001")) == {
        "data.haircut": "must be at most 1"
    }


@pytest.mark.parametrize("rate", ["0", "1", 0, 1, "1.000"])
def test_a_rate_at_either_end_of_its_range_is_accepted(rate: object) -> None:
    parse_line(line_of("CollateralPledged", haircut=rate))


def test_a_negative_rate_is_rejected() -> None:
    assert reasons(line_of("CollateralHaircutChanged", haircut="-0.1")) == {
        "data.haircut": "must be at least 0"
    }


@pytest.mark.parametrize("amount", ["0", "-1", 0, "-0.000001"])
def test_a_quantity_that_must_be_positive_is_rejected_at_zero_or_below(amount: object) -> None:
    assert reasons(line_of("CollateralReleased", quantity=amount)) == {
        "data.quantity": "must be greater than 0"
    }


def test_a_credit_limit_of_zero_is_accepted_but_a_negative_one_is_not() -> None:
    parse_line(line_of("CreditLimitChanged", credit_limit="0"))
    assert reasons(line_of("CreditLimitChanged", credit_limit="-1")) == {
        "data.credit_limit": "must be at least 0"
    }


def test_a_funding_rate_and_an_insurance_fund_delta_may_be_negative() -> None:
    parse_line(line_of("FundingSettled", funding_rate="-0.5"))
    parse_line(line_of("InsuranceFundChanged", delta=-100))


def test_a_missing_required_field_is_required() -> None:
    data = {k: v for k, v in EXAMPLES["VAFinancingDrawn"].items() if k != "account_id"}
    assert reasons(json.dumps(envelope_of("VAFinancingDrawn", data))) == {
        "data.account_id": "is required"
    }


def test_a_missing_envelope_field_is_required() -> None:
    sent = envelope_of("PerpOrderCancelled", {"order_id": "O1"})
    del sent["occurred_at"], sent["data"]
    assert reasons(json.dumps(sent)) == {"occurred_at": "is required", "data": "is required"}


def test_a_limit_price_is_required_but_may_be_null_for_a_market_order() -> None:
    data = {k: v for k, v in EXAMPLES["PerpOrderPlaced"].items() if k != "limit_price"}
    assert reasons(json.dumps(envelope_of("PerpOrderPlaced", data))) == {
        "data.limit_price": "is required"
    }


def test_data_that_is_not_an_object_is_rejected() -> None:
    assert reasons(json.dumps(envelope_of("PerpOrderCancelled", ["O1"]))) == {
        "data": "must be an object"
    }


@pytest.mark.parametrize("value", ["1", 1.0, None, 0])
def test_a_bool_field_takes_only_true_or_false(value: object) -> None:
    assert reasons(line_of("PerpOrderPlaced", market_maker=value)) == {
        "data.market_maker": "must be true or false"
    }


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (-1, "must be at least 0"),
        ("12", "must be an integer"),
        (True, "must be an integer"),
        (1.0, "must be an integer, not a floating-point number"),
    ],
)
def test_a_record_count_is_a_non_negative_json_integer(count: object, reason: str) -> None:
    assert reasons(line_of("DataAccessed", record_count=count)) == {"data.record_count": reason}


def test_an_asset_status_change_must_change_at_least_one_status() -> None:
    line = json.dumps(envelope_of("AssetStatusChanged", {"asset": "BTC"}))
    assert reasons(line) == {
        "data": "must set at least one of retail_spot_approved, iosco_compliant, hkma_licensed"
    }


def test_a_maintenance_margin_rate_not_below_the_initial_rate_is_rejected() -> None:
    assert reasons(line_of("PerpContractListed", maintenance_margin_rate="0.1")) == {
        "data.maintenance_margin_rate": "must be below initial_margin_rate (0.1)"
    }


@pytest.mark.parametrize("value", [0.65, {"v": 1}, [1], ["BTC", None], None])
def test_an_amended_value_that_is_no_json_kind_of_parameter_is_rejected(value: object) -> None:
    assert "data.value" in reasons(line_of("RuleParameterAmended", value=value))


@pytest.mark.parametrize("text", ["nul\u0000", "bell\u0007", "lone \ud800 surrogate"])
def test_text_with_nul_control_characters_or_lone_surrogates_is_rejected(text: str) -> None:
    assert "data.purpose" in reasons(line_of("CollateralTransferred", purpose=text))


def test_a_source_longer_than_64_characters_or_empty_is_rejected() -> None:
    for source, reason in [("s" * 65, "must be at most 64 characters"), ("", "must not be empty")]:
        line = json.dumps(envelope_of("PerpOrderCancelled", {"order_id": "O1"}, source=source))
        assert reasons(line) == {"source": reason}


def test_every_failing_field_gets_its_own_reason_and_the_event_id_stays_readable() -> None:
    sent = envelope_of(
        "PerpOrderPlaced",
        {**EXAMPLES["PerpOrderPlaced"], "side": "long", "quantity": 1.5, "colour": "red"},
        occurred_at="2026-03-02T09:00:00",
        source=7,
    )
    rejected = rejection(json.dumps(sent))

    assert rejected.event_id == "e-1"
    assert {reason.field for reason in rejected.reasons} == {
        "occurred_at",
        "source",
        "data.side",
        "data.quantity",
        "data.colour",
    }


def test_an_unreadable_event_id_is_not_reported_as_the_event_id() -> None:
    rejected = rejection(json.dumps(envelope_of("PerpOrderCancelled", {}, event_id="bad id")))

    assert rejected.event_id is None
    assert {reason.field for reason in rejected.reasons} == {"event_id", "data.order_id"}


BAD_LINES = [
    line_of("CollateralPledged", haircut=2, quantity=True, asset="btc", extra={"x": 1}),
    line_of("DataAccessed", record_count="x", dataset="all"),
    line_of("ClientOnboarded", pi_assessment="yes", client_type=None),
    json.dumps(envelope_of(["list"], {}, event_id=5, occurred_at=None, source=None)),
    json.dumps({"": 1, "\u0000": [], "data": {"k": 1.5}}),
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_reasons_never_leak_pydantic_wording_or_urls(line: str) -> None:
    text = str(rejection(line)).lower()
    for leak in ("input should", "pydantic", "http", "validation error", "type=", "[type"):
        assert leak not in text


# Envelope, canonical content, recorded events


def test_an_envelope_built_directly_needs_the_payload_model_its_type_names() -> None:
    pledged = CollateralPledged.model_validate(
        {**EXAMPLES["CollateralPledged"], "quantity": Decimal("1"), "haircut": Decimal("0.6")}
    )
    envelope = Envelope(
        event_id="e-1",
        type="CollateralPledged",
        occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        data=pledged,
    )
    assert envelope.data is pledged
    with pytest.raises(ValidationError):
        Envelope(
            event_id="e-1",
            type="PriceObserved",
            occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
            data=pledged,
        )


def test_models_are_frozen() -> None:
    envelope, _ = parse_line(line_of("PerpOrderPlaced"))
    placed = envelope.data
    assert isinstance(placed, PerpOrderPlaced)

    with pytest.raises(ValidationError):
        placed.market_maker = False
    with pytest.raises(ValidationError):
        envelope.event_id = "other"


def test_a_recorded_event_is_immutable() -> None:
    envelope, _ = parse_line(line_of("PerpOrderCancelled"))
    recorded = RecordedEvent(
        position=1, recorded_at=datetime(2026, 3, 2, tzinfo=UTC), envelope=envelope
    )
    with pytest.raises(FrozenInstanceError):
        recorded.position = 2  # type: ignore[misc]  # the point of the test


def test_canonical_content_ignores_key_order_whitespace_and_a_defaulted_source() -> None:
    sent = envelope_of("CollateralPledged", EXAMPLES["CollateralPledged"], source="unknown")
    reordered = json.loads(json.dumps(dict(reversed(sent.items()))))
    without_source = {k: v for k, v in sent.items() if k != "source"}
    _, spaced = parse_line(json.dumps(sent, indent=4))

    assert canonical_content(sent) == canonical_content(reordered)
    assert canonical_content(sent) == canonical_content(without_source)
    assert canonical_content(sent) == canonical_content(spaced)


def test_canonical_content_differs_for_a_different_value() -> None:
    sent = envelope_of("CollateralPledged", EXAMPLES["CollateralPledged"])
    changed = copy.deepcopy(sent)
    changed["data"]["quantity"] = "10.123456780"

    assert canonical_content(sent) != canonical_content(changed)


def test_canonical_content_is_sorted_compact_utf8() -> None:
    assert canonical_content({"type": "X", "data": {"b": "é", "a": 1}, "event_id": "e"}) == (
        '{"data":{"a":1,"b":"é"},"event_id":"e","source":"unknown","type":"X"}'.encode()
    )


# Properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_any_garbage_line_is_either_parsed_or_rejected_never_crashes(line: str | bytes) -> None:
    with contextlib.suppress(EventRejected):
        parse_line(line)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_any_json_value_is_rejected_only_with_event_rejected(value: object) -> None:
    with pytest.raises(EventRejected):
        parse_event(value)
    with pytest.raises(EventRejected):
        parse_line(json.dumps(value))


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(EXAMPLES)), st.data())
def test_any_field_replaced_by_any_json_value_is_parsed_or_rejected_never_crashes(
    event_type: str, data: st.DataObject
) -> None:
    sent = envelope_of(event_type, dict(EXAMPLES[event_type]))
    target = data.draw(st.sampled_from(["envelope", "data"]))
    container: dict[str, Any] = sent if target == "envelope" else sent["data"]
    key = data.draw(st.sampled_from([*container, "extra"]))
    container[key] = data.draw(json_values)
    try:
        envelope, raw = parse_line(json.dumps(sent))
    except EventRejected as rejected:
        assert rejected.reasons
        return
    assert isinstance(envelope.data, BaseModel)
    canonical_content(raw)

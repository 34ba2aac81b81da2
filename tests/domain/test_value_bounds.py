"""events.md's value bounds at ingest (below, at and above each), and the stored form that still
reads what earlier versions accepted."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from domain.errors import EventRejected
from domain.events import CollateralPledged, InsuranceFundChanged, MarginCallIssued, parse_line
from domain.parameters import coerce_parameter
from tests.domain.test_events import envelope_of, line_of, reasons

RANGE = "must lie in [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z) once converted to UTC"
SIX_DIGITS = "has more than six fractional digits (times are kept to the microsecond)"


def occurred(at: str) -> str:
    return json.dumps(envelope_of("PerpOrderCancelled", {"order_id": "O1"}, occurred_at=at))


@pytest.mark.parametrize(
    "at",
    [
        "1970-01-01T00:00:00Z",
        "1970-01-01T08:00:00+08:00",
        "1969-12-31T23:59:59-00:01",
        "2199-12-31T23:59:59.999999Z",
        "2200-01-01T07:59:59.999999+08:00",
    ],
)
def test_a_timestamp_inside_the_range_once_in_utc_is_accepted(at: str) -> None:
    parse_line(occurred(at))


@pytest.mark.parametrize(
    "at",
    [
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T07:59:59+08:00",
        "2200-01-01T00:00:00Z",
        "2199-12-31T23:59:00-00:01",
        "0001-01-01T00:00:00+08:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59.999999Z",
    ],
)
def test_a_timestamp_outside_the_range_once_in_utc_is_rejected_naming_the_field(at: str) -> None:
    assert reasons(occurred(at)) == {"occurred_at": RANGE}


def test_a_nested_timestamp_outside_the_range_is_rejected_naming_its_field() -> None:
    line = line_of("MarginCallIssued", due_by="0001-01-01T00:00:00+08:00")
    assert reasons(line) == {"data.due_by": RANGE}


def test_six_fractional_digits_are_kept_and_a_seventh_is_rejected_even_a_zero() -> None:
    due_by = "2026-03-02T15:15:18.123456+08:00"
    envelope, _ = parse_line(line_of("MarginCallIssued", due_by=due_by))
    assert isinstance(envelope.data, MarginCallIssued)
    assert envelope.data.due_by.microsecond == 123456
    for seven in ("2026-03-02T15:15:18.1234560+08:00", "2026-03-02T15:15:18.1234567+08:00"):
        assert reasons(line_of("MarginCallIssued", due_by=seven)) == {"data.due_by": SIX_DIGITS}


FORTY = "1234567890" * 4


@pytest.mark.parametrize(
    "quantity",
    [FORTY, f"-{FORTY}", f"{FORTY[:20]}.{FORTY[20:]}", "0." + "0" * 38 + "1", 10**40 - 1],
)
def test_a_decimal_of_forty_digits_is_accepted_exactly(quantity: str | int) -> None:
    envelope, _ = parse_line(line_of("InsuranceFundChanged", delta=quantity))
    assert isinstance(envelope.data, InsuranceFundChanged)
    assert envelope.data.delta == Decimal(quantity)


@pytest.mark.parametrize(
    "quantity", [FORTY + "1", f"-{FORTY}.5", "0." + "0" * 39 + "1", "0" + FORTY, -(10**40)]
)
def test_a_decimal_of_forty_one_digits_is_rejected(quantity: str | int) -> None:
    assert reasons(line_of("InsuranceFundChanged", delta=quantity)) == {
        "data.delta": "has more than 40 digits"
    }


@pytest.mark.parametrize(
    "quantity", ["1E-8", "1e5", "1E+2", "NaN", "Infinity", "-Infinity", "1.5e0", "sNaN"]
)
def test_a_decimal_not_in_plain_notation_is_rejected(quantity: str) -> None:
    reason = reasons(line_of("CollateralReleased", quantity=quantity))["data.quantity"]
    assert "plain notation" in reason


def test_a_rule_parameter_decimal_in_exponent_notation_is_rejected_at_ingest() -> None:
    with pytest.raises(ValueError, match="plain notation"):
        coerce_parameter("rate", "5E-1")
    assert coerce_parameter("rate", "5E-1", stored=True) == Decimal("0.5")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "1E-8"),
        ("quantity", "1" * 64),
    ],
)
def test_the_stored_form_still_decodes_decimals_earlier_versions_accepted(
    field: str, value: str
) -> None:
    line = line_of("CollateralPledged", **{field: value})
    with pytest.raises(EventRejected):
        parse_line(line)
    envelope, _ = parse_line(line, stored=True)
    assert isinstance(envelope.data, CollateralPledged)
    assert envelope.data.quantity == Decimal(value)


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-23:59", "2026-03-02T09:00:00.1234560Z"]
)
def test_the_stored_form_still_decodes_timestamps_earlier_versions_accepted(at: str) -> None:
    with pytest.raises(EventRejected):
        parse_line(occurred(at))
    envelope, _ = parse_line(occurred(at), stored=True)
    assert envelope.occurred_at.year in (1, 9999, 2026)


def test_the_stored_form_still_refuses_what_no_version_accepted() -> None:
    for at in ("2026-03-02T09:00:00.1234567Z", "2026-03-02T09:00:00"):
        with pytest.raises(EventRejected):
            parse_line(occurred(at), stored=True)
    with pytest.raises(EventRejected):
        parse_line(line_of("CollateralPledged", quantity="NaN"), stored=True)

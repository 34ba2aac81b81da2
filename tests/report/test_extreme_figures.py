"""The nightly report's figures of accepted values at the ends of their ranges: exact, never
an overflow of a decimal context."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.ledger import InputLine
from ops.wiring import build_ledger, build_monitor
from projections.nightly.figures import money_text, ratio_text
from projections.nightly.report import build
from projections.store.base import Store
from tests.downstream.catalogue_day import envelopes

ALMOST = "9" * 38 + ".9"  # 39 digits


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("9" * 40), "9" * 40 + ".00"),
        (Decimal("0." + "0" * 38 + "1"), "0.00"),
        (Decimal("0.005"), "0.00"),
        (Decimal("0.015"), "0.02"),
        (Decimal("-0.001"), "-0.00"),
        (Decimal("-2500.75"), "-2500.75"),
        (Fraction(10**40 - 1, 3), "3" * 40 + ".00"),
    ],
)
def test_money_is_rounded_half_to_even_on_the_exact_value(value: Decimal | Fraction, text: str) -> None:
    assert money_text(value) == text


def test_a_ratio_of_forty_digit_figures_is_rounded_exactly() -> None:
    assert ratio_text(Fraction(10**40 - 1, 10**40)) == "1.0000"
    assert ratio_text(Fraction(2, 3)) == "0.6667"


def test_the_insurance_fund_of_forty_digit_deltas_is_summed_exactly(store: Store) -> None:
    events = envelopes()
    for event in events:
        if event["type"] == "InsuranceFundChanged":
            event["data"]["delta"] = ALMOST
    events.append({**events[-1], "event_id": "d-fund", "type": "InsuranceFundChanged",
                   "data": {"delta": "0.2", "reason": "top-up"}})
    lines = [InputLine("day", n, json.dumps(e).encode()) for n, e in enumerate(events, 1)]
    assert build_ledger(store).ingest(iter(lines)).rejected == 0
    build_monitor(store).catch_up()
    report = build(store, date(2026, 3, 2))
    assert report["insurance_fund"]["closing_balance"] == "1" + "0" * 38 + ".10"
    changes = [m["amount"] for m in report["insurance_fund"]["movements"] if m["kind"] == "change"]
    assert changes == [ALMOST + "0", "0.20"]

"""The fast ladder (slopes per asset, for every price tick) gives exactly the engine path's
aggregates, for random margin and perpetual books and random shocks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import RecordedEvent, parse_line
from projections.asof.replay import Replay
from projections.monitor.engine import MonitorEngine
from projections.stress import parse_shock, scenario_of
from projections.stress.fast import FastLadder
from projections.stress.run import StressRun
from projections.stress.scenario import ladder
from tests.stress.test_exactness import amounts, borrowers, build, shocks, traders

AGGREGATES = ("total_shortfall_after", "margin_call_count", "liquidations", "loss_beyond_margin",
              "insurance_fund_before", "insurance_fund_after", "loss_sharing", "prices_after", "shocks")


def state_of(lines: list[bytes]) -> Replay:
    engine = MonitorEngine()
    position, last = 0, None
    for line in lines:
        position += 1
        envelope = parse_line(line)[0]
        engine.process(RecordedEvent(position, datetime(2026, 3, 2, tzinfo=UTC), envelope))
        last = envelope.occurred_at
    return Replay(engine, None, None, position=position, latest_occurred_at=last)


@settings(max_examples=40, deadline=None)
@given(book_borrowers=borrowers, book_traders=traders, fund=st.one_of(st.just(Decimal(0)), amounts),
       shock_texts=shocks)
def test_the_fast_ladder_equals_the_engine_path_for_random_books_and_shocks(
    book_borrowers: list[Any], book_traders: list[Any], fund: Decimal, shock_texts: list[tuple[str, str]],
) -> None:
    run = StressRun(state_of(build(book_borrowers, book_traders, fund)))
    fast = FastLadder(run)
    scenarios = [scenario_of([parse_shock(f"{a}={v}") for a, v in shock_texts]), *ladder("BTC"), *ladder("ETH")]
    for scenario in scenarios:
        slow = run.scenario(scenario)
        assert fast.summary(scenario) == {"label": slow["label"], **{k: slow[k] for k in AGGREGATES}}


def test_the_fast_ladder_counts_a_client_exactly_at_lending_value_as_not_short_and_a_cent_more_as_short() -> None:
    from tests.stress.test_stress import margin_book

    for loan, calls, shortfall in (("1400000", 0, "0"), ("1400000.01", 1, "0.01")):
        run = StressRun(state_of(margin_book(loan)))
        rung = FastLadder(run).summary(ladder("BTC")[2])  # -30 %: LV 1400000
        assert (rung["margin_call_count"], rung["total_shortfall_after"]) == (calls, shortfall)

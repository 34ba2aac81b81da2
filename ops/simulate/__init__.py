"""``regledger simulate``: a deterministic market simulator writing valid event streams.

A run is a pure function of its configuration: ``random.Random(seed)`` is the only source of
chance, time is simulated, and every collection is walked in a stable order. Events come out
in non-decreasing ``occurred_at`` as they happen; the simulator keeps state only for what is
open (clients, pledges, loans, resting orders, pending actions), so memory does not grow with
the number of days.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ops.simulate import broker, closing, haircuts, onboarding, platform, violations
from ops.simulate.config import SimConfig
from ops.simulate.market import ASSETS
from ops.simulate.timeline import DAY_MS, HOUR_MS, MINUTE_MS
from ops.simulate.world import World

__all__ = ["SimConfig", "simulate", "write_stream"]

TICK_MS = 5 * MINUTE_MS
FUNDING_EVERY_MS = 8 * HOUR_MS
DATA_ACCESSES_PER_DAY = 120.0
SHOCK_AT_MS = 10 * HOUR_MS + 2 * MINUTE_MS
REBOUND_AT_MS = 14 * HOUR_MS + 2 * MINUTE_MS
REBOUND_AFTER_DAYS = 3


def simulate(config: SimConfig) -> Iterator[dict[str, Any]]:
    """Yield the run's events as envelope dicts, in the order they happen."""
    w = World(config)
    _schedule(w)
    end_ms = config.days * DAY_MS
    while (action := w.tl.next_before(end_ms)) is not None:
        action()
        if w.out:
            out, w.out = w.out, []
            yield from out


def write_stream(config: SimConfig, path: Path, on_day: Callable[[int, int], None] | None = None) -> int:
    """Write the run as JSON Lines to ``path``; ``on_day(day, events)`` as each day ends."""
    written = 0
    day = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for event in simulate(config):
            out.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")
            written += 1
            if on_day is not None and event["occurred_at"][:10] != _day_text(config, day):
                day += 1
                on_day(day, written)
    if on_day is not None:
        on_day(config.days, written)
    return written


def _day_text(config: SimConfig, day: int) -> str:
    from datetime import timedelta

    return (config.start + timedelta(days=day)).isoformat()


def _tick(w: World) -> None:
    for spec in ASSETS:
        if spec.walks:
            w.set_price(spec.symbol, w.market.step(spec.symbol, w.rng), "vatp-composite")


def _steady_prices(w: World) -> None:
    for spec in ASSETS:
        if spec.cents and not spec.walks:
            w.set_price(spec.symbol, spec.cents, "hkab" if spec.kind == "fiat" else "issuer")


def _schedule(w: World) -> None:
    config = w.config
    w.on_below = lambda c: platform.became_below(w, c)
    w.tl.at(0, lambda: onboarding.reference_data(w))
    onboarding.onboard_clients(w)
    broker.schedule(w)
    haircuts.schedule(w)
    closing.schedule(w)
    w.every(TICK_MS, TICK_MS, lambda: _tick(w))
    w.every(platform.QUOTE_EVERY_MS, 3 * MINUTE_MS, lambda: platform.quote(w))
    w.every(FUNDING_EVERY_MS, FUNDING_EVERY_MS, lambda: platform.funding(w))
    w.every(DAY_MS, DAY_MS + 5 * MINUTE_MS, lambda: platform.fund_change(w, _fee_income(w), "daily trading-fee contribution"))
    w.every(DAY_MS, 9 * HOUR_MS, lambda: _steady_prices(w))
    w.poisson(DATA_ACCESSES_PER_DAY, lambda: platform.data_access(w))
    shock = config.shock
    if shock is not None:
        w.tl.at(shock * DAY_MS + SHOCK_AT_MS, lambda: w.market.shock(rise=False))
        rebound = min(shock + REBOUND_AFTER_DAYS, config.days - 1)
        if rebound > shock:
            w.tl.at(rebound * DAY_MS + REBOUND_AT_MS, lambda: w.market.shock(rise=True))
    violations.schedule(w)


def _fee_income(w: World) -> Any:
    from decimal import Decimal

    return Decimal(w.rng.randint(50, 300)) * 1000

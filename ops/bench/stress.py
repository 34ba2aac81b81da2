"""The stress ladder over a large book: 100,000 clients with pledges (BTC and ETH against VA
loans) and 10,000 perpetual positions (BTC-PERP longs against one market maker), the BTC
ladder (-10 % to -60 % and a worst 1-day move of -10.6 %) from the state in memory, as
``regledger stress --ladder BTC`` runs it after the replay. Goal: under 2 s, so it can run
after every price tick. ``size`` (the stream size of the other benchmarks) is not used.

Run alone: ``python -m ops.bench.stress [CLIENTS POSITIONS]``.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ops.bench.tick import EngineFeed
from projections.asof.replay import Replay
from projections.stress.fast import FastLadder
from projections.stress.run import StressRun
from projections.stress.scenario import ladder

CLIENTS = 100_000
POSITIONS = 10_000
GOAL_S = 2.0
WORST_MOVE = (Decimal("-0.106"), "2025-10-21")  # the PAXG swing of the issue, as a BTC rung
Report = Callable[[str], None]


def book(clients: int, positions: int) -> EngineFeed:
    feed = EngineFeed()
    feed.reference_data()
    feed.send("AssetListed", asset="ETH", asset_kind="virtual_asset", retail_spot_approved=True)
    feed.send("PriceObserved", asset="ETH", price="20000", price_source="feed")
    for n in range(clients):
        c = f"C{n}"
        feed.client(c)
        feed.send("SecuritiesMarginAccountOpened", client_id=c, account_id=f"A{n}", credit_limit="100000000")
        feed.send("CollateralPledged", pledge_id=f"P{n}", client_id=c, asset="BTC", quantity="10", haircut="0.6")
        if n % 3 == 0:  # a third also pledge ETH
            feed.send("CollateralPledged", pledge_id=f"Q{n}", client_id=c, asset="ETH", quantity="20", haircut="0.65")
        # Debt from 20 % to 100 % of the lending value: every rung of the ladder makes more short.
        feed.send("VAFinancingDrawn", loan_id=f"L{n}", client_id=c, account_id=f"A{n}",
                  amount=str(400_000 + n * 1_600_000 // clients), purpose_asset="BTC")
    feed.btc_perp_with_maker("100000000000")
    for n in range(positions):
        feed.long_against_maker(n, f"T{n}", 600 + 4_000 * n // positions)
    feed.engine.drain_changes()
    return feed


class Clock:
    """Wall and CPU seconds since the last lap: the machine is shared, so the CPU seconds of
    this process say what a step costs when the wall clock also counts others' work."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        lap = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return lap


Lap = tuple[float, float]  # wall, CPU seconds


@dataclass(frozen=True, slots=True)
class StressBenchFigures:
    clients: int
    positions: int
    build_s: float
    valued_s: Lap  # the engine path: the state valued once, before any shock
    slopes_s: Lap  # the fast ladder: the state valued and each client's slopes, once per state
    fast_s: Lap  # the seven rungs' aggregates by the fast ladder
    ladder_s: Lap  # the seven rungs through the engine, every client listed
    total_shortfall: list[str]
    calls: list[int]
    liquidations: list[int]

    @property
    def fast_total_s(self) -> Lap:
        return (self.slopes_s[0] + self.fast_s[0], self.slopes_s[1] + self.fast_s[1])

    @property
    def total_s(self) -> Lap:
        return (self.valued_s[0] + self.ladder_s[0], self.valued_s[1] + self.ladder_s[1])

    def per_client_us(self, seconds: float) -> float:
        return seconds / (self.clients + self.positions) * 1e6


def measure(clients: int = CLIENTS, positions: int = POSITIONS) -> StressBenchFigures:
    started = time.perf_counter()
    feed = book(clients, positions)
    built = time.perf_counter() - started
    state = Replay(feed.engine, None, None, position=feed.position, latest_occurred_at=feed.at)
    state.engine.stop_tracking_changes()
    gc.collect()
    rungs = ladder("BTC", WORST_MOVE)
    clock = Clock()
    fast = FastLadder(StressRun(state))
    sloped = clock.lap()
    quick = [fast.summary(s) for s in rungs]
    fast_s = clock.lap()
    run = StressRun(state)
    assert run.before is not None
    valued = clock.lap()
    results = [run.scenario(s) for s in rungs]
    laddered = clock.lap()
    keys = ("total_shortfall_after", "margin_call_count", "liquidations", "loss_sharing")
    assert [[q[k] for k in keys] for q in quick] == [[r[k] for k in keys] for r in results], "fast != engine"
    return StressBenchFigures(clients, positions, built, valued, sloped, fast_s, laddered,
                   [r["total_shortfall_after"] for r in results], [r["margin_call_count"] for r in results],
                   [r["liquidations"] for r in results])


def markdown(f: StressBenchFigures) -> str:
    wall, cpu = f.fast_total_s
    verdict = (f"{'met' if wall < GOAL_S else 'NOT met'} on the wall clock ({wall:.2f} s), "
               f"{'met' if cpu < GOAL_S else 'NOT met'} in CPU time ({cpu:.2f} s)")

    def row(name: str, lap: Lap, bold: bool = False) -> str:
        b = "**" if bold else ""
        return (f"| {b}{name}{b} | {b}{lap[0]:.2f}{b} | {b}{lap[1]:.2f}{b} | "
                f"{b}{f.per_client_us(lap[1]):.1f}{b} |")

    return "\n".join([
        "## Stress ladder over a large book (`ops/bench/stress.py`)",
        "",
        f"{f.clients:,} clients with pledges (BTC, a third also ETH) against VA loans and "
        f"{f.positions:,} BTC-PERP positions against one market maker; the BTC ladder of seven "
        "rungs (-10 % to -60 %, and -10.6 %) from the state in memory. The fast ladder "
        "(`projections/stress/fast.py`: each client's slope per price, the aggregates only) is "
        "what can run after every tick; the engine path (each rung applied by the monitor engine "
        "in its undo journal, every client listed, as `regledger stress` prints it) is the "
        "reference it is checked against (here, and by `tests/stress/test_fast.py`). "
        f"Goal: the ladder under 2 s: by the fast ladder, {verdict}.",
        "",
        "| step | wall s | CPU s | CPU µs per client or position |",
        "|---|---:|---:|---:|",
        f"| book built (events through the engine; not part of the goal) | {f.build_s:.1f} | | |",
        row("fast ladder: the state valued with each client's slopes, once per state", f.slopes_s),
        row("fast ladder: seven rungs", f.fast_s),
        row("fast ladder in all", f.fast_total_s, bold=True),
        row("engine path: the state valued once", f.valued_s),
        row("engine path: seven rungs, every client listed", f.ladder_s),
        "",
        "Margin calls due by rung: " + ", ".join(map(str, f.calls))
        + "; liquidations: " + ", ".join(map(str, f.liquidations)) + ".",
        "",
    ])


def section(size: int, report: Report) -> str:
    figures = measure()
    report(f"stress ladder, {figures.clients:,} clients: {figures.fast_total_s[0]:.2f} s")
    return markdown(figures)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(markdown(measure(*args)))

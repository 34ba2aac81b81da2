"""Stress tests of the margin book and the perpetual positions under shocked prices."""

from projections.stress.run import StressRun, stress
from projections.stress.scenario import (
    Scenario,
    Shock,
    ladder,
    parse_shock,
    scenario_of,
    worst_daily_move,
)

__all__ = ["Scenario", "Shock", "StressRun", "ladder", "parse_shock", "scenario_of", "stress", "worst_daily_move"]

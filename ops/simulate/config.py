"""What a simulation run is asked for: its size, its seed and its rate of injected breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CLIENTS_MAX = 1_000_000
DAYS_MAX = 3_650
DEFAULT_START = date(2026, 3, 2)  # a Monday, three weeks after the SFC measures of 11 February


@dataclass(frozen=True, slots=True)
class SimConfig:
    clients: int = 200
    days: int = 3
    seed: int = 1
    violations: float = 0.0  # probability per rule and simulated hour of one more injected breach
    start: date = DEFAULT_START  # the first Hong Kong day simulated, from 00:00 HKT
    shock_day: int | None = None  # day index of the price shock; None: the middle of the run

    def __post_init__(self) -> None:
        assert 1 <= self.clients <= CLIENTS_MAX, "clients out of range"
        assert 1 <= self.days <= DAYS_MAX, "days out of range"
        assert 0.0 <= self.violations <= 1.0, "violations is a probability"

    @property
    def shock(self) -> int | None:
        """The day of the shock, or None for a run too short to have one."""
        if self.shock_day is not None:
            return self.shock_day if 0 <= self.shock_day < self.days else None
        return self.days // 2 if self.days >= 2 else None

"""The Hong Kong business day a nightly report covers, and the instants that bound it.

Reading: the day runs from 00:00 HKT (exclusive) to 24:00 HKT, the cut-off (inclusive),
because "only events with occurred_at at or before the cut-off count"; an event at exactly
midnight therefore belongs to the day that ends there, never to two days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from projections.audit.days import HONG_KONG, report_day

HISTORY_DAYS = 30


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("HK", years=year)


def holiday_name(day: date) -> str | None:
    name = _holidays(day.year).get(day)
    return None if name is None else str(name)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a Hong Kong public holiday."""
    return day.weekday() < 5 and holiday_name(day) is None


def previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class Window:
    day: date

    @property
    def start(self) -> datetime:
        """00:00 HKT of the day: the previous day's cut-off, itself excluded."""
        return datetime.combine(self.day, time(0), HONG_KONG)

    @property
    def cutoff(self) -> datetime:
        return self.start + timedelta(days=1)

    @property
    def previous(self) -> Window:
        """The calendar day before: the change a report shows is against it."""
        return Window(self.day - timedelta(days=1))

    @property
    def history_start(self) -> datetime:
        """Where the report's 30-day history begins (exclusive)."""
        return self.cutoff - timedelta(days=HISTORY_DAYS)

    def contains(self, moment: datetime) -> bool:
        return self.start < moment <= self.cutoff

    def day_of(self, moment: datetime) -> date:
        """The report day an instant belongs to (its cut-off at or after it)."""
        return report_day(moment)

"""Event time for the simulator: a queue of actions ordered by simulated instant.

Time is whole milliseconds since 00:00 Hong Kong time of the first simulated day, so every
``occurred_at`` is exact and the stream's times never go back. Ties keep the order in which
the actions were scheduled, which makes a run a pure function of its seed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

Action = Callable[[], None]


class Timeline:
    def __init__(self, start: date) -> None:
        self.origin = datetime.combine(start, time(0), HONG_KONG)
        self.now_ms = 0
        self._queue: list[tuple[int, int, Action]] = []
        self._seq = 0

    def at(self, when_ms: int, action: Action) -> None:
        assert when_ms >= self.now_ms, "an action cannot be scheduled in the past"
        self._seq += 1
        heapq.heappush(self._queue, (when_ms, self._seq, action))

    def after(self, delay_ms: int, action: Action) -> None:
        self.at(self.now_ms + max(0, delay_ms), action)

    def next_before(self, end_ms: int) -> Action | None:
        """Advance to the earliest action due before ``end_ms`` and return it."""
        if not self._queue or self._queue[0][0] >= end_ms:
            return None
        self.now_ms, _, action = heapq.heappop(self._queue)
        return action

    @property
    def pending(self) -> int:
        return len(self._queue)

    def stamp(self, ms: int | None = None) -> str:
        return _stamp(self.origin, self.now_ms if ms is None else ms)

    def moment(self, ms: int | None = None) -> datetime:
        return self.origin + timedelta(milliseconds=self.now_ms if ms is None else ms)

    def day(self, ms: int | None = None) -> date:
        return self.moment(ms).date()


def _stamp(origin: datetime, ms: int) -> str:
    return (origin + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")


@lru_cache(maxsize=64)
def _hong_kong_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("HK", years=year)


def is_business_day(day: date) -> bool:
    """A Hong Kong business day: Monday to Friday and not a Hong Kong public holiday."""
    return day.weekday() < 5 and day not in _hong_kong_holidays(day.year)

"""The findings side of a report: what was new during the day, what was still open at its
cut-off, what was resolved, and how that compares with the day before.

A finding is new on the day its ``detected_at`` falls in; it counts from then on as open
until its case is resolved. Case status comes from ``case_views`` alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from projections.cases import case_history
from projections.nightly.window import HISTORY_DAYS, Window
from projections.sql import Sql
from projections.store.base import FindingFilter, FindingRow, Store

SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class CaseView:
    """A finding's case through time: open from detection; each resolution closes it and each
    reopening opens it again, at the time the officer acted (``at``, as recorded)."""

    opened_at: datetime
    changes: tuple[tuple[datetime, bool], ...] = ()  # (at, resolved after it), in ledger order

    def open_at(self, moment: datetime) -> bool:
        if self.opened_at > moment:
            return False
        resolved = False
        for at, now_resolved in self.changes:
            if at <= moment:
                resolved = now_resolved
        return not resolved

    def status_at(self, moment: datetime) -> str:
        return "open" if self.open_at(moment) else "resolved"

    def resolutions(self) -> list[datetime]:
        return [at for at, resolved in self.changes if resolved]


# A case closes when resolved by one officer, or when a second approves a four-eyes request;
# a request awaiting approval leaves the finding open.
CLOSING_ACTIONS = ("CaseResolved", "CaseResolutionApproved")


def case_views(store: Store, rows: Sequence[FindingRow]) -> dict[str, CaseView]:
    """The case of each finding, from the case actions on the ledger. Only findings that have
    a case at all (a row in the case read model) have their history read."""
    worked = {row[0] for row in Sql(store).rows("SELECT finding_id FROM finding_cases")}
    views = {}
    for r in rows:
        changes: tuple[tuple[datetime, bool], ...] = ()
        if r.finding_id in worked:
            changes = tuple(
                (a.fact.at, a.fact.type in CLOSING_ACTIONS)
                for a in case_history(store, r.finding_id)
                if a.fact.type in (*CLOSING_ACTIONS, "CaseReopened")
            )
        views[r.finding_id] = CaseView(r.detected_at, changes)
    return views


@dataclass(frozen=True, slots=True)
class DayFindings:
    rows: list[FindingRow]  # detected at or before the cut-off, in detection order
    cases: dict[str, CaseView]

    def new(self, window: Window) -> list[FindingRow]:
        return [r for r in self.rows if window.contains(r.detected_at)]

    def open_at(self, moment: datetime) -> list[FindingRow]:
        return [r for r in self.rows if self.cases[r.finding_id].open_at(moment)]

    def resolved(self, window: Window) -> list[FindingRow]:
        return [r for r in self.rows
                if any(window.contains(at) for at in self.cases[r.finding_id].resolutions())]


def load(store: Store, window: Window) -> DayFindings:
    rows = [r for r in store.findings(FindingFilter()) if r.detected_at <= window.cutoff]
    return DayFindings(rows, case_views(store, rows))


def counted(rows: Iterable[FindingRow], key: str) -> Counter[str]:
    return Counter(getattr(r, key) for r in rows)


def history(found: DayFindings, window: Window) -> list[tuple[date, Counter[str]]]:
    """Findings detected per day and rule over the last ``HISTORY_DAYS`` days."""
    days = [window.day - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]
    per_day: dict[date, Counter[str]] = {day: Counter() for day in days}
    for r in found.rows:
        if r.detected_at > window.history_start:
            per_day[window.day_of(r.detected_at)][r.rule_id] += 1
    return [(day, per_day[day]) for day in days]


def stale_cases(found: DayFindings, window: Window, older_than_days: int) -> list[tuple[FindingRow, CaseView, int]]:
    """Cases open at the cut-off that were opened more than ``older_than_days`` before it."""
    stale = []
    for r in found.open_at(window.cutoff):
        case = found.cases[r.finding_id]
        age = window.cutoff - case.opened_at
        if age > timedelta(days=older_than_days):
            stale.append((r, case, age.days))
    return sorted(stale, key=lambda s: (s[1].opened_at, s[0].seq))

"""Which value of a rule parameter is in force at an instant (rulebook.md, reading 5).

A value applies to events whose ``occurred_at`` is at or after its ``effective_from``; of
several in force, the latest ``effective_from`` wins, ties going to the later in ledger order.
The base value (the rulebook default, or a what-if override) is in force from the beginning
of time. Amendments are few: they are kept sorted per parameter and scanned from the end.

Every value in force is constant between two consecutive ``effective_from`` instants, so the
monitor reads the parameters once per such span (``span``) and per ``version`` of the index
instead of once per event.
"""

from __future__ import annotations

from bisect import insort
from datetime import datetime

from domain.book.entities import Amendment
from domain.parameters import ParameterValue

ParameterKey = tuple[str, str]  # (rule_id, parameter)


def _order(amendment: Amendment) -> tuple[datetime, int]:
    return (amendment.effective_from, amendment.position)


class AmendmentIndex:
    """Derived from the book's amendment table through its change hook."""

    __slots__ = ("_by_parameter", "_pending", "version")

    def __init__(self) -> None:
        self._by_parameter: dict[ParameterKey, list[Amendment]] = {}
        self._pending: dict[str, Amendment] = {}
        self.version = 0  # changes whenever an amendment is recorded, changed or undone

    def on_change(self, key: str, old: Amendment | None, new: Amendment | None) -> None:
        self.version += 1
        if old is not None:
            self._by_parameter[(old.rule_id, old.parameter)].remove(old)
            self._pending.pop(key, None)
        if new is not None:
            insort(self._by_parameter.setdefault((new.rule_id, new.parameter), []), new, key=_order)
            if new.pending:
                self._pending[key] = new

    def value_at(self, parameter: ParameterKey, at: datetime, base: ParameterValue) -> ParameterValue:
        """The value in force for an event that occurred at ``at``."""
        for amendment in reversed(self._by_parameter.get(parameter, ())):
            if amendment.effective_from <= at:
                return amendment.value
        return base

    def value_before(self, parameter: ParameterKey, at: datetime, base: ParameterValue) -> ParameterValue:
        """The value in force just before the instant ``at``."""
        for amendment in reversed(self._by_parameter.get(parameter, ())):
            if amendment.effective_from < at:
                return amendment.value
        return base

    def span(self, at: datetime) -> tuple[datetime | None, datetime | None]:
        """[start, end) around ``at`` over which no amendment's ``effective_from`` falls,
        so every ``value_at`` is the same throughout (None: unbounded)."""
        start = end = None
        for amendments in self._by_parameter.values():
            for amendment in amendments:
                instant = amendment.effective_from
                if instant <= at:
                    start = instant if start is None else max(start, instant)
                else:
                    end = instant if end is None else min(end, instant)
        return start, end

    @property
    def pending(self) -> bool:
        """Some recorded amendment has not taken effect yet."""
        return bool(self._pending)

    def due(self, now: datetime) -> list[tuple[str, Amendment]]:
        """Recorded amendments that have not taken effect and whose time has come, in the
        order they take effect."""
        if not self._pending:
            return []
        due = [(k, a) for k, a in self._pending.items() if a.effective_from <= now]
        return sorted(due, key=lambda item: _order(item[1]))

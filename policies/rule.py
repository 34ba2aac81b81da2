"""What a rule is: its metadata, its parameters and how the monitor calls it.

A rule module declares ``RULE_ID``, ``TITLE``, ``SEVERITY``, ``CITATION``, ``PARAMETERS`` and
one ``RULE`` built from them, whose callables are pure functions of a ``Context`` (the event,
a read-only view of the book, the parameters in force) returning effects: findings, and for
deadline rules the obligations they open and close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

from domain.book.entities import Amendment, Obligation
from domain.book.view import BookView
from domain.events import Envelope, Payload
from domain.parameters import ParameterType, ParameterValue

if TYPE_CHECKING:
    from policies.finding import Finding
    from policies.status import ClientStatus

P = TypeVar("P", bound=Payload)
Severity = Literal["critical", "high", "medium", "low"]
Phase = Literal["before", "after"]  # judged on the state before E, or with E applied


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: ParameterType
    default: ParameterValue


class ParamsInForce:
    """The value of every parameter in force at one instant, read on demand and cached."""

    __slots__ = ("_cache", "_lookup")

    def __init__(self, lookup: Callable[[str, str], ParameterValue]) -> None:
        self._lookup = lookup
        self._cache: dict[tuple[str, str], ParameterValue] = {}

    def value(self, rule_id: str, name: str) -> ParameterValue:
        key = (rule_id, name)
        try:
            return self._cache[key]  # read by several rules for nearly every event
        except KeyError:
            value = self._cache[key] = self._lookup(rule_id, name)
            return value

    def decimal(self, rule_id: str, name: str) -> Decimal:
        value = self.value(rule_id, name)
        assert isinstance(value, Decimal), f"{rule_id} {name} is not a decimal"
        return value

    def integer(self, rule_id: str, name: str) -> int:
        value = self.value(rule_id, name)
        assert isinstance(value, int), f"{rule_id} {name} is not an integer"
        return value

    def assets(self, rule_id: str, name: str) -> tuple[str, ...]:
        value = self.value(rule_id, name)
        assert isinstance(value, tuple), f"{rule_id} {name} is not a list of assets"
        return value


class Context(NamedTuple):
    """What a rule judges: one per event the monitor processes. A named tuple rather than a
    frozen dataclass: as immutable, and built without a ``__setattr__`` call per field (the
    monitor builds one for every event). ``now`` and ``payload`` repeat E's ``occurred_at``
    and ``data``: the rules read them several times per event, and reading an attribute of
    a pydantic model costs several times a tuple field's (``BaseModel.__getattr__`` keeps
    CPython from specialising the look-up)."""

    event: Envelope  # E, the event being processed
    position: int  # E's ledger position
    params: ParamsInForce  # in force at E.occurred_at
    book: BookView
    now: datetime  # E.occurred_at
    payload: Payload  # E.data

    def data(self, kind: type[P]) -> P:
        """E's payload, as the type the trigger was registered for."""
        data = self.payload
        assert isinstance(data, kind), f"{self.event.type} is not a {kind.__name__}"
        return data


# events.md's times end at 2200: a deadline further than this after one never comes due,
# and capping it keeps it a time that Python, both stores and Hong Kong time can hold (an
# amended window of 10^9 hours would overflow ``datetime``).
DEADLINE_WINDOW_MAX = timedelta(days=366_000)


def deadline_after(now: datetime, window: timedelta) -> datetime:
    """The deadline ``window`` after ``now``, capped at ``DEADLINE_WINDOW_MAX``."""
    return now + min(window, DEADLINE_WINDOW_MAX)


class Open(NamedTuple):
    """Open an obligation started by E (one per rule and subject at a time). Effects are
    named tuples, like ``Context``: immutable, and cheap to build for every trade."""

    rule_id: str
    subject: str
    deadline: datetime
    evidence: Mapping[str, object] | None = None  # what was judged when it opened


class Close(NamedTuple):
    """The obligation is met or cancelled (a no-op when none is open)."""

    rule_id: str
    subject: str


Evaluate = Callable[[Context], Iterable["Finding | Open | Close"]]


@dataclass(frozen=True, slots=True)
class Trigger:
    event: type[Payload]  # the catalogue's payload class of the events it judges
    phase: Phase
    evaluate: Evaluate


@dataclass(frozen=True, slots=True)
class StatusWatch:
    """Step (5): called for each client whose status was re-evaluated and is or was bad,
    with the stored status before and the status now (staying good opens or closes nothing)."""

    status: ClientStatus  # declared by the rule family that owns it, listed in the registry
    reconcile: Callable[[Context, str, bool, bool], Iterable[Open | Close]]


@dataclass(frozen=True, slots=True)
class AmendmentWatch:
    """Steps (2) and (4): called when an amendment of ``parameter`` takes effect, with the
    value in force just before its ``effective_from``."""

    parameter: str
    on_effective: Callable[[Context, Amendment, ParameterValue], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    title: str
    severity: Severity
    citation: str
    obligation: str  # the module docstring: the obligation in plain English
    parameters: tuple[Parameter, ...] = ()
    uses: tuple[tuple[str, str], ...] = ()  # other rules' parameters its verdicts depend on
    triggers: tuple[Trigger, ...] = ()
    status_watch: StatusWatch | None = None
    overdue: Callable[[Context, Obligation], Finding] | None = None
    amendment_watch: AmendmentWatch | None = None

    def parameters_in_force(self, params: ParamsInForce) -> tuple[tuple[str, ParameterValue], ...]:
        """Every parameter that decides this rule's verdicts, as in force now."""
        own = tuple((p.name, params.value(self.rule_id, p.name)) for p in self.parameters)
        return own + tuple((name, params.value(rule_id, name)) for rule_id, name in self.uses)

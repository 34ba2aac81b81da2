"""SYS-01, the reserved finding of an event the monitor could not evaluate.

Not a rule of the rulebook (the registry holds its 26 and no more): the monitor records it
when evaluating a stored event raises, instead of stopping for good on a ledger that can never
be repaired, or skipping the event in silence. The event's partial effect is undone, so the
state is as if the event had not been applied, and the monitor goes on with the next one.

The finding is a pure function of the event and the error, so a rebuild or a replay of the
same log records the same finding (same id, same content).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime

from domain.events import EVENT_TYPES, Envelope, RecordedEvent
from domain.values import TIME_RANGE_TEXT, time_in_range
from policies.finding import Finding, finding_id

RULE_ID = "SYS-01"
TITLE = "Event could not be evaluated"
SEVERITY = "critical"
OBLIGATION = (
    "The monitor met a stored event it could not evaluate: no rule judged it and its effect on "
    "the monitor's state was undone. Find the event with `regledger audit` or `explain`, "
    "report the defect; the monitor went on with the next event."
)
REASON_CHARS_MAX = 300


def reason_of(error: BaseException) -> str:
    """The error in one line, bounded: the class and its message (no traceback, no address)."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= REASON_CHARS_MAX else text[: REASON_CHARS_MAX - 3] + "..."


# The payload fields that hold a Timestamp, per event type (the envelope's own is occurred_at).
_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(field for field, info in model.model_fields.items() if info.annotation is AwareDatetime)
    for name, model in EVENT_TYPES.items()
}


TIMED_TYPES = frozenset(name for name, fields in _TIME_FIELDS.items() if fields)


def time_out_of_range(envelope: Envelope) -> str | None:
    """Why an event cannot be placed in business time, if it cannot: a Timestamp outside
    events.md's range, which ingest refuses now but earlier versions stored. No rule can judge
    it soundly (its Hong Kong day, midnights and deadlines may not even exist)."""
    if not time_in_range(envelope.occurred_at):
        return f"occurred_at {envelope.occurred_at.isoformat()} lies outside {TIME_RANGE_TEXT}"
    for name in _TIME_FIELDS[envelope.type]:
        moment = getattr(envelope.data, name)
        if not time_in_range(moment):
            return f"data.{name} {moment.isoformat()} lies outside {TIME_RANGE_TEXT}"
    return None


def unevaluable(event: RecordedEvent, reason: str) -> Finding:
    """The SYS-01 finding of ``event``. Its times are the event's ``occurred_at`` when that
    lies in events.md's range, else the time the ledger recorded it: a time outside the range
    (stored by an earlier version) may not even convert to UTC, which every reader of a finding
    does."""
    envelope = event.envelope
    at: datetime = envelope.occurred_at if time_in_range(envelope.occurred_at) else event.recorded_at
    return Finding(
        finding_id(RULE_ID, envelope.event_id, envelope.event_id), RULE_ID, SEVERITY,
        envelope.event_id, envelope.event_id, at, at, event.position,
        f"event at position {event.position} could not be evaluated: {reason}",
        {},
        {"event_type": envelope.type, "occurred_at_as_sent": envelope.occurred_at.isoformat(),
         "reason": reason},
    )

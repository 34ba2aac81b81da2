"""A finding, and the one helper that builds it, so rule id, severity and the parameters in
force always reach it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from domain.book.entities import Obligation
from domain.book.money import number_text
from domain.book.records import parameter_json
from policies.rule import Context, Rule

FINDING_ID_HEX_CHARS = 24
JsonParameter = str | int | bool | list[str]


@dataclass(frozen=True, slots=True)
class Finding:
    finding_id: str  # "F-" + sha256("rule|event|subject|ordinal")[:24]
    rule_id: str
    severity: str  # critical | high | medium | low
    event_id: str  # the triggering event, or for a missed deadline the one that started it
    subject: str
    occurred_at: datetime  # occurred_at of event_id's event
    detected_at: datetime  # occurred_at of the event being processed when detected
    position: int  # ledger position of the event being processed when detected
    message: str  # one sentence a compliance officer understands, with the figures
    parameters: Mapping[str, JsonParameter]  # the parameters in force that decided it
    evidence: Mapping[str, object]  # the values the rule judged, JSON-able


def finding_id(rule_id: str, event_id: str, subject: str, ordinal: int = 0) -> str:
    text = f"{rule_id}|{event_id}|{subject}|{ordinal}"
    return "F-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINDING_ID_HEX_CHARS]


def jsonable(value: object) -> object:
    """Evidence as JSON: exact decimal strings, ISO instants and dates, lists, objects."""
    kind = type(value)  # the plain values first, by exact type (cheaper than isinstance)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if isinstance(value, Decimal | Fraction):
        return number_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    assert value is None or isinstance(value, str | int | bool), f"not evidence: {value!r}"
    return value


def parameters_json(pairs: Iterable[tuple[str, object]]) -> dict[str, JsonParameter]:
    return {name: parameter_json(value) for name, value in pairs}


def evidence_json(evidence: Mapping[str, object] | None) -> dict[str, object]:
    return {name: jsonable(value) for name, value in (evidence or {}).items()}


def finding(
    rule: Rule,
    ctx: Context,
    subject: str,
    message: str,
    evidence: Mapping[str, object] | None = None,
) -> Finding:
    """A finding of ``rule`` triggered by the event being processed."""
    return Finding(
        finding_id(rule.rule_id, ctx.event.event_id, subject),
        rule.rule_id, rule.severity, ctx.event.event_id, subject, ctx.now, ctx.now,
        ctx.position, message, parameters_json(rule.parameters_in_force(ctx.params)),
        evidence_json(evidence),
    )


def earlier_event_finding(
    rule: Rule,
    ctx: Context,
    origin: tuple[str, datetime],
    subject: str,
    message: str,
    evidence: Mapping[str, object] | None = None,
    parameters: Iterable[tuple[str, object]] | None = None,
) -> Finding:
    """A finding about an earlier event ``origin`` (event id, occurred_at), detected now: a
    missed deadline, or an amendment taking effect."""
    event_id, occurred_at = origin
    pairs = rule.parameters_in_force(ctx.params) if parameters is None else parameters
    return Finding(
        finding_id(rule.rule_id, event_id, subject),
        rule.rule_id, rule.severity, event_id, subject, occurred_at, ctx.now, ctx.position,
        message, parameters_json(pairs),
        evidence_json(evidence),
    )


def missed_deadline(
    rule: Rule, ctx: Context, obligation: Obligation, message: str,
    evidence: Mapping[str, object] | None = None,
) -> Finding:
    """The finding of an obligation whose deadline passed, with the parameters in force when
    it opened (reading 5: a deadline is fixed when its obligation opens)."""
    details = {
        **dict(obligation.evidence), "deadline": obligation.deadline, "detected_at": ctx.now,
        **(evidence or {}),
    }
    return earlier_event_finding(
        rule, ctx, (obligation.start_event_id, obligation.start_occurred_at),
        obligation.subject, message, details, obligation.parameters,
    )


def number_repeats(findings: Iterable[Finding]) -> list[Finding]:
    """Give each repeat of the same (rule, event, subject) within one event its ordinal."""
    seen: dict[tuple[str, str, str], int] = {}
    numbered = []
    for f in findings:
        key = (f.rule_id, f.event_id, f.subject)
        ordinal = seen.get(key, 0)
        seen[key] = ordinal + 1
        if ordinal:
            f = replace(f, finding_id=finding_id(f.rule_id, f.event_id, f.subject, ordinal))
        numbered.append(f)
    return numbered

"""The rule catalogue: every rule with its id, title, severity, citation, the obligation in
plain words and its parameters, each with its default, the amendments the ledger holds
(value, effective date, notice reference) and the value in force.

"In force" is as of the latest business time in the ledger (the latest ``occurred_at`` of any
upstream event, ``projections.audit.days.latest_time``; never the wall clock, and not turned back
by a late, back-dated event): an amendment whose ``effective_from`` is later is listed as
scheduled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from policies.registry import RULES
from policies.rule import Rule
from projections.audit.days import latest_time
from projections.audit.query import AuditEntry, AuditQuery, audit_events
from projections.explain.citations import citation, plain_obligation
from projections.explain.plain import when
from projections.store.base import Store

AMENDMENTS_PER_RULE_MAX = 500


def catalogue(store: Store | None) -> list[dict[str, Any]]:
    """With no store, the rulebook alone (defaults, no amendments)."""
    newest = None if store is None else latest_time(store)
    return [_rule(store, rule, newest) for rule in RULES]


def _rule(store: Store | None, rule: Rule, now: datetime | None) -> dict[str, Any]:
    amendments: list[AuditEntry] = []
    if store is not None:
        amendments = audit_events(store, AuditQuery(subject=rule.rule_id, types=("RuleParameterAmended",),
                                                    limit=AMENDMENTS_PER_RULE_MAX))
    cited = citation(rule.rule_id)
    parameters = []
    for p in rule.parameters:
        default = list(p.default) if isinstance(p.default, tuple) else str(p.default)
        history = [
            {"value": e.data["value"], "effective_from": e.data["effective_from"], "notice_ref": e.data.get("notice_ref"),
             "event_id": e.event_id, "position": e.position}
            for e in amendments if e.data.get("rule_id") == rule.rule_id and e.data.get("parameter") == p.name
        ]
        effective = [h for h in history if now is not None and datetime.fromisoformat(h["effective_from"]) <= now]
        latest = max(effective, key=lambda h: (h["effective_from"], h["position"]), default=None)
        parameters.append({
            "name": p.name, "type": p.type, "default": default,
            "in_force": default if latest is None else latest["value"],
            "in_force_since": None if latest is None else latest["effective_from"],
            "amendments": history,
        })
    return {
        "rule_id": rule.rule_id, "title": rule.title, "severity": rule.severity,
        "citation": cited.as_json(), "obligation": plain_obligation(rule.obligation),
        "parameters": parameters, "uses": [f"{rule_id}.{name}" for rule_id, name in rule.uses],
    }


def shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def as_text(rules: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for r in rules:
        out += [f"{r['rule_id']}  {r['title']}  [{r['severity']}]", f"  {r['obligation']}",
                f"  Source: {r['citation']['text']}" + (f" ({r['citation']['note']})" if r["citation"]["note"] else "")]
        for p in r["parameters"]:
            since = "rulebook default" if p["in_force_since"] is None else f"since {when(p['in_force_since'])}"
            out.append(f"  parameter {p['name']} = {shown(p['in_force'])} ({since}; default {shown(p['default'])})")
            out += [f"    amended to {shown(h['value'])} effective {when(h['effective_from'])}"
                    f" (notice {h['notice_ref']}; event {h['event_id']} at position {h['position']})"
                    for h in p["amendments"]]
        if r["uses"]:
            out.append(f"  also uses {', '.join(r['uses'])}")
        out.append("")
    return "\n".join(out)

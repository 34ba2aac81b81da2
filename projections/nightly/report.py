"""The nightly report of one Hong Kong day, as one JSON-able value.

Everything in it is a function of the ledger's events that occurred at or before the
cut-off, the findings detected by then and the quarantine: no time of generation, no wall
clock. The same ledger therefore always gives the same report for the same day.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from domain.quarantine import entry_label
from domain.values import time_text
from policies import supervisory, system
from policies.registry import RULES
from projections.evidence.attest import recent_checkpoint
from projections.nightly import figures, findings
from projections.nightly.scan import LedgerScan, scan
from projections.nightly.state import state_at
from projections.nightly.window import HONG_KONG, Window, holiday_name, is_business_day
from projections.store.base import FindingRow, Store
from projections.stress.nightly import stress_section

REPORT_FORMAT = "regledger-nightly-v1"
TOP_MAX = 10
QUARANTINE_PAGE = 1_000
_RAW_OCCURRED_AT = re.compile(rb'"occurred_at"\s*:\s*"([^"\\]{1,64})"')


def hk(moment: datetime) -> str:
    return time_text(moment, HONG_KONG)


def build(store: Store, day: date, *, stale_days: int = 7, top: int = TOP_MAX) -> dict[str, Any]:
    window = Window(day)
    ledger = scan(store, window)
    state = state_at(store, window.cutoff, ledger.prefix)
    found = findings.load(store, window)
    new = found.new(window)
    coverage = figures.coverage(state.book, window.cutoff)
    exposures = figures.exposures(state.book)
    return {
        "format": REPORT_FORMAT,
        "date": day.isoformat(),
        "business_day": is_business_day(day),
        "holiday": holiday_name(day),
        "timezone": "Asia/Hong_Kong",
        "window": {"start": hk(window.start), "cutoff": hk(window.cutoff),
                   "reading": "events with start < occurred_at <= cutoff belong to the day"},
        "ledger": _ledger(store, ledger),
        "summary": _summary(found, window, new),
        "by_severity": _by(found, window, "severity", findings.SEVERITIES),
        "by_rule": _by_rule(found, window),
        "by_subject": _by_subject(found, window, new, top * 2),
        "new_findings": [_finding(r) for r in new],
        "overdue_obligations": [
            {"rule_id": o.rule_id, "title": _titles()[o.rule_id], "subject": o.subject,
             "started_by": o.start_event_id, "started_at": hk(o.started_at), "deadline": hk(o.deadline),
             "overdue_minutes": int((window.cutoff - o.deadline).total_seconds() // 60)}
            for o in figures.overdue_obligations(state.book, window.cutoff)
        ],
        "stale_cases": {"older_than_days": stale_days, "cases": [
            {"finding_id": r.finding_id, "rule_id": r.rule_id, "severity": r.severity, "subject": r.subject,
             "status": case.status_at(window.cutoff), "opened_at": hk(case.opened_at), "age_days": age}
            for r, case, age in findings.stale_cases(found, window, stale_days)
        ]},
        "coverage": {
            "clients_with_debt": len(coverage),
            "short": sum(1 for c in coverage if c.short),
            "closest": [{"client_id": c.client_id, "debt": figures.money_text(c.debt),
                         "lending_value": figures.money_text(c.lending_value),
                         "coverage_ratio": figures.ratio_text(c.ratio), "short": c.short}
                        for c in coverage[:top]],
            "distribution": [{"bucket": label, "clients": n} for label, n in figures.distribution(coverage)],
        },
        "perpetual_exposures": {
            "clients_with_positions": sum(1 for e in exposures if not e.market_maker),
            "largest": [_exposure(e) for e in exposures if not e.market_maker][:top],
            "market_makers": [_exposure(e) for e in exposures if e.market_maker],
        },
        "insurance_fund": {
            "opening_balance": figures.money_text(ledger.fund_before_day),
            "closing_balance": figures.money_text(ledger.fund_at_cutoff),
            "movements": [{"event_id": m.event_id, "occurred_at": hk(m.occurred_at), "kind": m.kind,
                           "amount": figures.money_text(m.amount), "detail": m.detail}
                          for m in ledger.fund_moves],
        },
        "quarantine": _quarantine(store, window),
        "stress": stress_section(store, window.cutoff, ledger.covered),
        "history": [{"date": d.isoformat(), "total": sum(c.values()),
                     "by_rule": {rule: c[rule] for rule in sorted(c)}} for d, c in findings.history(found, window)],
    }


def _titles() -> dict[str, str]:
    return {**{rule.rule_id: rule.title for rule in RULES}, system.RULE_ID: system.TITLE, **supervisory.TITLES}


def _ledger(store: Store, ledger: LedgerScan) -> dict[str, Any]:
    # How the state at the cut-off was reached (from the monitor's state or from nothing)
    # is left out: it depends on when the report ran, and the report must not.
    section: dict[str, Any] = {
        "position": ledger.covered, "events": ledger.events,
        "events_of_day": sum(ledger.day_events.values()),
        "events_of_day_by_type": dict(sorted(ledger.day_events.items())),
        "digest": None,
    }
    if ledger.covered > 0:
        # Tamper evidence: the checkpoint at the cut-off position, the chain checked over the
        # day's links (from its first event's position), the root from the stored subtrees:
        # O(the day), where checking the whole chain each night was O(the ledger) (issue 22).
        point = recent_checkpoint(store, ledger.covered, ledger.day_first or ledger.covered)
        section["digest"] = {"position": point.position, "merkle_root": point.merkle_root.hex(),
                             "chain_hash": point.chain_hash.hex(), "recorded_at": hk(point.recorded_at)}
    return section


def _summary(found: findings.DayFindings, window: Window, new: list[FindingRow]) -> dict[str, int]:
    previous = window.previous
    return {
        "new": len(new), "new_previous_day": len(found.new(previous)),
        "open": len(found.open_at(window.cutoff)), "open_previous_day": len(found.open_at(previous.cutoff)),
        "resolved": len(found.resolved(window)), "resolved_previous_day": len(found.resolved(previous)),
        "critical_new": sum(1 for r in new if r.severity == "critical"),
    }


def _change(found: findings.DayFindings, window: Window, key: str) -> dict[str, Counter[str]]:
    previous = window.previous
    return {
        "new": findings.counted(found.new(window), key),
        "new_previous_day": findings.counted(found.new(previous), key),
        "open": findings.counted(found.open_at(window.cutoff), key),
        "open_previous_day": findings.counted(found.open_at(previous.cutoff), key),
        "resolved": findings.counted(found.resolved(window), key),
    }


def _row(name: str, value: str, counts: dict[str, Counter[str]]) -> dict[str, Any]:
    row: dict[str, Any] = {name: value, **{k: c[value] for k, c in counts.items()}}
    row["change"] = row["new"] - row["new_previous_day"]
    row["open_change"] = row["open"] - row["open_previous_day"]
    return row


def _by(found: findings.DayFindings, window: Window, key: str, values: tuple[str, ...]) -> list[dict[str, Any]]:
    counts = _change(found, window, key)
    return [_row(key, value, counts) for value in values]


def _by_rule(found: findings.DayFindings, window: Window) -> list[dict[str, Any]]:
    counts = _change(found, window, "rule_id")
    rows = [{**_row("rule_id", rule.rule_id, counts), "title": rule.title, "severity": rule.severity}
            for rule in RULES]
    # SYS-01 is no rule of the rulebook: its row shows only on a day it has something to count.
    unevaluable = _row("rule_id", system.RULE_ID, counts)
    if any(unevaluable[key] for key in counts):
        rows.append({**unevaluable, "title": system.TITLE, "severity": system.SEVERITY})
    # So are SUP-01..SUP-04, which only a regulator's store for one firm holds (issue 23).
    for reserved in supervisory.RESERVED:
        alerts = _row("rule_id", reserved.rule_id, counts)
        if any(alerts[key] for key in counts):
            rows.append({**alerts, "title": reserved.title, "severity": reserved.severity})
    return rows


def _by_subject(found: findings.DayFindings, window: Window, new: list[FindingRow], limit: int) -> list[dict[str, Any]]:
    today = findings.counted(new, "subject")
    before = findings.counted(found.new(window.previous), "subject")
    ranked = sorted(today.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"subject": s, "new": n, "new_previous_day": before[s], "change": n - before[s]} for s, n in ranked]


def _finding(r: FindingRow) -> dict[str, Any]:
    return {
        "finding_id": r.finding_id, "rule_id": r.rule_id, "title": _titles().get(r.rule_id, r.rule_id),
        "severity": r.severity, "subject": r.subject, "event_id": r.event_id,
        "occurred_at": hk(r.occurred_at), "detected_at": hk(r.detected_at), "position": r.position,
        "message": r.message, "evidence": json.loads(r.evidence), "parameters": json.loads(r.parameters),
    }


def _exposure(e: figures.Exposure) -> dict[str, Any]:
    ratio = None if e.maintenance == 0 else figures.ratio_text(e.equity / Fraction(e.maintenance))
    return {
        "client_id": e.client_id, "notional": figures.money_text(e.notional),
        "equity": figures.money_text(e.equity), "maintenance_requirement": figures.money_text(e.maintenance),
        "equity_to_maintenance": ratio,
        "positions": [{"contract_id": c, "contracts": str(q), "mark": str(m)} for c, q, m in e.positions],
    }


def _quarantined_at(row: dict[str, Any]) -> datetime:
    """Reading: a quarantined line belongs to the day its own ``occurred_at`` names when
    that can be read from it, else to the day it was received."""
    match = _RAW_OCCURRED_AT.search(row["raw"])
    if match is not None:
        try:
            moment = datetime.fromisoformat(match.group(1).decode("ascii"))
            if moment.tzinfo is not None:
                return moment
        except (ValueError, UnicodeDecodeError):
            pass
    received: datetime = row["received_at"]
    return received


def _quarantine(store: Store, window: Window) -> dict[str, Any]:
    lines = []
    offset = 0
    while True:
        page = store.quarantined(QUARANTINE_PAGE, offset)
        for row in page:
            if window.contains(_quarantined_at(row)):
                lines.append({"id": entry_label(row["id"]), "origin": row["origin"], "line": row["line"],
                              "event_id": row["event_id"], "received_at": hk(row["received_at"]),
                              "reasons": row["reasons"]})
        if len(page) < QUARANTINE_PAGE:
            return {"count": len(lines), "lines": lines}
        offset += QUARANTINE_PAGE

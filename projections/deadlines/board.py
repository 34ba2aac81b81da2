"""The deadlines board: every obligation the deadline rules hold open (MF-07 calls due, MF-08
enforcement, PERP-05 settlement, PERP-06 liquidation, PERP-08 funding), with its deadline and
the time left, soonest first.

Findings of these rules arrive in event time: an obligation past its deadline raises when the
next event after the deadline is processed, so in a quiet hour a missed deadline shows late.
This view counts the time left from a wall-clock moment ``now`` that its caller (the edge)
reads, and shows one already past as overdue. Only this view does: the findings themselves
stay in event time, so no finding ever depends on the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.book.entities import Obligation
from policies.registry import RULES_BY_ID
from projections.asof.replay import Replay
from projections.asof.state import header

# What each rule's obligation asks for, in an officer's words.
DUE = {
    "MF-07": "margin call to be issued",
    "MF-08": "margin call to be enforced",
    "PERP-05": "trade to be settled by the platform",
    "PERP-06": "account to be restored or liquidated",
    "PERP-08": "funding to be settled",
}
CLIENT_FIELD = "client_id"  # MF-08's evidence names the call's client


def time_left(seconds: int) -> str:
    """``2h 05m left``, ``overdue by 3m 20s``: to the second under an hour."""
    sign, s = ("overdue by ", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours:02d}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    else:
        text = f"{minutes}m {secs:02d}s"
    return sign + text + ("" if seconds < 0 else " left")


def row(obligation: Obligation, now: datetime) -> dict[str, Any]:
    seconds = int((obligation.deadline - now).total_seconds() // 1)
    evidence = dict(obligation.evidence)
    rule = RULES_BY_ID[obligation.rule_id]
    client = evidence.get(CLIENT_FIELD) if obligation.rule_id == "MF-08" else (
        obligation.subject if obligation.rule_id in ("MF-07", "PERP-06") else None
    )
    return {
        "rule_id": obligation.rule_id, "title": rule.title, "severity": rule.severity,
        "due": DUE.get(obligation.rule_id, rule.title), "subject": obligation.subject,
        "client_id": client,
        "started_at": obligation.start_occurred_at.isoformat(),
        "start_event_id": obligation.start_event_id,
        "deadline": obligation.deadline.isoformat(),
        "seconds_left": seconds, "time_left": time_left(seconds), "overdue": seconds < 0,
        "evidence": evidence,
    }


def board(state: Replay, now: datetime) -> dict[str, Any]:
    """``now`` is the wall clock, read by the caller; the obligations are the state's."""
    obligations = sorted(
        state.engine.book.obligations.values(), key=lambda o: (o.deadline, o.rule_id, o.subject)
    )
    rows = [row(o, now) for o in obligations]
    return {
        **header(state), "now": now.isoformat(),
        "open": len(rows), "overdue": sum(1 for r in rows if r["overdue"]),
        "obligations": rows,
    }

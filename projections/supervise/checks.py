"""The regulator's checks, as pure functions of replicated rows: no I/O, no clock (the
caller passes every time in), so that the same rows give the same alerts.

- ``link_problem``: does a new ledger row continue the chain the regulator verified?
- ``journal_alerts``: SUP-01 for every change to a ledger row or digest (an append-only table
  never changes), SUP-02 for every change to a finding the regulator already compared.
- ``digest_problem``: does a signed digest hold, and does the verified ledger agree with it?
- ``compare_findings``: SUP-02 for the findings one side has and the other lacks.
- ``four_eyes_alert``: SUP-03 for a case closed without its four-eyes record.
- ``feed_state``: SUP-04 when the feed has been silent or stopped longer than allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.cases.codec import CaseFact
from domain.chain import Tip, chain_hash
from domain.evidence.digest import Checkpoint, Digest, signature_valid
from policies.finding import Finding
from policies.supervisory import case_alert, chain_alert, feed_alert, finding_alert


@dataclass(frozen=True, slots=True)
class LedgerRow:
    position: int
    event_id: str
    version: int
    topic: str
    state: bytes
    recorded_at: datetime
    chain_hash: bytes


def link_problem(tip: Tip, row: LedgerRow) -> str | None:
    """None when ``row`` continues the chain at ``tip``; else SUP-01's kind."""
    if row.position != tip.position + 1:
        return "gap"
    expected = chain_hash(row.position, row.recorded_at, tip.chain_hash, row.event_id, row.version, row.topic, row.state)
    return None if expected == row.chain_hash else "broken"


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _finding(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "occurred_at": _instant(row["occurred_at"]), "detected_at": _instant(row["detected_at"])}


def journal_alerts(firm: str, entries: Iterable[Mapping[str, Any]], tip: Tip, compared_upto: int,
                   ours: Callable[[str], Mapping[str, Any] | None], theirs: Callable[[str], bool]) -> list[Finding]:
    """Alerts for journal entries, in journal order. ``ours(finding_id)`` is the regulator's
    finding of that id (or None), ``theirs(finding_id)`` whether the firm holds it now."""
    found: list[Finding] = []
    for entry in entries:
        table, op, old, new = entry["table_name"], entry["op"], entry["old"], entry["new"]
        if table == "ledger_events":
            if op == "TRUNCATE":
                at = tip.recorded_at or datetime.fromisoformat("1970-01-02T00:00:00+00:00")
                found.append(chain_alert(firm, "truncated", 1, "", at, {"tip": tip.position}))
            else:
                kind = "edited" if op == "UPDATE" else "deleted"
                # A row moved through a position no ledger has (a reorder's swap) is named by
                # where it went.
                named = old if int(old["notification_id"]) >= 1 or new is None else new
                found.append(chain_alert(firm, kind, int(named["notification_id"]), str(old["originator_id"]),
                                         _instant(old["recorded_at"])))
        elif table == "supervisory_digests":
            if op == "TRUNCATE":
                at = tip.recorded_at or datetime.fromisoformat("1970-01-02T00:00:00+00:00")
                found.append(chain_alert(firm, "digest-changed", 1, "", at, {"digests": "truncated"}))
            else:
                found.append(chain_alert(firm, "digest-changed", int(old["position"]), "", _instant(old["recorded_at"])))
        elif table == "findings":
            found.extend(_finding_change(firm, op, old, new, compared_upto, ours, theirs))
    return found


def _finding_change(firm: str, op: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                    compared_upto: int, ours: Callable[[str], Mapping[str, Any] | None],
                    theirs: Callable[[str], bool]) -> list[Finding]:
    if op == "TRUNCATE":
        return []  # the findings compared so far are compared again below, as the firm lacks them
    row = old if op != "INSERT" else new
    assert row is not None
    if int(row["position"]) > compared_upto:
        return []  # not compared yet: the comparison of its window judges the table as it is then
    if op == "UPDATE":
        return [finding_alert(firm, "altered", _finding(row))]
    if op == "DELETE":
        mine = ours(str(row["finding_id"]))
        return [] if mine is None or theirs(str(row["finding_id"])) else [finding_alert(firm, "lacks", _finding(mine))]
    return [] if ours(str(row["finding_id"])) is not None else [finding_alert(firm, "in-addition", _finding(row))]


def digest_problem(digest: Digest, key: Ed25519PublicKey, verified: Checkpoint) -> str | None:
    """None when the firm's key signed ``digest`` and the regulator's ledger agrees with it."""
    if not signature_valid(digest, key):
        return "digest-unsigned"
    return None if digest.checkpoint == verified else "digest-contradicted"


def compare_findings(firm: str, theirs: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """SUP-02 for each finding in one list and not the other (both of one window of positions)."""
    their_ids = {str(r["finding_id"]) for r in theirs}
    our_ids = {str(r["finding_id"]) for r in ours}
    lacking = [finding_alert(firm, "lacks", _finding(r)) for r in ours if str(r["finding_id"]) not in their_ids]
    extra = [finding_alert(firm, "in-addition", _finding(r)) for r in theirs if str(r["finding_id"]) not in our_ids]
    return sorted(lacking + extra, key=lambda f: (f.position, f.finding_id))


def four_eyes_alert(firm: str, position: int, fact: CaseFact, severity: str | None,
                    four_eyes: frozenset[str]) -> Finding | None:
    """SUP-03 when the case action at ``position`` closed a finding of a four-eyes ``severity``
    with one officer: a plain resolve, or an approval by the officer who asked for it."""
    if fact.type == "CaseResolved" and severity in four_eyes:
        kind = "one-officer"
    elif fact.type == "CaseResolutionApproved" and fact.actor == fact.details.get("requested_by"):
        kind = "self-approved"
    else:
        return None
    return case_alert(firm, kind, position, fact.finding_id, fact.actor, fact.at, four_eyes)


@dataclass(frozen=True, slots=True)
class FeedState:
    healthy: bool
    unhealthy_since: datetime | None
    alert: Finding | None


def feed_state(firm: str, *, enabled: bool, running: bool, last_message_at: datetime | None,
               unhealthy_since: datetime | None, now: datetime, silent_after_s: float, position: int) -> FeedState:
    """SUP-04 once the feed has been stopped, or silent for longer than ``silent_after_s``,
    for ``silent_after_s``: one alert per episode (the episode is named by when it began)."""
    if not enabled:
        reason = "disabled"
    elif not running:
        reason = "stopped (no replication worker)"
    elif last_message_at is None or (now - last_message_at).total_seconds() > silent_after_s:
        reason = "silent"
    else:
        return FeedState(True, None, None)
    since = unhealthy_since or (last_message_at if reason == "silent" and last_message_at is not None else now)
    late = (now - since).total_seconds() >= silent_after_s
    return FeedState(False, since, feed_alert(firm, since, now, position, reason, silent_after_s) if late else None)

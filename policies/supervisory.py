"""SUP-01..SUP-04, the reserved findings of the regulator's node (issue 23).

Not rules of the rulebook (the registry holds its 26 and no more) and never raised on a firm's
own store: ``regledger supervise run`` records them in the regulator's store for one firm when
its independent checks of the firm's replicated tables fail. Like SYS-01, each is a pure
function of what was replicated (and, for SUP-04 only, of the time the caller passes in), so
the same replicated rows give the same alerts, with the same ids, however often they are
checked: a check that runs again after an interruption records nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from policies.finding import Finding, JsonParameter, finding_id

SILENT_AFTER_S_DEFAULT = 120.0  # the firm's server sends a keepalive at least every wal_sender_timeout / 2


@dataclass(frozen=True, slots=True)
class FollowerSetting:
    """A setting of the regulator's follower (``regledger supervise run``) that decides an alert."""

    name: str
    type: str
    default: str
    option: str  # the option of ``supervise run`` that sets it


@dataclass(frozen=True, slots=True)
class Reserved:
    rule_id: str
    title: str
    severity: str
    obligation: str
    parameters: tuple[FollowerSetting, ...] = ()


CHAIN = Reserved(
    "SUP-01", "Firm's ledger not whole", "critical",
    "The firm's replicated ledger or one of its signed digests changed, lost or gained a row "
    "that an append-only, hash-chained ledger never changes, loses or gains: the position is "
    "named. Ask the firm for the row as it was; the regulator's copy keeps what it verified.",
)
FINDINGS = Reserved(
    "SUP-02", "Firm's findings differ from the regulator's", "high",
    "The regulator's own monitor, run over the replicated ledger, found a finding the firm's "
    "monitor lacks, or the firm's findings hold one the regulator's monitor did not raise.",
)
FOUR_EYES = Reserved(
    "SUP-03", "Case closed without four-eyes record", "high",
    "A case the firm's four-eyes policy required two officers to close is closed without a "
    "second officer's approval on the ledger.",
    (FollowerSetting("four_eyes_severities", "list[str]", "REGLEDGER_FOUR_EYES_SEVERITIES", "--four-eyes-severities"),),
)
FEED = Reserved(
    "SUP-04", "Supervisory feed late or silent", "high",
    "The firm's replication feed has delivered nothing for longer than the threshold, or no "
    "replication worker is running: the regulator's copy may be incomplete. Changes are kept "
    "on the firm's side (its replication slot) and arrive once the feed resumes.",
    (FollowerSetting("silent_after_s", "seconds", f"{SILENT_AFTER_S_DEFAULT:g}", "--silent-after-s"),),
)
RESERVED: tuple[Reserved, ...] = (CHAIN, FINDINGS, FOUR_EYES, FEED)
RULE_IDS = tuple(r.rule_id for r in RESERVED)
RESERVED_BY_ID = {r.rule_id: r for r in RESERVED}
TITLES = {r.rule_id: r.title for r in RESERVED}

# SUP-01's kinds: what happened at the named position.
CHAIN_KINDS = {
    "broken": "its hash does not recompute from its content and the position before it",
    "gap": "it is missing: a later position arrived without it",
    "edited": "the row was changed (an UPDATE) after it was recorded",
    "deleted": "the row was deleted",
    "truncated": "the ledger was truncated: every position up to the regulator's tip is gone",
    "digest-unsigned": "a published digest is not signed by the firm's configured key",
    "digest-contradicted": "the ledger the regulator verified does not match the signed digest",
    "digest-changed": "a published digest was changed or deleted",
}
CASE_KINDS = {
    "one-officer": "one officer closed it (no request and approval), though its severity needs two",
    "self-approved": "the officer who asked for the closing approved it",
}
FINDING_KINDS = {
    "lacks": "the regulator's monitor raised it, the firm's findings lack it",
    "in-addition": "the firm's findings hold it, the regulator's monitor did not raise it",
    "altered": "the firm changed the finding after recording it",
}


def _build(rule: Reserved, key: str, firm: str, event_id: str, at: datetime, detected_at: datetime,
           position: int, message: str, evidence: Mapping[str, object],
           parameters: Mapping[str, JsonParameter] | None = None) -> Finding:
    """The id is derived from ``key`` only: the parameters in force are recorded beside it."""
    return Finding(finding_id(rule.rule_id, key, firm), rule.rule_id, rule.severity, event_id or firm, firm,
                   at, detected_at, position, message, dict(parameters or {}), {"firm": firm, **evidence})


def chain_alert(firm: str, kind: str, position: int, event_id: str, at: datetime,
                detail: Mapping[str, object] | None = None) -> Finding:
    """SUP-01 at ``position``; ``at`` is the ledger time of the row concerned."""
    reason = CHAIN_KINDS[kind]
    return _build(CHAIN, f"{kind}@{position}", firm, event_id, at, at, position,
                  f"firm {firm}: ledger position {position}: {reason}", {"kind": kind, **(detail or {})})


def finding_alert(firm: str, kind: str, row: Mapping[str, object]) -> Finding:
    """SUP-02 about one finding (a row of the firm's or the regulator's findings)."""
    reason = FINDING_KINDS[kind]
    the_id, rule_id = str(row["finding_id"]), str(row["rule_id"])
    position = int(str(row["position"]))
    occurred = row["occurred_at"]
    detected = row["detected_at"]
    assert isinstance(occurred, datetime) and isinstance(detected, datetime)
    return _build(FINDINGS, f"{kind}:{the_id}", firm, str(row["event_id"]), occurred, detected, position,
                  f"firm {firm}: finding {the_id} ({rule_id} on {row['subject']} at position {position}): {reason}",
                  {"kind": kind, "finding_id": the_id, "rule_id": rule_id, "subject": str(row["subject"])})


def case_alert(firm: str, kind: str, position: int, finding: str, actor: str, at: datetime,
               four_eyes_severities: frozenset[str] | None = None) -> Finding:
    """SUP-03 for the case action at ledger ``position`` that closed ``finding``."""
    parameters = None if four_eyes_severities is None else {"four_eyes_severities": sorted(four_eyes_severities)}
    return _build(FOUR_EYES, f"{kind}@{position}", firm, finding, at, at, position,
                  f"firm {firm}: the case of finding {finding} was closed at ledger position {position} by {actor}:"
                  f" {CASE_KINDS[kind]}", {"kind": kind, "finding_id": finding, "actor": actor}, parameters)


def feed_alert(firm: str, since: datetime, now: datetime, position: int, reason: str,
               silent_after_s: float | None = None) -> Finding:
    """SUP-04 for the episode that began at ``since`` (one alert per episode)."""
    silent_s = max(0, round((now - since).total_seconds()))
    parameters = None if silent_after_s is None else {"silent_after_s": f"{silent_after_s:g}"}
    return _build(FEED, f"since:{since.isoformat()}", firm, firm, since, now, position,
                  f"firm {firm}: supervisory feed {reason} for {silent_s} s; the regulator's copy ends at position {position}",
                  {"reason": reason, "since": since.isoformat(), "silent_s": silent_s}, parameters)

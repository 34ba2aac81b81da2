"""Why a supervisory alert (SUP-01..SUP-04) was raised, in the shape of every explanation:
its reserved rule, the parameters of the regulator's follower that decided it, the ledger row of
the regulator's verified copy at the position concerned (when the copy holds it), and, under
``supervision``, what was seen on the firm's feed, the position or finding concerned and what
the regulator should do next.

An alert is a record of what the follower saw on the firm's feed, not a verdict on the
regulator's own ledger: there is no judged state and no arithmetic.
"""

from __future__ import annotations

import json
from typing import Any

from policies.supervisory import CHAIN_KINDS, RESERVED_BY_ID
from projections.audit.query import AuditEntry, entries_at, event_at
from projections.cases import find_finding
from projections.store.base import FindingRow, Store

_CHAIN_NEXT = {
    "edited": "Ask the firm for the row at position {position} as it was first recorded, and who changed it, when and"
              " why (its database's audit log). The regulator's copy keeps the row it verified: compare the two.",
    "deleted": "Ask the firm why the row at position {position} was deleted and for the row as it was. The"
               " regulator's copy keeps the row it verified.",
    "truncated": "Ask the firm why its ledger was truncated and for the ledger as it was. The regulator's copy keeps"
                 " every row it verified, up to position {tip}.",
    "broken": "The regulator's copy stops before position {position} until the firm's ledger continues the chain:"
              " ask the firm why the row at {position} does not recompute (a row altered before the regulator read"
              " it, or a row inserted by hand).",
    "gap": "The regulator's copy stops before position {position}: ask the firm why that position is missing"
           " (deleted before the regulator read it).",
    "digest-unsigned": "Ask the firm which key signed the digest at position {position}; check that the public key"
                       " given to `regledger supervise run --public-key` is the firm's current one.",
    "digest-contradicted": "The firm signed a digest of position {position} that the ledger the regulator verified"
                           " does not match: ask the firm for its ledger as it was when it signed.",
    "digest-changed": "Ask the firm why a digest it published (position {position}) was changed or deleted.",
}
_FINDING_NEXT = {
    "lacks": "Ask the firm why its monitor has no finding {finding_id} ({rule_id} on {subject}); `regledger explain"
             " {finding_id}` on the regulator's store says why the regulator's monitor raised it.",
    "in-addition": "Ask the firm where its finding {finding_id} ({rule_id} on {subject}) comes from: the regulator's"
                   " monitor, over the same verified ledger, did not raise it (a parameter or amendment the regulator"
                   " lacks, or a finding written by hand).",
    "altered": "Ask the firm for finding {finding_id} as first recorded, and who changed it and why.",
}
_NEXT = {
    "SUP-03": "Ask the firm for the four-eyes record of the case of finding {finding_id}: who asked for the closing"
              " and which second officer approved it. The case action is on the verified ledger at position {position}.",
    "SUP-04": "Check the subscription on the regulator's server (pg_stat_subscription) and the firm's server and"
              " network. The firm's replication slot keeps the changes: once the feed resumes the copy catches up"
              " by itself. If the slot was invalidated, subscribe into a new feed database (ops/deploy/REPLICATION.md).",
}
ALWAYS_NEXT = ("Record what the firm answers as a case action on this alert (a comment, then a resolution):"
               " the alert is a record of the regulator's, raised once, kept by a rebuild.")


def is_supervisory(rule_id: str) -> bool:
    return rule_id in RESERVED_BY_ID


def explain_alert(store: Store, finding: FindingRow) -> dict[str, Any]:
    reserved = RESERVED_BY_ID[finding.rule_id]
    seen: dict[str, Any] = json.loads(finding.evidence)
    row = _row_at(store, finding)
    tip = store.tip().position
    concerned = _concerned(store, finding, seen, row, tip)
    return {
        "rule": {
            "rule_id": reserved.rule_id, "title": reserved.title, "severity": reserved.severity,
            "citation": None, "obligation": reserved.obligation,
            "parameters_declared": [{"name": p.name, "type": p.type, "default": p.default, "option": p.option}
                                    for p in reserved.parameters],
            "uses": [],
        },
        "parameters_in_force": json.loads(finding.parameters),
        "triggering_event": None if row is None else row.as_json(),
        "detected_by": None,
        "judged_state": None,
        "evidence_events": [] if row is None else [row.as_json()],
        "supervision": {
            "firm": seen.get("firm", finding.subject), "kind": seen.get("kind", seen.get("reason")),
            "seen": seen, "concerned": concerned, "regulator_copy_tip": tip,
            "next_steps": [_next_step(finding, seen, tip), ALWAYS_NEXT],
        },
    }


def _row_at(store: Store, finding: FindingRow) -> AuditEntry | None:
    """The row of the regulator's verified copy the alert is about: its event, else its position."""
    if finding.rule_id == "SUP-04":
        return None  # about the feed, not a row
    found = event_at(store, finding.event_id) if finding.event_id != finding.subject else None
    if found is None and finding.rule_id in ("SUP-01", "SUP-03"):
        found = next(iter(entries_at(store, [finding.position])), None)
    return found


def _concerned(store: Store, finding: FindingRow, seen: dict[str, Any], row: AuditEntry | None,
               tip: int) -> dict[str, Any]:
    concerned: dict[str, Any] = {"position": finding.position}
    if finding.rule_id == "SUP-04":
        concerned["what"] = "the regulator's verified copy ended here when the alert was raised"
    if finding.rule_id == "SUP-01":
        kind = str(seen.get("kind", ""))
        concerned["what"] = CHAIN_KINDS.get(kind, kind)
        concerned["regulator_copy"] = (
            f"holds the verified row at position {finding.position}" if row is not None and row.position == finding.position
            else f"ends at position {tip}: it holds no row at position {finding.position}")
    if "finding_id" in seen:
        held = find_finding(store, str(seen["finding_id"]))
        concerned["finding"] = {
            "finding_id": seen["finding_id"], "rule_id": seen.get("rule_id", None if held is None else held.rule_id),
            "subject": seen.get("subject", None if held is None else held.subject),
            "held_by_the_regulator": held is not None and not is_supervisory(held.rule_id),
        }
    return concerned


def _next_step(finding: FindingRow, seen: dict[str, Any], tip: int) -> str:
    kind = str(seen.get("kind", ""))
    if finding.rule_id == "SUP-01":
        template = _CHAIN_NEXT.get(kind, "Ask the firm about its ledger at position {position}.")
    elif finding.rule_id == "SUP-02":
        template = _FINDING_NEXT.get(kind, "Ask the firm about finding {finding_id}.")
    else:
        template = _NEXT[finding.rule_id]
    return template.format(position=finding.position, tip=tip, finding_id=seen.get("finding_id", "?"),
                           rule_id=seen.get("rule_id", "?"), subject=seen.get("subject", "?"))

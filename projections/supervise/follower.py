"""One cycle of the regulator's follower over one firm's feed (``regledger supervise run``).

1. Read what the follower checked so far (the feed's ``supervision.progress``) and where the
   regulator's own copy of the ledger ends (its store's tip).
2. Turn the journal's new entries into alerts: any change to a ledger row or a digest is
   SUP-01 at its position; a change to a finding already compared is SUP-02.
3. Take the new ledger rows in position order while each continues the verified chain; the
   first that does not (a gap, a hash that does not recompute) is SUP-01 and the copy stops
   there (the same row gives the same alert next time, recorded once).
4. Append the verified rows to the regulator's store and bring its own monitor up to date.
   Then look at each case action the copy gained: a case of a four-eyes severity closed by
   one officer is SUP-03.
5. Check each digest the firm signed up to the verified tip: signed by the configured key, and
   the verified ledger's checkpoint equal to it, else SUP-01.
6. Compare the firm's findings with the regulator's over the positions both monitors passed
   since the last comparison: SUP-02 for each one-sided finding.
7. Judge the feed's health with the time passed in: SUP-04 once stopped or silent too long.
8. Record the alerts in the store's findings (each once: ids are content-derived), then the
   progress. Interrupted anywhere, the next cycle repeats the unsaved part with the same
   outcome, so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.cases.codec import decode_case_event, is_case_topic
from domain.chain import ChainedRow, Tip
from domain.evidence.digest import Checkpoint, Digest
from policies.finding import Finding
from policies.supervisory import RULE_IDS, chain_alert
from projections.evidence.attest import checkpoint_at
from projections.monitor.runner import MonitorRunner, finding_row
from projections.sql import Sql
from projections.store.base import MONITOR_APPLICATION, Store
from projections.supervise.checks import (
    LedgerRow,
    compare_findings,
    digest_problem,
    feed_state,
    four_eyes_alert,
    journal_alerts,
    link_problem,
)
from projections.supervise.feed import Feed, Progress

CASE_SCAN_ENTRIES_PER_PAGE = 1_000

log = structlog.get_logger("regledger.supervise")
FINDING_COLUMNS = ("finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at",
                   "position", "message", "parameters", "evidence")
assert all(rule_id.startswith("SUP-") for rule_id in RULE_IDS)  # what the queries below leave out


@dataclass(frozen=True, slots=True)
class Cycle:
    accepted: int  # ledger rows verified and appended to the regulator's copy
    alerts: int  # SUP findings recorded for the first time
    position: int  # the regulator's verified tip
    journal_seq: int
    healthy: bool

    @property
    def busy(self) -> bool:
        return self.accepted > 0


def _row(row: dict[str, Any]) -> LedgerRow:
    return LedgerRow(int(row["position"]), str(row["originator_id"]), int(row["originator_version"]), str(row["topic"]),
                     bytes(row["state"]), row["recorded_at"], bytes(row["chain_hash"]))


class Follower:
    def __init__(self, feed: Feed, store: Store, public_key: Ed25519PublicKey, silent_after_s: float,
                 four_eyes_severities: frozenset[str]):
        self.feed, self.store, self.key, self.silent_after_s = feed, store, public_key, silent_after_s
        self.four_eyes = four_eyes_severities
        self.monitor = MonitorRunner(store)  # kept: its state stays in memory between passes
        self.firm = feed.firm
        self.sql = Sql(store)

    def cycle(self, now: datetime | None = None) -> Cycle:
        """One pass; ``now`` (default: the feed server's clock) judges the feed's health."""
        progress, tip = self.feed.progress(), self.store.tip()  # 1
        alerts: list[Finding] = []
        entries = self.feed.journal(progress.journal_seq)  # 2
        alerts += journal_alerts(self.firm, entries, tip, progress.compared_upto, self._ours, self.feed.has_finding)
        journal_seq = entries[-1]["seq"] if entries else progress.journal_seq
        accepted: list[ChainedRow] = []  # 3
        for raw in self.feed.ledger_after(tip.position):
            row = _row(raw)
            problem = link_problem(tip, row)
            if problem is not None:
                position = tip.position + 1 if problem == "gap" else row.position
                alerts.append(chain_alert(self.firm, problem, position, row.event_id if problem == "broken" else "",
                                          row.recorded_at, {"verified_tip": tip.position}))
                break
            accepted.append(ChainedRow(row.position, row.event_id, row.version, row.topic, row.state,
                                       row.recorded_at, row.chain_hash))
            tip = Tip(row.position, row.chain_hash, row.recorded_at)
        if accepted:  # 4
            with self.store.writer() as writer:
                writer.import_rows(accepted)
        self.monitor.catch_up()
        cases_checked = self._check_cases(progress.cases_checked, tip.position, alerts)
        digests_checked = progress.digests_checked  # 5
        for digest_row in self.feed.digests(progress.digests_checked, tip.position):
            alerts += self._digest_alerts(digest_row)
            digests_checked = int(digest_row["position"])
        bound = min(self.feed.monitor_position(MONITOR_APPLICATION), self.store.tracked_position())  # 6
        compared_upto = progress.compared_upto
        if bound > compared_upto:
            alerts += compare_findings(self.firm, self.feed.findings(compared_upto, bound), self._ours_between(compared_upto, bound))
            compared_upto = bound
        health = self.feed.health()  # 7
        state = feed_state(self.firm, enabled=health.enabled, running=health.worker_running,
                           last_message_at=health.last_message_at, unhealthy_since=progress.unhealthy_since,
                           now=now or health.server_now, silent_after_s=self.silent_after_s, position=tip.position)
        if state.alert is not None:
            alerts.append(state.alert)
        recorded = self._record(alerts)  # 8
        self.feed.save(Progress(journal_seq, digests_checked, compared_upto, cases_checked, state.unhealthy_since))
        if accepted or recorded:
            log.info("supervision_cycle_done", firm=self.firm, accepted=len(accepted), alerts=recorded, position=tip.position)
        return Cycle(len(accepted), recorded, tip.position, journal_seq, state.healthy)

    # -- the regulator's side ---------------------------------------------------------------
    def _ours(self, finding_id: str) -> dict[str, Any] | None:
        found = self.sql.rows(
            "SELECT finding_id, rule_id, event_id, subject, occurred_at, detected_at, position FROM findings"
            " WHERE finding_id = ? AND substr(rule_id, 1, 4) <> 'SUP-'", (finding_id,))
        return None if not found else self._as_dict(found[0])

    def _check_cases(self, after: int, upto: int, alerts: list[Finding]) -> int:
        """Append SUP-03 for the case actions of the copy in (after, upto]; the position checked."""
        checked = after
        while checked < upto:
            page = self.store.read_entries(checked, min(CASE_SCAN_ENTRIES_PER_PAGE, upto - checked))
            if not page:
                break
            for entry in page:
                if is_case_topic(entry.type):
                    fact = decode_case_event(entry.type, entry.state)
                    alert = four_eyes_alert(self.firm, entry.position, fact, self._severity(fact.finding_id), self.four_eyes)
                    alerts += [] if alert is None else [alert]
            checked = page[-1].position
        return checked

    def _severity(self, finding_id: str) -> str | None:
        """The severity the regulator's monitor gave the finding, else the firm's."""
        found = self.sql.rows("SELECT severity FROM findings WHERE finding_id = ?", (finding_id,))
        return str(found[0][0]) if found else self.feed.severity(finding_id)

    def _ours_between(self, after: int, upto: int) -> list[dict[str, Any]]:
        return [self._as_dict(r) for r in self.sql.rows(
            "SELECT finding_id, rule_id, event_id, subject, occurred_at, detected_at, position FROM findings"
            " WHERE position > ? AND position <= ? AND substr(rule_id, 1, 4) <> 'SUP-' ORDER BY position, finding_id",
            (after, upto))]

    def _as_dict(self, row: tuple[Any, ...]) -> dict[str, Any]:
        names = ("finding_id", "rule_id", "event_id", "subject", "occurred_at", "detected_at", "position")
        found = dict(zip(names, row, strict=True))
        found["occurred_at"], found["detected_at"] = self.sql.instant(row[4]), self.sql.instant(row[5])
        return found

    def _digest_alerts(self, row: dict[str, Any]) -> list[Finding]:
        position = int(row["position"])
        digest = Digest(Checkpoint(position, bytes(row["merkle_root"]), bytes(row["chain_hash"]), row["recorded_at"]),
                        str(row["key_id"]), bytes(row["signature"]))
        problem = digest_problem(digest, self.key, checkpoint_at(self.store, position))
        if problem is None:
            return []
        return [chain_alert(self.firm, problem, position, "", row["recorded_at"], {"key_id": digest.key_id})]

    def _record(self, alerts: list[Finding]) -> int:
        return record_alerts(self.sql, self.firm, alerts)


def record_alerts(sql: Sql, firm: str, alerts: list[Finding]) -> int:
    """The alerts recorded in the store's findings, each once (ids are content-derived); how
    many were new. They are records, not derived from the store's log: a rebuild of the
    monitor keeps them (``projections.rebuild.models.NOT_SUPERVISORY``)."""
    if not alerts:
        return 0
    recorded = 0
    with sql.writing() as cursor:
        for alert in alerts:
            row = finding_row(alert)
            cursor.execute(
                "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at,"
                " position, message, parameters, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (finding_id) DO NOTHING RETURNING finding_id",
                tuple(sql.time(row[c]) if c in ("occurred_at", "detected_at") else row[c] for c in FINDING_COLUMNS),
            )
            if cursor.fetchone() is not None:
                recorded += 1
                log.warning("supervisory_alert_recorded", firm=firm, rule_id=alert.rule_id,
                            position=alert.position, message=alert.message)
    return recorded



"""The notification outbox: which findings must reach people, on which channel, and whether
they have.

Rows are derived from the findings table by a tracked position per channel (``enqueue``), not
written by the monitor, so the monitor's transaction stays as it is. Each row is keyed by
(channel, finding id): a finding is queued once per channel whatever happens to the position.
That makes it rebuild-safe: if the findings table is rebuilt and its sequence numbers restart
below the tracked position, the position goes back to the start and the keys keep every
finding already queued (or sent) from being queued again; the outbox itself is never rebuilt,
because what was sent to people cannot be unsent.

Delivery marks a row sent in its own transaction after the receiver accepted it; a crash
between the two sends it again on restart, with the same idempotency key (the finding id), so
that receivers can de-duplicate (``ops.notify`` says how each channel carries it).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from projections.sql import Cursor, Sql
from projections.store.base import Store

FINDINGS_PER_ENQUEUE_MAX = 500
DELIVERIES_PER_BATCH_MAX = 100
BACKOFF_FIRST_S = 2
BACKOFF_MAX_S = 15 * 60  # a critical alert keeps being retried, at least every 15 minutes
ERROR_CHARS_MAX = 500
NEW_FINDINGS = (
    "SELECT seq, finding_id, rule_id, severity, event_id, subject, occurred_at,"
    " detected_at, message FROM findings WHERE seq > ? AND severity "
)


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after the ``attempts``-th failure: 2 s, 4 s, 8 s ... capped."""
    assert attempts >= 1
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** min(attempts - 1, 30)))


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    finding_id: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    def __init__(self, store: Store):
        self.sql = Sql(store)
        self.new_findings = NEW_FINDINGS + self.sql.store.dialect.in_texts + " ORDER BY seq LIMIT ?"

    def enqueue(self, channels: Collection[str], severities: Collection[str], now: datetime) -> int:
        """Queue the findings of these severities detected since each channel's position;
        how many rows were queued."""
        queued = 0
        for channel in sorted(channels):
            with self.sql.writing() as c:
                c.execute("SELECT seq FROM notify_positions WHERE channel = ?", (channel,))
                found = c.fetchone()
                position = 0 if found is None else int(found[0])
                c.execute("SELECT COALESCE(MAX(seq), 0) FROM findings")
                last = c.fetchone()
                if last is not None and int(last[0]) < position:  # the findings were rebuilt
                    position = 0
                c.execute(
                    self.new_findings,
                    (position, self.sql.text_list(sorted(severities)), FINDINGS_PER_ENQUEUE_MAX),
                )
                rows = c.fetchall()
                before = self._count(c, channel) if rows else 0
                for r in rows:
                    c.execute(
                        "INSERT INTO notify_outbox (channel, finding_id, seq, payload, attempts,"
                        " next_attempt_at) VALUES (?,?,?,?,0,?) ON CONFLICT (channel, finding_id) DO NOTHING",
                        (channel, r[1], r[0], json.dumps(self._payload(r), sort_keys=True), self.sql.time(now)),
                    )
                if rows:  # a key already queued adds nothing
                    queued += self._count(c, channel) - before
                if rows:
                    position = int(rows[-1][0])
                c.execute(
                    "INSERT INTO notify_positions (channel, seq) VALUES (?,?)"
                    " ON CONFLICT (channel) DO UPDATE SET seq = excluded.seq",
                    (channel, position),
                )
        return queued

    @staticmethod
    def _count(c: Cursor, channel: str) -> int:
        c.execute("SELECT COUNT(*) FROM notify_outbox WHERE channel = ?", (channel,))
        found = c.fetchone()
        return 0 if found is None else int(found[0])

    def _payload(self, r: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "finding_id": r[1], "rule_id": r[2], "severity": r[3], "event_id": r[4], "subject": r[5],
            "occurred_at": self.sql.instant(r[6]).isoformat(), "detected_at": self.sql.instant(r[7]).isoformat(),
            "message": r[8],
        }

    def due(self, now: datetime) -> list[Delivery]:
        rows = self.sql.rows(
            "SELECT channel, finding_id, payload, attempts FROM notify_outbox"
            " WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY seq, channel LIMIT ?",
            (self.sql.time(now), DELIVERIES_PER_BATCH_MAX),
        )
        return [Delivery(r[0], r[1], json.loads(r[2]), int(r[3])) for r in rows]

    def mark_sent(self, delivery: Delivery, now: datetime) -> None:
        with self.sql.writing() as c:
            c.execute(
                "UPDATE notify_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE channel = ? AND finding_id = ? AND sent_at IS NULL",
                (self.sql.time(now), delivery.channel, delivery.finding_id),
            )

    def mark_failed(self, delivery: Delivery, error: str, now: datetime) -> datetime:
        """Count the failure and set the next attempt; when that is."""
        attempts = delivery.attempts + 1
        retry_at = now + backoff(attempts)
        with self.sql.writing() as c:
            c.execute(
                "UPDATE notify_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?"
                " WHERE channel = ? AND finding_id = ? AND sent_at IS NULL",
                (attempts, self.sql.time(retry_at), error[:ERROR_CHARS_MAX], delivery.channel, delivery.finding_id),
            )
        return retry_at

    def rows(self) -> list[dict[str, Any]]:
        """Every outbox row, for ``notify --status`` and the tests."""
        found = self.sql.rows(
            "SELECT channel, finding_id, attempts, next_attempt_at, sent_at, last_error FROM notify_outbox"
            " ORDER BY seq, channel"
        )
        return [
            {"channel": r[0], "finding_id": r[1], "attempts": r[2],
             "next_attempt_at": self.sql.instant(r[3]).isoformat(),
             "sent_at": None if r[4] is None else self.sql.instant(r[4]).isoformat(), "last_error": r[5]}
            for r in found
        ]

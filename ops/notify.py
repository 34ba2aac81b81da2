"""Notifications: findings of the configured severities (by default critical) sent to people,
by a signed webhook and by e-mail, from the outbox (``projections.notify``).

1. ``enqueue``: new findings since each channel's position become outbox rows.
2. ``deliver``: each due row is sent; accepted, it is marked sent; refused or unreachable, it
   is retried after an exponential back-off (2 s, 4 s ... at most 15 min), never given up.

Exactly once, read carefully: the mark is written after the receiver accepted the message,
so a notifier killed between the two sends that finding again when it restarts. Every message
therefore carries an idempotency key that stays the same on every attempt: the webhook's
``Idempotency-Key`` header (the finding id; the body and its signature are identical too) and
the e-mail's ``Message-ID`` (``<FINDING_ID@regledger>``). A receiver that keeps the keys it
has seen (as mail systems do with Message-IDs) gets each finding exactly once; the sender
alone guarantees at least once, and at most one repeat per crash.

The webhook body is the finding as JSON; ``X-Regledger-Signature: v1=HEX`` is HMAC-SHA256
with the shared secret over ``TIMESTAMP.BODY``, ``TIMESTAMP`` being ``X-Regledger-Timestamp``
(Unix seconds), so a receiver can check both origin and freshness.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol

import structlog

from domain.errors import InvalidRequest
from ops.settings import Settings
from projections.notify import Delivery, Outbox
from projections.store.base import Store

log = structlog.get_logger("regledger.notify")
SEND_TIMEOUT_S = 10
SIGNATURE_HEADER, TIMESTAMP_HEADER, IDEMPOTENCY_HEADER = "X-Regledger-Signature", "X-Regledger-Timestamp", "Idempotency-Key"

Clock = Callable[[], datetime]


class NotificationFailed(Exception):
    """A receiver refused or could not be reached; the delivery is retried later."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, payload: dict[str, Any], now: datetime) -> None: ...


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret: str
    name: str = "webhook"

    def send(self, payload: dict[str, Any], now: datetime) -> None:
        body, timestamp = body_of(payload), str(int(now.timestamp()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            IDEMPOTENCY_HEADER: payload["finding_id"],
        })
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as response:  # the URL is the operator's setting
                status = response.status
        except urllib.error.HTTPError as e:
            raise NotificationFailed(f"the webhook answered {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise NotificationFailed(f"the webhook could not be reached: {e}") from None
        if not 200 <= status < 300:
            raise NotificationFailed(f"the webhook answered {status}")


@dataclass(frozen=True, slots=True)
class Email:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    name: str = "email"

    def send(self, payload: dict[str, Any], now: datetime) -> None:
        message = EmailMessage()
        message["Subject"] = f"[regledger] {payload['severity']} {payload['rule_id']} {payload['subject']}: {payload['message']}"[:200]
        message["From"], message["To"] = self.sender, ", ".join(self.recipients)
        message["Message-ID"] = f"<{payload['finding_id']}@regledger>"  # the idempotency key
        message.set_content(
            "\n".join(f"{k}: {payload[k]}" for k in sorted(payload))
            + f"\n\nregledger case show {payload['finding_id']}\n"
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SEND_TIMEOUT_S) as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as e:
            raise NotificationFailed(f"the mail server refused or could not be reached: {e}") from None


def channels_of(settings: Settings) -> list[Channel]:
    """The channels the settings configure (none: nothing is sent)."""
    found: list[Channel] = []
    if settings.notify_webhook_url:
        if not settings.notify_webhook_secret:
            raise InvalidRequest("REGLEDGER_NOTIFY_WEBHOOK_URL is set but REGLEDGER_NOTIFY_WEBHOOK_SECRET is not:"
                                 " the webhook's messages must be signed")
        found.append(Webhook(settings.notify_webhook_url, settings.notify_webhook_secret))
    recipients = tuple(sorted(settings.names("notify_smtp_to")))
    if settings.notify_smtp_host and recipients:
        found.append(Email(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_from, recipients))
    return found


@dataclass(frozen=True, slots=True)
class Round:
    queued: int
    sent: int
    failed: int


class Notifier:
    def __init__(self, store: Store, channels: Sequence[Channel], severities: frozenset[str],
                 clock: Clock = lambda: datetime.now(UTC)):
        self.outbox = Outbox(store)
        self.channels = {c.name: c for c in channels}
        self.severities = severities
        self.clock = clock

    def run_once(self) -> Round:
        queued = self.outbox.enqueue(self.channels, self.severities, self.clock())
        sent = failed = 0
        for delivery in self.outbox.due(self.clock()):
            channel = self.channels.get(delivery.channel)
            if channel is None:  # a channel no longer configured keeps its rows for later
                continue
            if self.deliver(channel, delivery):
                sent += 1
            else:
                failed += 1
        return Round(queued, sent, failed)

    def deliver(self, channel: Channel, delivery: Delivery) -> bool:
        try:
            channel.send(delivery.payload, self.clock())
        except NotificationFailed as e:
            retry_at = self.outbox.mark_failed(delivery, str(e), self.clock())
            log.warning("notification_failed", channel=channel.name, finding_id=delivery.finding_id,
                        attempts=delivery.attempts + 1, retry_at=retry_at.isoformat(), error=str(e))
            return False
        self.sent(delivery)
        return True

    def sent(self, delivery: Delivery) -> None:
        """Mark the delivery sent (a separate step so that a test can die just before it)."""
        self.outbox.mark_sent(delivery, self.clock())
        log.info("notification_sent", channel=delivery.channel, finding_id=delivery.finding_id)

    def follow(self, poll_s: float) -> None:
        """Run until interrupted; a critical finding goes out within ``poll_s`` (+ the
        monitor's own lag) of being recorded."""
        while True:
            done = self.run_once()
            if not (done.queued or done.sent):
                time.sleep(poll_s)

"""Console sessions: the browser holds a random session id, never an API token.

A session is opened with a token and takes its name and role from it; the store keeps only
the SHA-256 of the session id (in the store, so that every server process agrees), and a
session ends at log-out, when its token is revoked, after ``idle`` without a request or
``absolute`` after it was opened, whichever comes first. The CSRF token of a session is
derived from its id, so it needs no column and dies with the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from projections.sql import Sql
from projections.store.base import Store
from projections.tokens import Principal, TokenStore, token_hash

# A request refreshes ``seen_at`` only when the stored one is older than this: one write a
# minute at most per session rather than one per page, so a session may live up to a
# minute past its idle limit.
SEEN_AT_RESOLUTION = timedelta(minutes=1)
CSRF_CONTEXT = b"regledger console csrf v1"


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    principal: Principal
    csrf: str  # put in every form of the session's pages, checked on every POST


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """Known to whoever holds the session id (an HttpOnly cookie), to nobody else."""
    return hmac.new(session_id.encode(), CSRF_CONTEXT, hashlib.sha256).hexdigest()


class ConsoleSessions:
    def __init__(self, store: Store, limits: SessionLimits):
        self.sql = Sql(store)
        self.tokens = TokenStore(store)
        self.limits = limits

    def open(self, token: str, now: datetime) -> str | None:
        """A new session id for a valid token (None for any other token)."""
        if self.tokens.authenticate(token) is None:
            return None
        session_id = secrets.token_urlsafe(32)
        with self.sql.writing() as c:
            # sessions past their absolute limit can never be resumed: no need to keep them
            c.execute("DELETE FROM console_sessions WHERE opened_at < ?",
                      (self.sql.time(now - self.limits.absolute),))
            c.execute(
                "INSERT INTO console_sessions (session_hash, token_hash, opened_at, seen_at)"
                " VALUES (?, ?, ?, ?)",
                (session_hash(session_id), token_hash(token), self.sql.time(now), self.sql.time(now)),
            )
        return session_id

    def resume(self, session_id: str, now: datetime) -> ConsoleSession | None:
        """The session of this id, if it is open, within its limits and its token valid."""
        rows = self.sql.rows(
            "SELECT t.name, t.role, s.opened_at, s.seen_at FROM console_sessions s"
            " JOIN api_tokens t ON t.token_hash = s.token_hash"
            " WHERE s.session_hash = ? AND s.closed_at IS NULL AND t.revoked_at IS NULL",
            (session_hash(session_id),),
        )
        if not rows:
            return None
        name, role, opened, seen = rows[0]
        opened_at, seen_at = self.sql.instant(opened), self.sql.instant(seen)
        if now - seen_at > self.limits.idle or now - opened_at > self.limits.absolute:
            return None
        if now - seen_at >= SEEN_AT_RESOLUTION:
            with self.sql.writing() as c:
                c.execute("UPDATE console_sessions SET seen_at = ? WHERE session_hash = ?",
                          (self.sql.time(now), session_hash(session_id)))
        return ConsoleSession(Principal(name, role), csrf_token(session_id))

    def close(self, session_id: str, now: datetime) -> None:
        with self.sql.writing() as c:
            c.execute(
                "UPDATE console_sessions SET closed_at = ? WHERE session_hash = ? AND closed_at IS NULL",
                (self.sql.time(now), session_hash(session_id)),
            )

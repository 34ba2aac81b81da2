"""API tokens: a token is shown once when created; the store keeps only its SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidRequest, NotFound
from domain.values import ID_PATTERN, ID_RULE
from projections.sql import Sql
from projections.store.base import Store

ROLES = ("ingest", "officer", "regulator", "admin")
TOKEN_PREFIX = "rlg_"
# A token's name is written into ingest origins, case actions and logs: an Id, like every
# other name in the ledger, so it can carry no markup, spreadsheet formula or line break.
TOKEN_NAME = re.compile(ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is: the token's name and role (never the token)."""

    name: str
    role: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, store: Store):
        self.sql = Sql(store)

    def create(self, name: str, role: str, now: datetime) -> str:
        if role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if TOKEN_NAME.fullmatch(name) is None:
            raise InvalidRequest(f"a token name {ID_RULE}, not {name[:40]!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.sql.writing() as c:
            c.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,))
            if c.fetchone() is not None:
                raise InvalidRequest(f"a token named {name!r} exists already")
            c.execute(
                "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), name, role, self.sql.time(now)),
            )
        return token

    def revoke(self, name: str, now: datetime) -> None:
        with self.sql.writing() as c:
            c.execute("SELECT revoked_at FROM api_tokens WHERE name = ?", (name,))
            row = c.fetchone()
            if row is None:
                raise NotFound(f"no token named {name!r}")
            if row[0] is None:
                c.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ?", (self.sql.time(now), name))
            # the console's sessions end with their token (resuming one checks the token too)
            c.execute(
                "UPDATE console_sessions SET closed_at = ? WHERE closed_at IS NULL"
                " AND token_hash = (SELECT token_hash FROM api_tokens WHERE name = ?)",
                (self.sql.time(now), name),
            )

    def authenticate(self, token: str) -> Principal | None:
        rows = self.sql.rows(
            "SELECT name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash(token),),
        )
        return Principal(rows[0][0], rows[0][1]) if rows else None

    def list(self) -> list[dict[str, object]]:
        rows = self.sql.rows("SELECT name, role, created_at, revoked_at FROM api_tokens ORDER BY name")
        return [
            {
                "name": name, "role": role, "created_at": self.sql.instant(created).isoformat(),
                "revoked_at": None if revoked is None else self.sql.instant(revoked).isoformat(),
            }
            for name, role, created, revoked in rows
        ]

"""Bearer tokens and roles: 401 without a valid token, 403 outside the role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from projections.tokens import Principal

bearer = HTTPBearer(auto_error=False, description="a token from `regledger token create`")

# What each role may do. "read" covers findings, audit, state, explain, quarantine, reports,
# digests and proofs; "cases" is working cases; "replay" covers replay and verify.
PERMISSIONS: dict[str, frozenset[str]] = {
    "ingest": frozenset({"ingest", "check"}),
    "officer": frozenset({"read", "cases", "check"}),
    "regulator": frozenset({"read", "replay"}),
    "admin": frozenset({"tokens"}),
}

# What a 403 says a role may not do, as a verb phrase ("the regulator role may not work cases").
PERMISSION_PHRASES: dict[str, str] = {
    "ingest": "ingest events", "check": "check events", "read": "read findings and the ledger",
    "cases": "work cases", "replay": "replay or verify the ledger", "tokens": "manage tokens",
}


def refusal(role: str, permission: str) -> str:
    return f"the {role} role may not {PERMISSION_PHRASES.get(permission, permission)}"


def require(permission: str) -> Callable[..., Principal]:
    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)  # ops.api.gate's
        if principal is None and credentials is not None:
            principal = request.app.state.tokens.authenticate(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
        request.state.principal = principal
        if permission not in PERMISSIONS.get(principal.role, frozenset()):
            raise HTTPException(403, refusal(principal.role, permission))
        return principal

    return dependency

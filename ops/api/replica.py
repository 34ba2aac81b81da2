"""The API with a read replica (issue 23): GET and HEAD requests read the hot standby, every
other request the primary, and a caller's read after a write of that same caller waits
(bounded) for the standby to replay that write, else reads the primary: an officer sees their
case action at once. The caller is the console session (its cookie) or the API token (its
bearer header): one officer's write neither sends another's reads to the primary nor makes
them wait, and another's read never clears the wait that one officer's write asked for.

Routes keep asking ``request.app.state.store``; with a replica configured that is a
``RequestStore``, which answers with the store this middleware chose for the request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from ops.api.gate import bearer_token, session_cookie
from projections.replica import Lag, current_lsn, lag, primary_of, wait_for_replay
from projections.store.base import Store

SAFE_METHODS = frozenset({"GET", "HEAD"})
# Callers whose last write the standby may not have replayed yet; past this the oldest write is
# forgotten (the oldest is the likeliest replayed long since): memory stays bounded.
CALLERS_TRACKED_MAX = 10_000
log = structlog.get_logger("regledger.api.replica")
_chosen: ContextVar[Store | None] = ContextVar("regledger_request_store", default=None)


class RequestStore:
    """Stands in ``app.state.store``: every attribute is the chosen store's (else the primary's)."""

    def __init__(self, primary: Store):
        self._primary = primary

    def __getattr__(self, name: str) -> Any:
        return getattr(_chosen.get() or self._primary, name)


def caller_of(headers: Headers, cookie_name: str) -> str | None:
    """Who is asking: a digest of the bearer token, else of the console's session cookie (the
    secrets themselves are not kept); None for a request with neither (the log-in form, the
    health check), which waits for nothing."""
    secret = bearer_token(headers) or cookie_parser(headers.get("cookie", "")).get(cookie_name)
    return hashlib.sha256(secret.encode()).hexdigest() if secret else None


class ReadRouting:
    def __init__(self, replica: Store, wait_s: float):
        self.replica, self.primary, self.wait_s = replica, primary_of(replica), wait_s
        # each caller's last write not yet seen replayed, oldest first
        self._written: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def note_write(self, caller: str | None) -> None:
        if caller is None:
            return
        lsn = current_lsn(self.primary)
        with self._lock:
            self._written.pop(caller, None)
            self._written[caller] = lsn
            while len(self._written) > CALLERS_TRACKED_MAX:
                self._written.popitem(last=False)

    def store_for_read(self, caller: str | None) -> Store:
        if caller is None:
            return self.replica
        with self._lock:
            lsn = self._written.get(caller)
        if lsn is None:
            return self.replica
        if wait_for_replay(self.replica, lsn, self.wait_s):
            with self._lock:
                if self._written.get(caller) == lsn:  # not a newer write of the caller's meanwhile
                    del self._written[caller]
            return self.replica
        log.warning("replica_behind_read_primary", lsn=lsn, waited_s=self.wait_s)
        return self.primary

    def lag(self) -> Lag:
        return lag(self.replica, self.primary)


def install_read_routing(app: FastAPI, behind_tls: bool) -> None:
    cookie_name = session_cookie(behind_tls).name

    @app.middleware("http")
    async def route_reads(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        routing: ReadRouting | None = getattr(request.app.state, "reads", None)
        if routing is None:
            return await call_next(request)
        caller = caller_of(request.headers, cookie_name)
        if request.method not in SAFE_METHODS:
            response = await call_next(request)
            await run_in_threadpool(routing.note_write, caller)
            return response
        token = _chosen.set(await run_in_threadpool(routing.store_for_read, caller))
        try:
            return await call_next(request)
        finally:
            _chosen.reset(token)


def health_of_replica(app: FastAPI) -> dict[str, Any] | None:
    routing: ReadRouting | None = getattr(app.state, "reads", None)
    return None if routing is None else routing.lag().as_json()

"""The API with a read replica (issue 23): GET and HEAD requests read the hot standby, every
other request the primary, and a read after a write this server made waits (bounded) for the
standby to replay that write, else reads the primary: the console shows a case action at once.

Routes keep asking ``request.app.state.store``; with a replica configured that is a
``RequestStore``, which answers with the store this middleware chose for the request.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from projections.replica import Lag, current_lsn, lag, primary_of, wait_for_replay
from projections.store.base import Store

SAFE_METHODS = frozenset({"GET", "HEAD"})
log = structlog.get_logger("regledger.api.replica")
_chosen: ContextVar[Store | None] = ContextVar("regledger_request_store", default=None)


class RequestStore:
    """Stands in ``app.state.store``: every attribute is the chosen store's (else the primary's)."""

    def __init__(self, primary: Store):
        self._primary = primary

    def __getattr__(self, name: str) -> Any:
        return getattr(_chosen.get() or self._primary, name)


class ReadRouting:
    def __init__(self, replica: Store, wait_s: float):
        self.replica, self.primary, self.wait_s = replica, primary_of(replica), wait_s
        self._written_lsn: str | None = None  # the last write of this server not yet seen replayed
        self._lock = threading.Lock()

    def note_write(self) -> None:
        lsn = current_lsn(self.primary)
        with self._lock:
            self._written_lsn = lsn

    def store_for_read(self) -> Store:
        with self._lock:
            lsn = self._written_lsn
        if lsn is None:
            return self.replica
        if wait_for_replay(self.replica, lsn, self.wait_s):
            with self._lock:
                if self._written_lsn == lsn:
                    self._written_lsn = None
            return self.replica
        log.warning("replica_behind_read_primary", lsn=lsn, waited_s=self.wait_s)
        return self.primary

    def lag(self) -> Lag:
        return lag(self.replica, self.primary)


def install_read_routing(app: FastAPI) -> None:
    @app.middleware("http")
    async def route_reads(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        routing: ReadRouting | None = getattr(request.app.state, "reads", None)
        if routing is None:
            return await call_next(request)
        if request.method not in SAFE_METHODS:
            response = await call_next(request)
            await run_in_threadpool(routing.note_write)
            return response
        token = _chosen.set(await run_in_threadpool(routing.store_for_read))
        try:
            return await call_next(request)
        finally:
            _chosen.reset(token)


def health_of_replica(app: FastAPI) -> dict[str, Any] | None:
    routing: ReadRouting | None = getattr(app.state, "reads", None)
    return None if routing is None else routing.lag().as_json()

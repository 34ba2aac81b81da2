"""The FastAPI application: everything the CLI does, over HTTP, by role. ``create_app`` adds
the core routes here, then each route module's, in the order they match; the route modules
share ``ops.api.deps`` and never import this one."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import psycopg
import structlog
from eventsourcing.persistence import DataError as StoreDataError
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from domain.cases import CASE_STATUSES
from domain.errors import (
    CaseActionRefused,
    EventRejected,
    EvidenceUnreadable,
    InvalidRequest,
    NotFound,
    RegledgerError,
    StoreUnavailable,
    UnknownOfficer,
)
from domain.values import ACTOR_CHARS_MAX, ID_PATTERN
from ops.api.bodies import BatchRefused, split_batch
from ops.api.console import register_console
from ops.api.deps import OFFSET_MAX, PAGE_ROWS_MAX, IngestOutcome, outcome, store_of
from ops.api.docs import register_docs
from ops.api.evidence_routes import register_evidence_routes
from ops.api.gate import Gate
from ops.api.officer_pages import register_officer_pages
from ops.api.quarantine_console import register_quarantine_console
from ops.api.replica import ReadRouting, RequestStore, health_of_replica, install_read_routing
from ops.api.risk_routes import register_risk_routes
from ops.api.routes import register_feature_routes
from ops.api.security import require
from ops.options import TIME_FORMS
from ops.pipeline import IngestPipeline
from ops.quarantine_view import listed_json
from ops.queue import QueueAsk, queue_json, read_queue
from ops.settings import load_settings
from ops.wiring import build_ledger, build_monitor, open_read_store, open_store
from projections.explain import citations
from projections.quarantine import quarantine_page
from projections.queue import SORTS
from projections.sessions import ConsoleSessions, SessionLimits
from projections.store.base import Store
from projections.tokens import ROLES, Principal, TokenStore

log = structlog.get_logger("regledger.api")


class TokenRequest(BaseModel):
    name: str = Field(pattern=ID_PATTERN, description="an Id: 1-128 characters of A-Za-z0-9._:-")
    role: str = Field(description=f"one of {', '.join(ROLES)}")


def create_app(database_url: str, behind_tls: bool | None = None, read_database_url: str | None = None) -> FastAPI:
    """``behind_tls`` (default: the setting) says a TLS-terminating proxy serves the app;
    ``read_database_url`` (default: the setting) a hot standby that answers GET requests."""
    settings = load_settings()
    citations.install(settings.citations)  # a bad citations file stops the server here
    tls = settings.behind_tls if behind_tls is None else behind_tls
    read_url = read_database_url or settings.read_database_url
    limits = SessionLimits(timedelta(minutes=settings.session_idle_minutes),
                           timedelta(minutes=settings.session_absolute_minutes))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(database_url, create=True)
        app.state.store = store
        app.state.tokens = TokenStore(store)
        app.state.sessions = ConsoleSessions(store, limits)
        app.state.pipeline = IngestPipeline(store)
        replica = open_read_store(database_url, read_url) if read_url else None
        if replica is not None:
            app.state.reads = ReadRouting(replica, settings.read_your_writes_wait_s)
            app.state.store = RequestStore(store)
        try:
            yield
        finally:
            store.close()
            if replica is not None:
                replica.close()

    app = FastAPI(
        title="regledger",
        summary="Event-sourced regulatory ledger and compliance monitor for SFC-licensed VA firms",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # ops.api.docs serves its own, with no asset from another origin
        redoc_url=None,
    )
    install_error_handlers(app)
    # the gate runs inside the request log, so that what it refuses is logged too
    app.add_middleware(Gate, behind_tls=tls)
    install_request_log(app)
    install_read_routing(app, tls)
    add_core_routes(app)
    register_feature_routes(app)
    register_evidence_routes(app)
    register_risk_routes(app)
    register_console(app, tls)
    register_officer_pages(app)
    register_quarantine_console(app)
    register_docs(app)
    return app


def add_core_routes(app: FastAPI) -> None:
    @app.get("/v1/health", tags=["operations"])
    def health(request: Request) -> dict[str, Any]:
        """Liveness and the ledger's tip (with a read replica: its lag); needs no token."""
        replica = health_of_replica(request.app)
        found: dict[str, Any] = {"status": "ok", "position": store_of(request).tip().position}
        return found if replica is None else {**found, "replica": replica}

    @app.post("/v1/events", tags=["ingest"], response_model=IngestOutcome,
              responses={422: {"model": IngestOutcome}, 413: {}, 400: {}})
    async def post_events(
        request: Request, principal: Annotated[Principal, Depends(require("ingest"))]
    ) -> Response:
        """Append events: a JSON array or JSON Lines. Same validation, idempotency and
        per-line errors as `regledger ingest`; valid events are kept even when others are
        rejected (then the status is 422)."""
        body = await request.body()  # within the route's cap, by ops.api.gate
        try:
            lines = split_batch(body, f"http:{principal.name}")
        except BatchRefused as e:
            raise HTTPException(400, str(e)) from e
        summary = await run_in_threadpool(request.app.state.pipeline.ingest, iter(lines), 1000)
        status = 422 if summary.rejected else 200
        return JSONResponse(outcome(summary).model_dump(), status_code=status)

    @app.post("/v1/check", tags=["ingest"], responses={422: {}})
    async def post_check(
        request: Request, principal: Annotated[Principal, Depends(require("check"))]
    ) -> dict[str, Any]:
        """The pre-trade gate: the findings one proposed event would raise. Stores nothing."""
        body = await request.body()
        return await run_in_threadpool(check_event, store_of(request), body)

    @app.get("/v1/findings", tags=["findings"])
    def get_findings(
        request: Request, response: Response,
        principal: Annotated[Principal, Depends(require("read"))],
        rule: Annotated[list[str] | None, Query(description="rule id as rulebook.md spells it (repeatable)")] = None,
        severity: Annotated[list[str] | None, Query(description="critical, high, medium, low (repeatable)")] = None,
        subject: Annotated[str | None, Query(description="an id: findings on it and on everything it owns")] = None,
        since: Annotated[str | None, Query(description=TIME_FORMS)] = None,
        until: Annotated[str | None, Query(description=TIME_FORMS + " (a day: through its end)")] = None,
        case_status: Annotated[str | None, Query(description=", ".join(CASE_STATUSES))] = None,
        assignee: Annotated[str | None, Query(max_length=ACTOR_CHARS_MAX, description="an officer; 'me' is the caller")] = None,
        sort: Annotated[str, Query(description=", ".join(SORTS))] = "newest",
        limit: Annotated[int, Query(ge=1, le=PAGE_ROWS_MAX)] = 100,
        offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    ) -> list[dict[str, Any]]:
        """The alert queue, newest first by default: findings with case status, assignee and
        age, filtered like `regledger findings`; the total over all pages is in X-Total-Count."""
        ask = QueueAsk(rule_ids=tuple(rule or ()), severities=tuple(severity or ()), subject=subject,
                       since=since, until=until, case_status=case_status, assignee=assignee,
                       sort=sort, limit=limit, offset=offset)
        try:
            page = read_queue(store_of(request), ask, me=principal.name)
        except InvalidRequest as e:
            raise HTTPException(422, str(e)) from None
        response.headers["X-Total-Count"] = str(page.total)
        return [queue_json(row, page.clock) for row in page.rows]

    @app.get("/v1/quarantine", tags=["ingest"])
    def get_quarantine(
        request: Request,
        principal: Annotated[Principal, Depends(require("read"))],
        limit: Annotated[int, Query(ge=1, le=PAGE_ROWS_MAX)] = 100,
        offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
        status: Literal["open", "resubmitted", "dismissed"] | None = None,
    ) -> list[dict[str, Any]]:
        """Rejected lines with their reasons, raw text, status, count and causes, of one status
        when asked; each entry's ``id`` is its label (``Q-000017``), ``quarantine_id`` its number."""
        return [listed_json(q) for q in quarantine_page(store_of(request), limit, offset, status)]

    @app.post("/v1/tokens", tags=["tokens"], status_code=201)
    def post_token(request: Request, body: TokenRequest,
                   principal: Annotated[Principal, Depends(require("tokens"))]) -> dict[str, str]:
        """Create a token; it is shown once, only its hash is kept."""
        token = request.app.state.tokens.create(body.name, body.role, datetime.now(UTC))
        return {"name": body.name, "role": body.role, "token": token}

    @app.get("/v1/tokens", tags=["tokens"])
    def get_tokens(request: Request,
                   principal: Annotated[Principal, Depends(require("tokens"))]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = request.app.state.tokens.list()
        return rows

    @app.delete("/v1/tokens/{name}", tags=["tokens"], status_code=204)
    def delete_token(request: Request, name: str,
                     principal: Annotated[Principal, Depends(require("tokens"))]) -> Response:
        request.app.state.tokens.revoke(name, datetime.now(UTC))
        return Response(status_code=204)


def check_event(store: Store, body: bytes) -> dict[str, Any]:
    envelope = build_ledger(store).check(body, store.load_entities, store.stored_states)
    if envelope is None:
        return {"findings": [], "note": "this event_id is already recorded; a duplicate raises nothing"}
    found = build_monitor(store).preview(envelope)
    return {
        "findings": [
            {"rule_id": f.rule_id, "severity": f.severity, "event_id": f.event_id, "subject": f.subject,
             "message": f.message, "parameters": f.parameters, "finding_id": f.finding_id,
             "occurred_at": f.occurred_at.isoformat(), "detected_at": f.detected_at.isoformat()}
            for f in found
        ]
    }


def install_error_handlers(app: FastAPI) -> None:
    def handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            body: dict[str, Any] = {"detail": str(exc)}
            if isinstance(exc, EventRejected):
                body["errors"] = [{"field": r.field, "reason": r.reason} for r in exc.reasons]
            return JSONResponse(body, status_code=status)

        return handle

    async def validation_refused(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's default answer echoes each refused value back ("input", "ctx"): a 422
        # says where and why, never what was sent, which may be a secret or a whole body.
        assert isinstance(exc, RequestValidationError)
        errors = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation_refused)
    app.add_exception_handler(CaseActionRefused, handler(409))
    app.add_exception_handler(UnknownOfficer, handler(422))  # a bad name, not a workflow conflict
    app.add_exception_handler(EvidenceUnreadable, handler(422))
    app.add_exception_handler(EventRejected, handler(422))
    app.add_exception_handler(InvalidRequest, handler(400))
    app.add_exception_handler(NotFound, handler(404))
    app.add_exception_handler(StoreUnavailable, handler(503))
    app.add_exception_handler(RegledgerError, handler(400))

    async def value_refused_by_the_store(request: Request, exc: Exception) -> JSONResponse:
        # A value no route's own checks caught that the database cannot hold or compare (a
        # NUL character on PostgreSQL): the request's fault, said as such, never a 500.
        return JSONResponse({"detail": "a value in the request cannot be stored or compared (a control character such as NUL?)"},
                            status_code=400)

    app.add_exception_handler(psycopg.DataError, value_refused_by_the_store)
    app.add_exception_handler(StoreDataError, value_refused_by_the_store)


def install_request_log(app: FastAPI) -> None:
    @app.middleware("http")
    async def log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        principal = getattr(request.state, "principal", None)
        log.info(
            "request_served", method=request.method, path=request.url.path, status=response.status_code,
            token_name=principal.name if principal else None, role=principal.role if principal else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

"""Feature routes: audit trail, as-of state, explanations and the case workflow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from domain.cases import CaseSummary, FindingRef
from domain.errors import InvalidRequest, NotFound
from ops.api.security import require
from ops.options import TIME_FORMS, moment_of, report_day_problem, time_problem
from ops.queries import explanation, resubmit_quarantined, state_of
from ops.queue import ACTION_ALIASES, BULK_FINDINGS_MAX, bulk_case_action
from ops.render import hk_time
from ops.wiring import build_audit_index, build_cases
from projections.audit import AuditQuery, audit_events
from projections.audit.query import AUDIT_PAGE_MAX
from projections.cases import find_finding
from projections.nightly.report import build as build_nightly
from projections.quarantine import quarantined_line
from projections.store.base import Store
from projections.tokens import Principal

Reader = Annotated[Principal, Depends(require("read"))]
CaseWorker = Annotated[Principal, Depends(require("cases"))]
POSITION_MAX = 2**62


class CaseAction(BaseModel):
    """What an officer does to a finding's case; the actor comes from the token."""

    action: Literal["acknowledge", "assign", "comment", "resolve", "reopen"]
    assignee: str | None = Field(default=None, max_length=128)
    text: str | None = Field(default=None, max_length=4000, description="a comment, or a note")
    code: str | None = Field(default=None, description="remediated | false_positive | accepted_risk | reported_to_sfc")

    @field_validator("action", mode="before")
    @classmethod
    def one_vocabulary(cls, value: Any) -> Any:
        return ACTION_ALIASES.get(value, value) if isinstance(value, str) else value


class BulkCaseAction(BaseModel):
    """Acknowledge or assign several findings' cases at once (the alert queue's checkboxes)."""

    finding_ids: list[str] = Field(min_length=1, max_length=BULK_FINDINGS_MAX)
    action: Literal["acknowledge", "assign"] = Field(description="'ack' is accepted for acknowledge")
    assignee: str | None = Field(default=None, max_length=128)
    text: str | None = Field(default=None, max_length=4000, description="a note")

    @field_validator("action", mode="before")
    @classmethod
    def one_vocabulary(cls, value: Any) -> Any:
        return ACTION_ALIASES.get(value, value) if isinstance(value, str) else value


def aware(name: str, moment: datetime | None) -> datetime | None:
    """A time query parameter, refused with 422 as ``ops.options.time_problem`` says."""
    problem = None if moment is None else time_problem(name, moment)
    if problem is not None:
        raise HTTPException(422, problem)
    return moment


def moment(name: str, value: str | None, end_of_day: bool = False) -> datetime | None:
    """A time query parameter as the CLI takes it (a timestamp with offset, or a plain Hong Kong
    day: ``2026-03-04``, ``today``, ``yesterday``), refused with 422 saying why."""
    if value is None:
        return None
    try:
        return moment_of(value, name, end_of_day=end_of_day)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def report_day(day: date) -> date:
    problem = report_day_problem("day", day)
    if problem is not None:
        raise HTTPException(422, problem)
    return day


def summary_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "finding_id": summary.finding_id, "status": summary.status, "assignee": summary.assignee,
        "resolution": summary.resolution, "updated_at": hk_time(summary.updated_at),
        "updated_by": summary.updated_by, "version": summary.version,
    }


def act_on_case(store: Store, finding_id: str, actor: str, body: CaseAction) -> dict[str, Any]:
    row = find_finding(store, finding_id)
    if row is None:
        raise NotFound(f"no finding {finding_id!r}")
    cases, ref = build_cases(store), FindingRef(row.finding_id, row.rule_id, row.subject)
    if body.action == "acknowledge":
        summary = cases.acknowledge(ref, actor, body.text)
    elif body.action == "assign":
        if not body.assignee:
            raise HTTPException(422, "assign needs an assignee")
        summary = cases.assign(ref, actor, body.assignee)
    elif body.action == "comment":
        if not body.text:
            raise HTTPException(422, "comment needs a text")
        summary = cases.comment(ref, actor, body.text)
    elif body.action == "resolve":
        summary = cases.resolve(ref, actor, body.code, body.text)
    else:
        summary = cases.reopen(ref, actor, body.text)
    build_audit_index(store).catch_up()
    return summary_json(summary)


def register_feature_routes(app: FastAPI) -> None:
    from ops.api.app import outcome

    def store_of(request: Request) -> Store:
        store: Store = request.app.state.store
        return store

    @app.get("/v1/audit", tags=["audit"])
    def get_audit(
        request: Request, principal: Reader,
        subject: str | None = None,
        type: Annotated[list[str] | None, Query(description="event type (repeatable)")] = None,  # the query parameter's public name
        source: str | None = None,
        since: Annotated[str | None, Query(description=TIME_FORMS)] = None,
        until: Annotated[str | None, Query(description=TIME_FORMS + " (a day: through its end)")] = None,
        known_at: Annotated[str | None, Query(description=TIME_FORMS + " (a day: its end)")] = None,
        after: Annotated[int, Query(ge=0, le=POSITION_MAX, description="positions after this one")] = 0,
        limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100,
    ) -> list[dict[str, Any]]:
        """Events in ledger order by subject (a client and everything of its), type, source,
        business time and what had been recorded by ``known_at``; keyset paging by position."""
        query = AuditQuery(subject=subject, types=tuple(type or ()), source=source,
                           since=moment("since", since), until=moment("until", until, end_of_day=True),
                           known_at=moment("known_at", known_at, end_of_day=True), after=after, limit=limit)
        store = store_of(request)
        build_audit_index(store).catch_up()
        return [entry.as_json() for entry in audit_events(store, query)]

    @app.get("/v1/state", tags=["audit"])
    async def get_state(
        request: Request, principal: Reader,
        client: str | None = None, contract: str | None = None, market_maker: str | None = None,
        as_of: Annotated[str | None, Query(description=TIME_FORMS + " (a day: its end)")] = None,
        known_at: Annotated[str | None, Query(description=TIME_FORMS + " (a day: its end)")] = None,
    ) -> dict[str, Any]:
        """A client's (or contract's, or market maker's) derived state as of a moment."""
        if sum(x is not None for x in (client, contract, market_maker)) != 1:
            raise HTTPException(422, "name exactly one of client, contract, market_maker")
        return await run_in_threadpool(
            state_of, store_of(request), client_id=client, contract=contract, market_maker=market_maker,
            as_of=moment("as_of", as_of, end_of_day=True), known_at=moment("known_at", known_at, end_of_day=True),
        )

    @app.get("/v1/findings/{finding_id}/explain", tags=["findings"])
    async def get_explanation(request: Request, finding_id: str, principal: Reader) -> dict[str, Any]:
        """Why a finding fired: rule, parameters, triggering event, the state it judged."""
        return await run_in_threadpool(explanation, store_of(request), finding_id)

    @app.post("/v1/findings/{finding_id}/case", tags=["cases"])
    def post_case_action(request: Request, finding_id: str, body: CaseAction, principal: CaseWorker) -> dict[str, Any]:
        """Acknowledge, assign, comment, resolve (with a code) or reopen a finding's case."""
        return act_on_case(store_of(request), finding_id, principal.name, body)

    @app.post("/v1/cases/bulk", tags=["cases"])
    def post_bulk_case_action(request: Request, body: BulkCaseAction, principal: CaseWorker) -> dict[str, Any]:
        """Acknowledge or assign several findings' cases; each finding's outcome is reported."""
        try:
            outcomes = bulk_case_action(store_of(request), body.finding_ids, principal.name, body.action,
                                        body.assignee, body.text)
        except InvalidRequest as e:
            raise HTTPException(422, str(e)) from None
        return {"done": sum(o["done"] for o in outcomes), "outcomes": outcomes}

    @app.get("/v1/reports/nightly/{day}", tags=["reports"])
    async def get_nightly_report(request: Request, day: date, principal: Reader) -> dict[str, Any]:
        """The nightly breach report of a Hong Kong business day, as its JSON file holds it."""
        report: dict[str, Any] = await run_in_threadpool(build_nightly, store_of(request), report_day(day))
        return report

    @app.get("/v1/quarantine/{quarantine_id}", tags=["ingest"])
    def get_quarantined(request: Request, quarantine_id: Annotated[int, Path(ge=1, le=POSITION_MAX)],
                        principal: Reader) -> dict[str, Any]:
        """One rejected line with its reasons, raw text and what it was resubmitted as."""
        row = quarantined_line(store_of(request), quarantine_id)
        if row is None:
            raise NotFound(f"no quarantined line {quarantine_id}")
        return {**row, "received_at": row["received_at"].isoformat(), "raw": row["raw"].decode("utf-8", "replace")}

    @app.post("/v1/quarantine/{quarantine_id}/resubmit", tags=["ingest"])
    async def post_resubmission(request: Request, quarantine_id: Annotated[int, Path(ge=1, le=POSITION_MAX)],
                                principal: Annotated[Principal, Depends(require("ingest"))]) -> JSONResponse:
        """Ingest the corrected line (the body: one JSON object) like any other and link it to
        the quarantined one; 422 with the reasons when it is rejected again."""
        body = await request.body()  # one line at most, by ops.api.gate
        result, summary = await run_in_threadpool(
            resubmit_quarantined, request.app.state.pipeline, quarantine_id, body.strip()
        )
        result["rejections"] = outcome(summary).rejections
        return JSONResponse(result, status_code=422 if summary.rejected else 200)

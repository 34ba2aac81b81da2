"""Feature routes: audit trail, as-of state, explanations and the case workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from domain.cases import Cases, CaseSummary, FindingRef
from domain.errors import InvalidRequest, NotFound
from domain.quarantine import entry_label, parse_entry
from domain.values import ACTOR_CHARS_MAX, ID_PATTERN, NOTE_CHARS_MAX, Id
from ops.api.deps import (
    POSITION_MAX,
    CaseWorker,
    Reader,
    moment,
    outcome,
    report_day,
    store_of,
)
from ops.api.security import require
from ops.options import TIME_FORMS
from ops.quarantine_view import dismissal_json, quarantine_json
from ops.queries import explanation, resubmit_quarantined, state_of
from ops.queue import ACTION_ALIASES, BULK_FINDINGS_MAX, bulk_case_action
from ops.render import hk_time
from ops.wiring import build_audit_index, build_cases
from projections.audit import AuditQuery, audit_events
from projections.audit.query import AUDIT_PAGE_MAX
from projections.cases import finding_refs, investigation_findings
from projections.cases.queries import INVESTIGATION_FINDINGS_MAX
from projections.nightly.report import build as build_nightly
from projections.quarantine import dismiss, quarantined_line
from projections.store.base import Store
from projections.tokens import Principal

EntryPath = Annotated[str, Path(max_length=32, description="a quarantine entry: Q-000017, or 17")]


# A finding id in a path: an Id (``F-`` and hex for the monitor's), refused with 422 otherwise,
# on both stores alike (PostgreSQL cannot even compare a text holding NUL).
FindingIdPath = Annotated[str, Path(pattern=ID_PATTERN)]

class CaseAction(BaseModel):
    """What an officer does to a finding's case; the actor comes from the token (or the
    console session). ``text`` is the comment, the note, or the reason (reject, escalate,
    reopen, group)."""

    action: Literal["acknowledge", "assign", "comment", "resolve", "approve", "reject", "escalate", "reopen", "group"]
    assignee: str | None = Field(default=None, max_length=ACTOR_CHARS_MAX)
    text: str | None = Field(default=None, max_length=NOTE_CHARS_MAX, description="a comment, a note or a reason")
    code: str | None = Field(default=None, description="remediated | false_positive | accepted_risk | reported_to_sfc")
    investigation_id: str | None = Field(default=None, max_length=64, description="for group")

    @field_validator("action", mode="before")
    @classmethod
    def one_vocabulary(cls, value: Any) -> Any:
        return ACTION_ALIASES.get(value, value) if isinstance(value, str) else value


class Grouping(BaseModel):
    """Several findings grouped into one investigation, in one transaction."""

    finding_ids: list[Id] = Field(min_length=1, max_length=INVESTIGATION_FINDINGS_MAX)
    reason: str | None = Field(default=None, max_length=NOTE_CHARS_MAX)


def _needs(value: str | None, what: str) -> str:
    if not value:
        raise HTTPException(422, what)
    return value


# One handler per action: (cases, finding, actor, body) -> the new summary.
CASE_HANDLERS: dict[str, Callable[[Cases, FindingRef, str, CaseAction], CaseSummary]] = {
    "acknowledge": lambda c, f, a, b: c.acknowledge(f, a, b.text),
    "assign": lambda c, f, a, b: c.assign(f, a, _needs(b.assignee, "assign needs an assignee")),
    "comment": lambda c, f, a, b: c.comment(f, a, _needs(b.text, "comment needs a text")),
    "resolve": lambda c, f, a, b: c.resolve(f, a, b.code, b.text),
    "approve": lambda c, f, a, b: c.approve(f, a, b.text),
    "reject": lambda c, f, a, b: c.reject(f, a, b.text),
    "escalate": lambda c, f, a, b: c.escalate(f, a, b.text),
    "reopen": lambda c, f, a, b: c.reopen(f, a, b.text),
    "group": lambda c, f, a, b: c.group(
        [f], a, _needs(b.investigation_id, "group needs an investigation_id"), b.text)[0],
}


class Dismissal(BaseModel):
    """Why a quarantined line needs no resubmission; the actor comes from the token."""

    reason: str = Field(min_length=1, max_length=NOTE_CHARS_MAX)


class BulkCaseAction(BaseModel):
    """Acknowledge or assign several findings' cases at once (the alert queue's checkboxes)."""

    finding_ids: list[Id] = Field(min_length=1, max_length=BULK_FINDINGS_MAX)
    action: Literal["acknowledge", "assign"] = Field(description="'ack' is accepted for acknowledge")
    assignee: str | None = Field(default=None, max_length=ACTOR_CHARS_MAX)
    text: str | None = Field(default=None, max_length=NOTE_CHARS_MAX, description="a note")

    @field_validator("action", mode="before")
    @classmethod
    def one_vocabulary(cls, value: Any) -> Any:
        return ACTION_ALIASES.get(value, value) if isinstance(value, str) else value








def summary_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "finding_id": summary.finding_id, "status": summary.status, "assignee": summary.assignee,
        "resolution": summary.resolution, "updated_at": hk_time(summary.updated_at),
        "updated_by": summary.updated_by, "version": summary.version,
        "investigation_id": summary.investigation_id, "requested_by": summary.requested_by,
    }


def act_on_case(store: Store, finding_id: str, actor: str, body: CaseAction, source: str = "token") -> dict[str, Any]:
    [ref] = finding_refs(store, [finding_id])
    summary = CASE_HANDLERS[body.action](build_cases(store, source), ref, actor, body)
    build_audit_index(store).catch_up()
    return summary_json(summary)


def group_findings(store: Store, investigation_id: str, actor: str, body: Grouping, source: str = "token") -> list[dict[str, Any]]:
    summaries = build_cases(store, source).group(finding_refs(store, body.finding_ids), actor, investigation_id, body.reason)
    build_audit_index(store).catch_up()
    return [summary_json(s) for s in summaries]


def register_feature_routes(app: FastAPI) -> None:
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
    async def get_explanation(request: Request, finding_id: FindingIdPath, principal: Reader) -> dict[str, Any]:
        """Why a finding fired: rule, parameters, triggering event, the state it judged."""
        return await run_in_threadpool(explanation, store_of(request), finding_id)

    @app.post("/v1/findings/{finding_id}/case", tags=["cases"])
    def post_case_action(request: Request, finding_id: FindingIdPath, body: CaseAction, principal: CaseWorker) -> dict[str, Any]:
        """Acknowledge, assign (to a known officer), comment, resolve (with a code; for a
        severity under four-eyes closing this asks for approval), approve or reject (a second,
        different officer), escalate (with a reason), reopen, or group into an investigation."""
        return act_on_case(store_of(request), finding_id, principal.name, body)

    @app.post("/v1/investigations/{investigation_id}", tags=["cases"])
    def post_grouping(request: Request, investigation_id: Annotated[str, Path(max_length=64)], body: Grouping,
                      principal: CaseWorker) -> list[dict[str, Any]]:
        """Group several findings' cases into one investigation (all or none)."""
        return group_findings(store_of(request), investigation_id, principal.name, body)

    @app.get("/v1/investigations/{investigation_id}", tags=["cases"])
    def get_investigation(request: Request, investigation_id: Annotated[str, Path(max_length=64)],
                          principal: Reader) -> dict[str, Any]:
        """The findings grouped in one investigation."""
        found = investigation_findings(store_of(request), investigation_id)
        if not found:
            raise NotFound(f"no investigation {investigation_id!r}")
        return {"investigation_id": investigation_id, "finding_ids": found}

    @app.post("/v1/cases/bulk", tags=["cases"])
    def post_bulk_case_action(request: Request, body: BulkCaseAction, principal: CaseWorker) -> dict[str, Any]:
        """Acknowledge or assign several findings' cases; each finding's outcome is reported."""
        try:
            outcomes = bulk_case_action(store_of(request), body.finding_ids, principal.name, body.action,
                                        body.assignee, body.text, "token")
        except InvalidRequest as e:
            raise HTTPException(422, str(e)) from None
        return {"done": sum(o["done"] for o in outcomes), "outcomes": outcomes}

    @app.get("/v1/reports/nightly/{day}", tags=["reports"])
    async def get_nightly_report(request: Request, day: date, principal: Reader) -> dict[str, Any]:
        """The nightly breach report of a Hong Kong business day, as its JSON file holds it."""
        report: dict[str, Any] = await run_in_threadpool(build_nightly, store_of(request), report_day(day))
        return report

    @app.get("/v1/quarantine/{quarantine_id}", tags=["ingest"])
    def get_quarantined(request: Request, quarantine_id: EntryPath,
                        principal: Reader) -> dict[str, Any]:
        """One rejected line with its reasons, raw text, status, every time it was received,
        the earlier rejected lines that caused it and its links."""
        number = parse_entry(quarantine_id)
        row = quarantined_line(store_of(request), number)
        if row is None:
            raise NotFound(f"no quarantined line {entry_label(number)}")
        return quarantine_json(row)

    @app.post("/v1/quarantine/{quarantine_id}/resubmit", tags=["ingest"])
    async def post_resubmission(request: Request, quarantine_id: EntryPath,
                                principal: Annotated[Principal, Depends(require("ingest"))]) -> JSONResponse:
        """Ingest the corrected line (the body: one JSON object) like any other and link it to
        the quarantined one; 422 with the reasons when it is rejected again."""
        number = parse_entry(quarantine_id)
        body = await request.body()  # one line at most, by ops.api.gate
        result, summary = await run_in_threadpool(
            lambda: resubmit_quarantined(request.app.state.pipeline, number, body.strip(),
                                         actor=principal.name, at=datetime.now(UTC))
        )
        result["rejections"] = outcome(summary).rejections
        return JSONResponse(result, status_code=422 if summary.rejected else 200)

    @app.post("/v1/quarantine/{quarantine_id}/dismiss", tags=["ingest"])
    def post_dismissal(request: Request, quarantine_id: EntryPath,
                       body: Dismissal, principal: CaseWorker) -> dict[str, Any]:
        """Record that a rejected line needs no resubmission, and why: an event on the ledger
        and a new link row naming it, by the token's name (the line never changes); 400 when it
        is already resubmitted or dismissed.
        Reading: dismissing is an officer's review decision, so it takes the case-work right."""
        number = parse_entry(quarantine_id)
        link = dismiss(store_of(request), number, actor=principal.name, reason=body.reason,
                       at=datetime.now(UTC))
        return dismissal_json(number, link)

"""The web console: server-rendered pages for officers and regulators (findings with their
explanation and case actions, the audit trail by subject, a client's state as of a moment).

The token is pasted once and kept in an HttpOnly, SameSite=Strict cookie scoped to the
console; every page checks it like the API does, by role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from domain.cases import RESOLUTION_CODES
from domain.errors import RegledgerError
from ops.api.routes import CaseAction, act_on_case
from ops.api.security import PERMISSIONS
from ops.options import time_problem
from ops.queries import explanation, state_of
from ops.render import finding_json, flat_rows, hk_time
from ops.wiring import build_audit_index
from projections.audit import AuditQuery, audit_events
from projections.cases import case_summary
from projections.store.base import FindingFilter, Store
from projections.tokens import Principal

COOKIE = "regledger_token"
FINDINGS_PAGE_ROWS = 500
AUDIT_PAGE_ROWS = 500
CASE_ACTION_FIELDS = ("position", "recorded_at", "action", "actor", "at")

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"principal": principal, **context}, status_code=status)


def signed_in(request: Request, permission: str) -> Principal:
    token = request.cookies.get(COOKIE)
    principal = request.app.state.tokens.authenticate(token) if token else None
    if principal is None:
        raise HTTPException(303, headers={"Location": "/console/login"})
    request.state.principal = principal
    if permission not in PERMISSIONS.get(principal.role, frozenset()):
        raise HTTPException(403, f"the {principal.role} role may not {permission}")
    return principal


def register_console(app: FastAPI) -> None:
    def store_of(request: Request) -> Store:
        store: Store = request.app.state.store
        return store

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/findings", status_code=303)

    @app.get("/console/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", None)

    @app.post("/console/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form(max_length=256)]) -> Response:
        if request.app.state.tokens.authenticate(token) is None:
            return page(request, "login.html", None, status=401, error="That token is not valid (or was revoked).")
        response = RedirectResponse("/console/findings", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/console")
        return response

    @app.get("/console/logout", include_in_schema=False)
    def logout() -> RedirectResponse:
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    @app.get("/console/findings", include_in_schema=False)
    def findings_page(request: Request, rule: str | None = None, subject: str | None = None,
                      case_status: str | None = None) -> HTMLResponse:
        principal = signed_in(request, "read")
        store = store_of(request)
        where = FindingFilter(rule_ids=(rule,) if rule else (), subject=subject or None,
                              case_status=case_status or None, limit=FINDINGS_PAGE_ROWS)
        rows = []
        for row in store.findings(where):
            summary = case_summary(store, row.finding_id)
            rows.append({**finding_json(row), "case_status": "open" if summary is None else summary.status})
        filters = {"rule": rule, "subject": subject, "case_status": case_status}
        return page(request, "findings.html", principal, rows=rows, filters=filters, limit=FINDINGS_PAGE_ROWS)

    @app.get("/console/findings/{finding_id}", include_in_schema=False)
    async def finding_page(request: Request, finding_id: str) -> HTMLResponse:
        principal = signed_in(request, "read")
        x = await run_in_threadpool(explanation, store_of(request), finding_id)
        for action in x["case"]["actions"]:
            action["details"] = ", ".join(f"{k}: {v}" for k, v in action.items() if k not in CASE_ACTION_FIELDS)
        rest = {k: v for k, v in x.items() if k not in ("finding", "case")}
        return page(
            request, "finding.html", principal, x=x,
            finding_rows=[(r["field"], r["value"]) for r in flat_rows(x["finding"])],
            explain_rows=[(r["field"], r["value"]) for r in flat_rows(rest)],
            can_work="cases" in PERMISSIONS.get(principal.role, frozenset()), codes=RESOLUTION_CODES,
        )

    @app.post("/console/findings/{finding_id}/case", include_in_schema=False)
    def case_form(
        request: Request, finding_id: str,
        action: Annotated[str, Form()],
        assignee: Annotated[str | None, Form(max_length=128)] = None,
        text: Annotated[str | None, Form(max_length=4000)] = None,
        code: Annotated[str | None, Form(max_length=64)] = None,
    ) -> Response:
        principal = signed_in(request, "cases")
        try:
            body = CaseAction(action=action, assignee=assignee, text=text, code=code)  # type: ignore[arg-type]
            act_on_case(store_of(request), finding_id, principal.name, body)
        except (RegledgerError, ValueError) as e:
            x = explanation(store_of(request), finding_id)
            return page(request, "finding.html", principal, status=409, error=str(e), x=x,
                        finding_rows=[], explain_rows=[], can_work=True, codes=RESOLUTION_CODES)
        return RedirectResponse(f"/console/findings/{finding_id}", status_code=303)

    @app.get("/console/audit", include_in_schema=False)
    def audit_page(request: Request, subject: str | None = None) -> HTMLResponse:
        principal = signed_in(request, "read")
        rows: list[dict[str, Any]] = []
        if subject:
            store = store_of(request)
            build_audit_index(store).catch_up()
            for entry in audit_events(store, AuditQuery(subject=subject, limit=AUDIT_PAGE_ROWS)):
                rows.append({**entry.as_json(), "occurred_at": hk_time(entry.occurred_at)})
        return page(request, "audit.html", principal, subject=subject, rows=rows)

    @app.get("/console/state", include_in_schema=False)
    async def state_page(request: Request, client: str | None = None, as_of: str | None = None) -> HTMLResponse:
        principal = signed_in(request, "read")
        if not client:
            return page(request, "state.html", principal, client=None, as_of=as_of, rows=[])
        try:
            moment = datetime.fromisoformat(as_of) if as_of else None
            problem = None if moment is None else time_problem("as of", moment)
            if problem is not None:
                raise ValueError(problem)
            result = await run_in_threadpool(state_of, store_of(request), client_id=client, as_of=moment)
        except (RegledgerError, ValueError) as e:
            return page(request, "state.html", principal, status=400, error=str(e), client=client, as_of=as_of, rows=[])
        rows = [(r["field"], r["value"]) for r in flat_rows(result)]
        return page(request, "state.html", principal, client=client, as_of=as_of, rows=rows)

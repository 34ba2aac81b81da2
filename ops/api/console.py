"""The web console: server-rendered pages for officers and regulators (findings with their
explanation and case actions, the audit trail by subject, a client's state as of a moment).

The token is pasted once and opens a console session (projections.sessions): the browser
keeps only the session's random id, in an HttpOnly, SameSite=Strict cookie, and every form
carries the session's CSRF token, checked on every POST (ops.api.gate has already refused
POSTs from other origins and found the session). Pages check the role like the API does."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from domain.cases import CASE_STATUSES, RESOLUTION_CODES
from domain.errors import InvalidRequest, RegledgerError
from domain.values import ACTOR_CHARS_MAX, NOTE_CHARS_MAX
from ops.api.deps import store_of
from ops.api.gate import SessionCookie, session_cookie
from ops.api.routes import CaseAction, Grouping, act_on_case, group_findings
from ops.api.security import PERMISSIONS, refusal
from ops.options import moment_of
from ops.queries import explanation, state_of
from ops.queue import (
    ACTION_ALIASES,
    RULE_IDS,
    SEVERITIES,
    QueueAsk,
    bulk_case_action,
    queue_json,
    read_queue,
)
from ops.render import age_text, flat_rows, hk_time, money_text, table_time
from ops.wiring import build_audit_index
from projections.audit import AuditQuery, audit_events
from projections.explain.plain import plain
from projections.sessions import ConsoleSession
from projections.store.base import Store
from projections.tokens import Principal

FINDINGS_PAGE_ROWS = 50
PAGE_NO_MAX = 1_000_000
SORT_TEXTS = (("newest", "newest first"), ("age", "oldest first"), ("severity", "severity"), ("rule", "rule"),
              ("detection", "detection order"))
AUDIT_PAGE_ROWS = 500
CASE_ACTION_FIELDS = ("position", "recorded_at", "action", "actor", "actor_source", "at")
ACTOR_SOURCE = "console-session"

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def page(request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    session: ConsoleSession | None = getattr(request.state, "session", None)
    context = {"principal": principal, "csrf": session.csrf if session else "", **context}
    return templates.TemplateResponse(request, name, context, status_code=status)


def signed_in(request: Request, permission: str) -> Principal:
    session: ConsoleSession | None = getattr(request.state, "session", None)  # found by the gate
    if session is None:
        raise HTTPException(303, headers={"Location": "/console/login"})
    principal = session.principal
    if permission not in PERMISSIONS.get(principal.role, frozenset()):
        raise HTTPException(403, refusal(principal.role, permission))
    return principal


def check_csrf(request: Request, sent: str | None) -> None:
    session: ConsoleSession = request.state.session
    if sent is None or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")


def login_page(request: Request, cookie: SessionCookie, status: int = 200, error: str | None = None) -> HTMLResponse:
    """The log-in form with a fresh token that must come back both as a field and in a cookie
    (there is no session yet to tie it to): a page elsewhere can neither read nor set it."""
    nonce = secrets.token_urlsafe(32)
    response = page(request, "login.html", None, status=status, error=error, csrf=nonce)
    response.set_cookie(cookie.login_name, nonce, httponly=True, samesite="strict", secure=cookie.secure,
                        path=cookie.path)
    return response


def register_console(app: FastAPI, behind_tls: bool) -> None:
    cookie = session_cookie(behind_tls)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/findings", status_code=303)

    @app.get("/console", include_in_schema=False)
    @app.get("/console/", include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/findings", status_code=303)

    @app.get("/console/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request, cookie)

    @app.post("/console/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form(max_length=256)],
              csrf: Annotated[str | None, Form(max_length=128)] = None) -> Response:
        expected = request.cookies.get(cookie.login_name)
        if csrf is None or expected is None or not hmac.compare_digest(csrf.encode(), expected.encode()):
            return login_page(request, cookie, 403, "The log-in form had expired: please log in again.")
        now = datetime.now(UTC)
        session_id = request.app.state.sessions.open(token, now)
        if session_id is None:
            return login_page(request, cookie, 401, "That token is not valid (or was revoked).")
        if cookie.name in request.cookies:  # a new log-in ends the browser's previous session
            request.app.state.sessions.close(request.cookies[cookie.name], now)
        response = RedirectResponse("/console/findings", status_code=303)
        response.set_cookie(cookie.name, session_id, httponly=True, samesite="strict", secure=cookie.secure,
                            path=cookie.path)
        response.delete_cookie(cookie.login_name, path=cookie.path, secure=cookie.secure,
                               httponly=True, samesite="strict")
        return response

    @app.post("/console/logout", include_in_schema=False)
    def logout(request: Request, csrf: Annotated[str | None, Form(max_length=128)] = None) -> Response:
        check_csrf(request, csrf)
        request.app.state.sessions.close(request.cookies[cookie.name], datetime.now(UTC))
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(cookie.name, path=cookie.path, secure=cookie.secure, httponly=True, samesite="strict")
        return response

    @app.get("/console/findings", include_in_schema=False)
    def findings_page(request: Request, rule: str | None = None, severity: str | None = None,
                      subject: str | None = None, case_status: str | None = None, assignee: str | None = None,
                      since: str | None = None, until: str | None = None, sort: str = "newest",
                      page_no: Annotated[int, Query(alias="page", ge=1, le=PAGE_NO_MAX)] = 1) -> HTMLResponse:
        principal = signed_in(request, "read")
        filters = {"rule": rule, "severity": severity, "subject": subject, "case_status": case_status,
                   "assignee": assignee, "since": since, "until": until, "sort": sort}
        ask = QueueAsk(rule_ids=(rule,) if rule else (), severities=(severity,) if severity else (),
                       subject=subject, since=since, until=until, case_status=case_status, assignee=assignee,
                       sort=sort, limit=FINDINGS_PAGE_ROWS, offset=(page_no - 1) * FINDINGS_PAGE_ROWS)
        context: dict[str, Any] = {
            "filters": filters, "severities": SEVERITIES, "rule_ids": RULE_IDS, "statuses": CASE_STATUSES,
            "sorts": SORT_TEXTS, "can_work": "cases" in PERMISSIONS.get(principal.role, frozenset()),
            "back": request.url.path + ("?" + request.url.query if request.url.query else ""),
        }
        try:
            result = read_queue(store_of(request), ask, me=principal.name)
        except InvalidRequest as e:
            return page(request, "findings.html", principal, status=400, error=str(e), rows=[], total=0,
                        clock=None, page_no=1, pages=1, prev_url=None, next_url=None, **context)
        rows = []
        for r in result.rows:
            row = queue_json(r, result.clock)
            rows.append({**row, "detected_at": table_time(row["detected_at"]), "age": age_text(row["age_s"]),
                         "message": money_text(row["message"])})
        pages = max(1, -(-result.total // FINDINGS_PAGE_ROWS))
        kept = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return "/console/findings?" + urlencode({**kept, "page": n})

        return page(
            request, "findings.html", principal, rows=rows, total=result.total, page_no=page_no, pages=pages,
            first=ask.offset + 1, last=ask.offset + len(rows),
            clock=None if result.clock is None else table_time(hk_time(result.clock)),
            prev_url=page_url(page_no - 1) if page_no > 1 else None,
            next_url=page_url(page_no + 1) if page_no < pages else None, **context,
        )

    @app.post("/console/findings/bulk", include_in_schema=False)
    def bulk_form(
        request: Request,
        action: Annotated[str, Form(max_length=32)],
        finding_id: Annotated[list[str] | None, Form(max_length=128)] = None,
        assignee: Annotated[str | None, Form(max_length=ACTOR_CHARS_MAX)] = None,
        back: Annotated[str | None, Form(max_length=2000)] = None,
        csrf: Annotated[str | None, Form(max_length=128)] = None,
    ) -> Response:
        """The queue's checkboxes: acknowledge or assign the chosen findings, then back to the
        same page of the queue, with a line saying what was done and what was refused."""
        principal = signed_in(request, "cases")
        check_csrf(request, csrf)
        try:
            outcomes = bulk_case_action(store_of(request), finding_id or [], principal.name, action, assignee or None,
                                        actor_source=ACTOR_SOURCE)
        except InvalidRequest as e:
            return page(request, "message.html", principal, status=400, error=str(e), back=safe_back(back))
        refused = [f"{o['finding_id']}: {o['error']}" for o in outcomes if not o["done"]]
        return page(request, "message.html", principal, status=200 if not refused else 409,
                    done=sum(o["done"] for o in outcomes), action=ACTION_ALIASES.get(action, action),
                    assignee=assignee, refused=refused, back=safe_back(back))

    @app.get("/console/findings/{finding_id}", include_in_schema=False)
    async def finding_page(request: Request, finding_id: str) -> HTMLResponse:
        principal = signed_in(request, "read")
        x = await run_in_threadpool(explained, store_of(request), finding_id)
        return page(request, "finding.html", principal, **finding_context(x, principal))

    @app.post("/console/findings/{finding_id}/case", include_in_schema=False)
    def case_form(
        request: Request, finding_id: str,
        action: Annotated[str, Form()],
        assignee: Annotated[str | None, Form(max_length=ACTOR_CHARS_MAX)] = None,
        text: Annotated[str | None, Form(max_length=NOTE_CHARS_MAX)] = None,
        code: Annotated[str | None, Form(max_length=64)] = None,
        investigation_id: Annotated[str | None, Form(max_length=64)] = None,
        also: Annotated[str | None, Form(max_length=NOTE_CHARS_MAX)] = None,
        csrf: Annotated[str | None, Form(max_length=128)] = None,
    ) -> Response:
        principal = signed_in(request, "cases")
        check_csrf(request, csrf)
        store = store_of(request)
        try:
            if action == "group":  # this finding and the others named (space or comma separated)
                others = [f for f in (also or "").replace(",", " ").split() if f != finding_id]
                group_findings(store, investigation_id or "", principal.name,
                               Grouping(finding_ids=[finding_id, *others], reason=text), ACTOR_SOURCE)
            else:
                body = CaseAction(action=action, assignee=assignee, text=text, code=code)  # type: ignore[arg-type]
                act_on_case(store, finding_id, principal.name, body, ACTOR_SOURCE)
        except (RegledgerError, ValueError, HTTPException) as e:
            return page(request, "finding.html", principal, status=409, error=refusal_text(e),
                        **finding_context(explained(store, finding_id), principal))
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
            moment = moment_of(as_of, "as of", end_of_day=True) if as_of else None
            result = await run_in_threadpool(state_of, store_of(request), client_id=client, as_of=moment)
        except (RegledgerError, ValueError) as e:
            return page(request, "state.html", principal, status=400, error=str(e), client=client, as_of=as_of, rows=[])
        rows = [(r["field"], r["value"]) for r in flat_rows(result)]
        return page(request, "state.html", principal, client=client, as_of=as_of, rows=rows)


def explained(store: Store, finding_id: str) -> dict[str, Any]:
    """The finding's explanation with each case action's own fields (its reason, note, code,
    investigation ...) as one readable line."""
    x = explanation(store, finding_id)
    for action in x["case"]["actions"]:
        action["details"] = ", ".join(f"{k}: {v}" for k, v in action.items() if k not in CASE_ACTION_FIELDS)
    return x


def finding_context(x: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """What the finding page shows, the same after an action was refused."""
    rest = {k: v for k, v in x.items() if k not in ("finding", "case")}
    return {
        "x": x, "p": plain(x), "finding_rows": [(r["field"], r["value"]) for r in flat_rows(x["finding"])],
        "explain_rows": [(r["field"], r["value"]) for r in flat_rows(rest)],
        "can_work": "cases" in PERMISSIONS.get(principal.role, frozenset()), "codes": RESOLUTION_CODES,
    }


def safe_back(back: str | None) -> str:
    """Where a form returns to: a page of the console only, never another site."""
    if back and back.startswith("/console/") and not back.startswith("//"):
        return back
    return "/console/findings"


def refusal_text(error: Exception) -> str:
    """Why a case action was refused, without echoing what was typed (pydantic's message
    quotes the input)."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    if isinstance(error, HTTPException):
        return str(error.detail)
    return str(error)

"""What every request passes before it is routed, in this order, each step without reading
the body:

1. a POST, PUT, PATCH or DELETE from another origin (``Origin`` not the server's own, or
   ``Sec-Fetch-Site`` cross-site or same-site) is refused with 403: a page on another port
   of the same host is same-site but not same-origin, and must not act as the officer;
2. a declared body over the route's cap is refused with 413; a body without a declared
   length is counted as it streams and refused (413) as soon as it passes the cap;
3. ``/v1/`` (but the health check) needs a valid bearer token (else 401) and ``/console/``
   (but log-in and its assets) an open console session (else a redirect to log-in);
   roles are checked by the routes, which find the principal in ``request.state``.

Every response carries ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy
that loads nothing from elsewhere and forbids framing; all but static assets ``no-store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.api.bodies import BODY_BYTES_MAX
from ops.lines import LINE_BYTES_MAX
from projections.sessions import ConsoleSession

BODY_BYTES_DEFAULT_MAX = 64 << 10  # a case action, a replay request, a form: a few KiB
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED_FETCH_SITES = frozenset({"cross-site", "same-site"})
PUBLIC_API_PATHS = frozenset({"/v1/health"})
PUBLIC_CONSOLE_PATHS = frozenset({"/console/login"})
STATIC_PREFIXES = ("/console/static/", "/docs/assets/")

# Swagger UI's stylesheet draws its icons as data: images; nothing else is loosened.
CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
DOCS_CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


def body_cap_bytes(path: str) -> int:
    """Ingest takes batches; one event (a check, a corrected line) is one line at most."""
    if path == "/v1/events":
        return BODY_BYTES_MAX
    if path == "/v1/check" or (path.startswith("/v1/quarantine/") and path.endswith("/resubmit")):
        return LINE_BYTES_MAX
    return BODY_BYTES_DEFAULT_MAX


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """Behind TLS the cookie is Secure and ``__Host-`` prefixed, which a page on another port
    or a sibling subdomain cannot set; over plain HTTP (loopback) it is scoped to the console."""

    name: str
    login_name: str  # the log-in form's CSRF token, before there is a session
    path: str
    secure: bool


def session_cookie(behind_tls: bool) -> SessionCookie:
    if behind_tls:
        return SessionCookie("__Host-regledger_session", "__Host-regledger_login", "/", True)
    return SessionCookie("regledger_session", "regledger_login", "/console", False)


class BodyTooLarge(HTTPException):
    def __init__(self, cap_bytes: int):
        super().__init__(413, f"the body is over the limit of {cap_bytes} bytes for this route")


def own_origin(scope: Scope, headers: Headers, behind_tls: bool) -> str | None:
    host = headers.get("host")
    if not host:
        return None
    scheme = "https" if behind_tls else scope.get("scheme", "http")
    return f"{scheme}://{host}".lower()


def is_cross_origin(scope: Scope, headers: Headers, behind_tls: bool) -> bool:
    """Browsers send ``Origin`` (and ``Sec-Fetch-Site``) with every POST; API clients that are
    not browsers send neither and carry a bearer token instead, which no page can attach."""
    if headers.get("sec-fetch-site") in REFUSED_FETCH_SITES:
        return True
    origin = headers.get("origin")
    return origin is not None and origin.lower() != own_origin(scope, headers, behind_tls)


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Gate:
    def __init__(self, app: ASGIApp, behind_tls: bool):
        self.app = app
        self.behind_tls = behind_tls
        self.cookie = session_cookie(behind_tls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, headers = scope["path"], Headers(scope=scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                add_security_headers(path, MutableHeaders(scope=message))
            await send(message)

        refusal = await self.refusal(scope, path, headers)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        cap, received = body_cap_bytes(path), 0

        async def receive_within_cap() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        try:
            await self.app(scope, receive_within_cap, send_with_headers)
        except BodyTooLarge as e:
            if started:
                raise
            await JSONResponse({"detail": e.detail}, 413)(scope, receive, send_with_headers)

    async def refusal(self, scope: Scope, path: str, headers: Headers) -> Response | None:
        """The answer to a request refused before routing, or None to let it through."""
        if scope["method"] in UNSAFE_METHODS and is_cross_origin(scope, headers, self.behind_tls):
            return JSONResponse({"detail": "a request from another origin is refused"}, 403)
        declared, cap = headers.get("content-length", ""), body_cap_bytes(path)
        if declared.isdigit() and int(declared) > cap:
            return JSONResponse({"detail": BodyTooLarge(cap).detail}, 413)
        state = scope.setdefault("state", {})
        app_state = scope["app"].state
        if path.startswith("/v1/") and path not in PUBLIC_API_PATHS:
            token = bearer_token(headers)
            principal = None if token is None else await run_in_threadpool(app_state.tokens.authenticate, token)
            if principal is None:
                return JSONResponse({"detail": "a valid bearer token is required"}, 401,
                                    {"WWW-Authenticate": "Bearer"})
            state["principal"] = principal
        elif (path.startswith("/console/") and path not in PUBLIC_CONSOLE_PATHS
              and not path.startswith(STATIC_PREFIXES)):
            session_id = cookie_parser(headers.get("cookie", "")).get(self.cookie.name)
            session: ConsoleSession | None = None
            if session_id:
                session = await run_in_threadpool(app_state.sessions.resume, session_id, datetime.now(UTC))
            if session is None:
                return RedirectResponse("/console/login", 303)
            state["session"], state["principal"] = session, session.principal
        return None


def add_security_headers(path: str, headers: MutableHeaders) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Content-Security-Policy", DOCS_CSP if path == "/docs" else CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith(STATIC_PREFIXES):
        headers.setdefault("Cache-Control", "no-store")

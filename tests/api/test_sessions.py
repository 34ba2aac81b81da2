"""Console sessions: the browser holds a random session id (the store only its hash), never
the API token; a session ends at log-out, with its token, after 8 hours idle or 12 hours
whatever happens, and every server process on the store agrees."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from projections.sessions import SEEN_AT_RESOLUTION, ConsoleSessions, SessionLimits
from projections.sql import Sql
from projections.store import open_store
from projections.tokens import TokenStore
from tests.api.conftest import LiveApi, console_login, csrf_in, serve, started

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(hours=8), absolute=timedelta(hours=12))
SECOND = timedelta(seconds=1)


def set_cookie_of(response: httpx.Response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def test_the_cookie_holds_a_random_session_id_whose_hash_alone_is_stored(live_api: LiveApi) -> None:
    token = live_api.tokens["officer"]
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
        signed = console_login(client, token)
        header = set_cookie_of(signed, "regledger_session")
        session_id = client.cookies["regledger_session"]
    assert token not in header and session_id != token and len(session_id) >= 43
    attributes = {a.strip().lower() for a in header.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= attributes
    assert "secure" not in attributes  # plain HTTP on loopback: a Secure cookie would not come back
    store = open_store(live_api.store_url)
    try:
        [row] = Sql(store).rows("SELECT * FROM console_sessions")
    finally:
        store.close()
    assert session_id not in [str(v) for v in row] and token not in [str(v) for v in row]
    assert hashlib.sha256(session_id.encode()).hexdigest() in row


@pytest.fixture
def tls_api(sqlite_url: str) -> Iterator[LiveApi]:
    yield from serve(sqlite_url, behind_tls=True)


def test_behind_tls_the_cookie_is_secure_and_host_prefixed_and_the_own_origin_is_https(tls_api: LiveApi) -> None:
    name = "__Host-regledger_session"
    with httpx.Client(base_url=tls_api.url, follow_redirects=False) as client:
        form = client.get("/console/login")
        assert "secure" in set_cookie_of(form, "__Host-regledger_login").lower()
        https_origin = {"Origin": tls_api.url.replace("http://", "https://")}
        data = {"token": tls_api.tokens["officer"], "csrf": csrf_in(form.text)}
        client.cookies.set("__Host-regledger_login", form.cookies["__Host-regledger_login"])
        assert client.post("/console/login", data=data, headers={"Origin": tls_api.url}).status_code == 403
        signed = client.post("/console/login", data=data, headers=https_origin)
        assert signed.status_code == 303
        attributes = {a.strip().lower() for a in set_cookie_of(signed, name).split(";")[1:]}
        assert {"httponly", "samesite=strict", "secure", "path=/"} <= attributes
        client.cookies.set(name, signed.cookies[name])
        assert client.get("/console/findings").status_code == 200


def test_log_out_and_revoking_the_token_end_the_session_on_every_server_process(live_api: LiveApi) -> None:
    second = started(live_api.store_url, live_api.tokens)
    other = next(second)
    try:
        with httpx.Client(base_url=live_api.url, follow_redirects=False) as a, \
                httpx.Client(base_url=other.url, follow_redirects=False) as b:
            assert console_login(a, live_api.tokens["officer"]).status_code == 303
            b.cookies.set("regledger_session", a.cookies["regledger_session"], path="/console")
            page = b.get("/console/findings")
            assert page.status_code == 200 and "test-officer (officer)" in page.text  # name and role of the token
            assert a.post("/console/logout", data={"csrf": csrf_in(page.text)}).status_code == 303
            assert b.get("/console/findings").status_code == 303  # the other process agrees
            assert console_login(a, live_api.tokens["regulator"]).status_code == 303
            first = a.cookies["regledger_session"]
            assert console_login(a, live_api.tokens["regulator"]).status_code == 303
            b.cookies.set("regledger_session", first, path="/console")
            assert b.get("/console/findings").status_code == 303  # a new log-in ended the one before
            assert a.get("/console/findings").status_code == 200
            with live_api.client("admin") as admin:
                assert admin.delete("/v1/tokens/test-regulator").status_code == 204
            assert a.get("/console/findings").status_code == 303
            assert console_login(a, live_api.tokens["regulator"]).status_code == 401
    finally:
        next(second, None)


def test_a_session_ends_after_its_idle_limit_and_its_absolute_limit(store_url: str) -> None:
    store = open_store(store_url, create=True)
    try:
        token = TokenStore(store).create("ops:alice", "officer", T0)
        sessions = ConsoleSessions(store, LIMITS)
        assert sessions.open("rlg_not-a-token", T0) is None
        idle = sessions.open(token, T0)
        assert idle is not None
        resumed = sessions.resume(idle, T0 + LIMITS.idle)  # at the idle limit: still open
        assert resumed is not None and (resumed.principal.name, resumed.principal.role) == ("ops:alice", "officer")
        quiet = sessions.open(token, T0)
        assert quiet is not None and sessions.resume(quiet, T0 + LIMITS.idle + SECOND) is None
        busy = sessions.open(token, T0)
        assert busy is not None
        moment = T0
        while moment < T0 + LIMITS.absolute:  # a request every hour: never idle
            moment += timedelta(hours=1)
            assert sessions.resume(busy, moment) is not None, moment
        assert sessions.resume(busy, T0 + LIMITS.absolute + SECOND) is None
        brief = sessions.open(token, T0)
        assert brief is not None
        assert sessions.resume(brief, T0 + SEEN_AT_RESOLUTION) is not None
        sessions.close(brief, T0 + SEEN_AT_RESOLUTION)
        assert sessions.resume(brief, T0 + SEEN_AT_RESOLUTION) is None
    finally:
        store.close()

"""Bodies against a hostile client: every route's body is capped before routing (a declared
length over the cap is refused before a byte of the body is read; a chunked body is counted
as it streams), the token or session is checked before the body is read, a 422 never echoes
what was sent, and HTTP ingest refuses an over-long line as file ingest does."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from ops.api.app import create_app
from ops.api.gate import BODY_BYTES_DEFAULT_MAX, body_cap_bytes
from ops.lines import LINE_BYTES_MAX, read_lines
from tests.api.conftest import LiveApi
from tests.conftest import SCENARIOS

ANSWER_TIMEOUT_S = 5
SECRET = "s3cret-value-never-echoed"


def answer_to_head(url: str, head: str) -> tuple[int, str]:
    """The status and headers the server answers to a request head alone: the body it
    announces is never sent, so a server that waited for it would time out here."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=ANSWER_TIMEOUT_S) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection without answering"
            received += chunk
    status_line, _, headers = received.decode("latin-1").partition("\r\n")
    return int(status_line.split()[1]), headers.lower()


def head(method: str, path: str, *lines: str) -> str:
    return "\n".join((f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *lines, ""))


def post_routes() -> list[str]:
    """Every POST route of the app, with a placeholder in each path parameter."""
    paths = []
    for route in create_app("sqlite:///unused.db").routes:
        if "POST" in getattr(route, "methods", set()):
            paths.append(route.path.replace("{quarantine_id}", "1").replace("{finding_id}", "F-1"))  # type: ignore[attr-defined]
    return sorted(paths)


def test_a_huge_declared_body_is_refused_before_it_is_read_with_or_without_a_token(live_api: LiveApi) -> None:
    huge = "Content-Length: 209715200"  # the 200 MiB of the report, never sent
    assert answer_to_head(live_api.url, head("POST", "/v1/replay", huge))[0] == 413
    bearer = f"Authorization: Bearer {live_api.tokens['regulator']}"
    assert answer_to_head(live_api.url, head("POST", "/v1/replay", huge, bearer))[0] == 413
    ingest = f"Authorization: Bearer {live_api.tokens['ingest']}"
    over = f"Content-Length: {body_cap_bytes('/v1/events') + 1}"
    assert answer_to_head(live_api.url, head("POST", "/v1/events", over, ingest))[0] == 413


def test_a_request_without_a_valid_token_or_session_is_refused_before_its_body_is_read(live_api: LiveApi) -> None:
    for length in ("Content-Length: 100", "Transfer-Encoding: chunked"):
        for path in ("/v1/replay", "/v1/events", "/v1/tokens", "/v1/check"):
            status, headers = answer_to_head(live_api.url, head("POST", path, length))
            assert status == 401 and "www-authenticate: bearer" in headers, (path, length)
            forged = "Authorization: Bearer rlg_forged"
            assert answer_to_head(live_api.url, head("POST", path, length, forged))[0] == 401, (path, length)
        status, headers = answer_to_head(live_api.url, head("POST", "/console/findings/F-1/case", length))
        assert status == 303 and "location: /console/login" in headers, length


@pytest.mark.parametrize("path", post_routes())
def test_every_post_route_refuses_a_body_one_byte_over_its_cap(live_api: LiveApi, path: str) -> None:
    cap = body_cap_bytes(path)
    assert cap <= BODY_BYTES_DEFAULT_MAX or path in ("/v1/events", "/v1/check", "/v1/quarantine/1/resubmit")
    lines = [f"Content-Length: {cap + 1}", f"Authorization: Bearer {live_api.tokens['admin']}"]
    assert answer_to_head(live_api.url, head("POST", path, *lines))[0] == 413


def padded(document: dict[str, object], size: int) -> bytes:
    text = json.dumps(document).encode()
    return text + b" " * (size - len(text))


def test_bodies_at_the_cap_pass_and_one_byte_over_is_refused_declared_or_chunked(live_api: LiveApi) -> None:
    cap = body_cap_bytes("/v1/replay")
    with live_api.client("regulator") as client:
        client.headers["Content-Type"] = "application/json"
        for size, expected in ((cap - 1, 200), (cap, 200), (cap + 1, 413)):
            body = padded({"diff": False}, size)
            assert client.post("/v1/replay", content=body).status_code == expected, ("declared", size)
            chunked = client.post("/v1/replay", content=iter([body[:1000], body[1000:]]))
            assert chunked.status_code == expected, ("chunked", size)
        endless = client.post("/v1/replay", content=(b" " * 4096 for _ in range(10_000)))  # 40 MiB, chunked
        assert endless.status_code == 413
        assert client.get("/v1/health").status_code == 200


def test_a_422_names_where_and_why_but_never_echoes_what_was_sent(live_api: LiveApi) -> None:
    with live_api.client("regulator") as regulator:
        refused = [regulator.post("/v1/replay", json={"as_of": SECRET}),
                   regulator.post("/v1/replay", content=b'{"set": "' + SECRET.encode() + b'"'),
                   regulator.get("/v1/findings", params={"limit": SECRET})]
    with live_api.client("admin") as admin:
        refused.append(admin.post("/v1/tokens", json={"name": f"<b>{SECRET}</b>", "role": "officer"}))
    with live_api.client("officer") as officer:
        refused.append(officer.post("/v1/findings/F-1/case", json={"action": SECRET}))
        refused.append(officer.post("/v1/proofs/inclusion", json={"event_id": SECRET, "digest": SECRET}))
    for response in refused:
        assert response.status_code == 422, response.text
        assert SECRET not in response.text
        assert all(set(error) == {"type", "loc", "msg"} for error in response.json()["detail"]), response.text


def test_http_ingest_refuses_a_line_over_the_per_line_limit_with_the_file_ingests_error(live_api: LiveApi, tmp_path: object) -> None:
    good = (SCENARIOS / "mf-day.jsonl").read_bytes().splitlines()[:2]
    at_limit = b'{"event_id": "at-limit", "padding": "' + b"x" * (LINE_BYTES_MAX - 39) + b'"}'
    over = at_limit[:-2] + b'x"}'
    assert (len(at_limit), len(over)) == (LINE_BYTES_MAX, LINE_BYTES_MAX + 1)
    body = b"\n".join([good[0], over, at_limit, good[1]]) + b"\n"
    import io

    from_file = {line.line_no: line.refusal for line in read_lines(io.BytesIO(body), "file")}
    assert from_file[2] is not None and from_file[3] is None
    with live_api.client("ingest") as client:
        lines = client.post("/v1/events", content=body)
        array = client.post("/v1/events", content=b"[" + b",".join([over, at_limit]) + b"]")
    assert lines.status_code == 422 and lines.json()["accepted"] == 2
    by_line = {r["line"]: r["errors"] for r in lines.json()["rejections"]}
    assert by_line[2] == [{"field": "line", "reason": from_file[2]}]
    assert all(e["field"] != "line" for e in by_line[3])  # at the limit: read, and refused for its content
    assert array.status_code == 422
    [element_1, element_2] = array.json()["rejections"]
    assert element_1["errors"] == [{"field": "line", "reason": from_file[2]}]
    assert all(e["field"] != "line" for e in element_2["errors"])


def test_the_console_form_body_is_capped_too(live_api: LiveApi) -> None:
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
        response = client.post("/console/login", data={"token": "x" * BODY_BYTES_DEFAULT_MAX})
    assert response.status_code == 413

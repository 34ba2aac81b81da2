"""The console against a page on another origin: every console form carries the session's
CSRF token, every POST from another origin (another port of the same host included, which is
same-site) is refused with 403 before it is read, and console pages forbid framing, sniffing,
caching and any script or style from elsewhere."""

from __future__ import annotations

import http.server
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import LiveApi, console_login, csrf_in
from tests.api.test_console import browser, ingested, settle
from tests.ops.receivers import serving

HOSTILE_PORT_PAGE = """<!doctype html><html><body>
<form id="f" method="post" action="{target}"><input name="action" value="comment">
<input name="text" value="posted by a neighbour"></form>
<script>document.getElementById("f").submit()</script></body></html>"""


def signed_in_officer(live_api: LiveApi) -> tuple[httpx.Client, str, str]:
    """An officer's console client, a finding id and the CSRF token of the finding's page."""
    ingested(live_api, "mf-day")
    client = httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60)
    assert console_login(client, live_api.tokens["officer"]).status_code == 303
    with live_api.client("officer") as api:
        finding_id = api.get("/v1/findings").json()[0]["finding_id"]
    page = client.get(f"/console/findings/{finding_id}")
    assert page.status_code == 200
    return client, finding_id, csrf_in(page.text)


def case_actions(live_api: LiveApi, finding_id: str) -> list[dict[str, object]]:
    with live_api.client("officer") as api:
        actions: list[dict[str, object]] = api.get(f"/v1/findings/{finding_id}/explain").json()["case"]["actions"]
    return actions


def test_a_case_action_without_the_sessions_csrf_token_or_from_another_origin_is_refused(live_api: LiveApi) -> None:
    client, finding_id, csrf = signed_in_officer(live_api)
    port = live_api.url.rsplit(":", 1)[1]
    other = httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60)
    assert console_login(other, live_api.tokens["officer"]).status_code == 303
    other_csrf = csrf_in(other.get(f"/console/findings/{finding_id}").text)
    assert other_csrf != csrf  # one token per session, not per user
    comment = {"action": "comment", "text": "forged"}
    forged: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        "no token": (comment, {}),
        "an empty token": ({**comment, "csrf": ""}, {}),
        "a wrong token": ({**comment, "csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}, {}),
        "another session's token": ({**comment, "csrf": other_csrf}, {}),
        "another port of the same host": ({**comment, "csrf": csrf}, {"Origin": "http://127.0.0.1:1"}),
        "Sec-Fetch-Site same-site": ({**comment, "csrf": csrf}, {"Sec-Fetch-Site": "same-site"}),
        "Sec-Fetch-Site cross-site": ({**comment, "csrf": csrf}, {"Sec-Fetch-Site": "cross-site"}),
        "an opaque origin": ({**comment, "csrf": csrf}, {"Origin": "null"}),
        "another host": ({**comment, "csrf": csrf}, {"Origin": f"http://evil.example:{port}"}),
        "another scheme": ({**comment, "csrf": csrf}, {"Origin": f"https://127.0.0.1:{port}"}),
    }
    for case, (form, headers) in forged.items():
        response = client.post(f"/console/findings/{finding_id}/case", data=form, headers=headers)
        assert response.status_code == 403, (case, response.status_code)
    assert case_actions(live_api, finding_id) == []
    own = {"Origin": live_api.url, "Sec-Fetch-Site": "same-origin"}
    for headers in ({}, own):  # the console's own forms, with and without the browser's headers
        response = client.post(f"/console/findings/{finding_id}/case",
                               data={"action": "comment", "text": "mine", "csrf": csrf}, headers=headers)
        assert response.status_code == 303
    unknown = client.post(f"/console/findings/{finding_id}/case", data={"action": "<i>s3cret</i>", "csrf": csrf})
    assert unknown.status_code == 409 and "s3cret" not in unknown.text  # refused, and not echoed
    actions = case_actions(live_api, finding_id)
    assert [(a["action"], a["actor"]) for a in actions] == [("CaseOpened", "test-officer")] + [
        ("CaseCommented", "test-officer")] * 2  # the actor is the session's token's name
    client.close()
    other.close()


def test_log_in_and_log_out_need_their_csrf_tokens_and_api_posts_from_another_origin_are_refused(live_api: LiveApi) -> None:
    with httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60) as client:
        login = {"token": live_api.tokens["officer"]}
        assert client.post("/console/login", data=login).status_code == 403  # no form token
        form_csrf = csrf_in(client.get("/console/login").text)
        assert client.post("/console/login", data={**login, "csrf": "x" + form_csrf}).status_code == 403
        refused = client.post("/console/login", data={**login, "csrf": form_csrf}, headers={"Origin": "http://127.0.0.1:1"})
        assert refused.status_code == 403
        assert console_login(client, live_api.tokens["officer"]).status_code == 303
        assert client.post("/console/logout").status_code == 403
        assert client.get("/console/findings").status_code == 200  # still signed in
        csrf = csrf_in(client.get("/console/findings").text)
        assert client.post("/console/logout", data={"csrf": csrf}).status_code == 303
    with live_api.client("ingest") as api:
        for headers in ({"Origin": "http://127.0.0.1:1"}, {"Sec-Fetch-Site": "same-site"}):
            assert api.post("/v1/events", content=b"[]", headers=headers).status_code == 403
        assert api.post("/v1/events", content=b"[]").status_code == 400  # not a browser: no Origin


def test_console_pages_forbid_framing_sniffing_caching_and_anything_from_elsewhere(live_api: LiveApi) -> None:
    client, finding_id, _ = signed_in_officer(live_api)
    pages = ("/console/login", "/console/findings", f"/console/findings/{finding_id}",
             "/console/audit?subject=C1", "/console/state?client=C1")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe" not in policy and "http" not in policy and "data:" not in policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "<style" not in response.text and "<script" not in response.text, path
    with live_api.client("officer") as api:
        assert api.get("/v1/findings").headers["X-Content-Type-Options"] == "nosniff"
        assert api.get("/v1/health").headers["X-Content-Type-Options"] == "nosniff"
    client.close()


@pytest.fixture
def hostile_page() -> Iterator[tuple[str, list[str]]]:
    """A server on another port of the same host, serving whatever page the test sets."""
    served: list[str] = [""]

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body = served[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)) as port:
        yield f"http://127.0.0.1:{port}/", served


def test_a_page_on_another_port_of_the_same_host_cannot_post_a_comment_as_the_signed_in_officer(
    live_api_sqlite: LiveApi, hostile_page: tuple[str, list[str]]
) -> None:
    """The reported attack, in Chromium: the session cookie is SameSite=Strict, yet another
    port of the same host is the same site, so the browser sends it with the forged form."""
    from selenium.webdriver.common.by import By

    live_api = live_api_sqlite
    ingested(live_api, "mf-day")
    with live_api.client("officer") as api:
        finding_id = api.get("/v1/findings").json()[0]["finding_id"]
    url, served = hostile_page
    served[0] = HOSTILE_PORT_PAGE.format(target=f"{live_api.url}/console/findings/{finding_id}/case")
    driver = browser()
    try:
        driver.get(f"{live_api.url}/console/login")
        driver.find_element(By.ID, "token").send_keys(live_api.tokens["officer"])
        driver.find_element(By.ID, "login").click()
        settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings tbody tr"))
        driver.get(url)
        settle(driver, lambda d: d.current_url.startswith(live_api.url))  # the form was posted
        assert "refused" in driver.page_source
        driver.get(f"{live_api.url}/console/findings/{finding_id}")
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "open")
        driver.find_element(By.CSS_SELECTOR, "input[name=text][placeholder=comment]").send_keys("seen")
        driver.find_element(By.XPATH, "//button[text()='Comment']").click()  # the console's own form works
        settle(driver, lambda d: "seen" in d.find_element(By.CSS_SELECTOR, "fieldset table").text)
        driver.find_element(By.ID, "logout").click()
        settle(driver, lambda d: d.find_elements(By.ID, "token"))
        driver.get(f"{live_api.url}/console/findings")
        assert "/console/login" in driver.current_url  # logged out for good
    finally:
        driver.quit()
    assert [(a["action"], a.get("text")) for a in case_actions(live_api, finding_id)] == [
        ("CaseOpened", None), ("CaseCommented", "seen")]


@pytest.mark.parametrize("form", [
    {"action": "approve"}, {"action": "reject", "text": "no"}, {"action": "escalate", "text": "up"},
    {"action": "group", "investigation_id": "INV-1"},
])
def test_the_four_eyes_escalation_and_grouping_forms_need_the_sessions_csrf_token(live_api: LiveApi, form: dict[str, str]) -> None:
    client, finding_id, csrf = signed_in_officer(live_api)
    for sent in ({}, {"csrf": ""}, {"csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}):
        assert client.post(f"/console/findings/{finding_id}/case", data={**form, **sent}).status_code == 403
    assert case_actions(live_api, finding_id) == []
    client.close()

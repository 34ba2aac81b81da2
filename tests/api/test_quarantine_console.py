"""The console's quarantine as an officer and a regulator use it: entries named Q-000017 with
status, count and cause; an officer dismisses one with a reason through a form carrying the
session's CSRF token (refused without it, and for a regulator); the API shows the same."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx

from tests.api.conftest import LiveApi, console_login, csrf_in

# REGLEDGER_SCREENSHOTS=DIR keeps the pages the browser test saw, for a person to look at.
SCREENSHOTS = Path(os.environ["REGLEDGER_SCREENSHOTS"]) if os.environ.get("REGLEDGER_SCREENSHOTS") else None
ONBOARDING = ('{"event_id": "on-1", "type": "ClientOnboarded", "occurred_at": "2026-03-02T09:00:00+08:00",'
              ' "data": {"client_id": "C9", "client_type": "individual", "investor_class": "nobody",'
              ' "pi_assessment": null, "market_maker_id": null}}')
DISCLOSURE = ('{"event_id": "rd-1", "type": "RiskDisclosureAcknowledged", "occurred_at": "2026-03-02T09:01:00+08:00",'
              ' "data": {"client_id": "C9", "product": "perpetuals", "version": "2026.1"}}')


def console(live_api: LiveApi, role: str) -> httpx.Client:
    client = httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60)
    assert console_login(client, live_api.tokens[role]).status_code == 303
    return client


def test_an_officer_reads_the_quarantine_and_dismisses_an_entry_with_a_reason(live_api: LiveApi) -> None:
    with live_api.client("ingest") as ingest:
        for _ in range(2):  # the same file twice: one entry per line, each received twice
            assert ingest.post("/v1/events", content=f"{ONBOARDING}\n{DISCLOSURE}\n").status_code == 422
    officer = console(live_api, "officer")
    listing = officer.get("/console/quarantine")
    assert listing.status_code == 200
    assert 'href="/console/quarantine">Quarantine</a>' in listing.text  # in the navigation
    rows = listing.text.split('<tbody>')[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 2 and "Q-000001" in rows[0] and "Q-000002" in rows[1]
    assert ">open<" in rows[1] and "<td>2</td>" in rows[1] and 'href="/console/quarantine/Q-000001"' in rows[1]
    assert "unknown client &#39;C9&#39;" in rows[1]
    # received in Hong Kong time to the second, as the alert queue shows its times
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00</td>", rows[1]), rows[1]
    entry = officer.get("/console/quarantine/2")  # a bare number is taken too
    assert entry.status_code == 200 and "Quarantine entry Q-000002" in entry.text and 'id="dismiss"' in entry.text
    csrf = csrf_in(entry.text)
    assert officer.post("/console/quarantine/Q-000002/dismiss", data={"reason": "forged"}).status_code == 403
    wrong = csrf[:-1] + ("0" if csrf[-1] != "0" else "1")
    assert officer.post("/console/quarantine/Q-000002/dismiss", data={"reason": "x", "csrf": wrong}).status_code == 403
    blank = officer.post("/console/quarantine/Q-000002/dismiss", data={"reason": "  ", "csrf": csrf})
    assert blank.status_code == 409 and "reason: must not be blank" in blank.text
    done = officer.post("/console/quarantine/Q-000002/dismiss",
                        data={"reason": "client C9 is a test client", "csrf": csrf})
    assert (done.status_code, done.headers["location"]) == (303, "/console/quarantine/Q-000002")
    after = officer.get("/console/quarantine/Q-000002").text
    assert "dismissed" in after and "client C9 is a test client" in after and 'id="dismiss"' not in after
    # one time zone in what officers read: every sighting and link in Hong Kong time
    tables = after.split('id="sightings"')[1]
    assert "At (UTC)" not in after and tables.count("+08:00") >= 3, tables
    assert ">dismissed<" in officer.get("/console/quarantine?status=dismissed").text
    assert "Q-000002" not in officer.get("/console/quarantine?status=open").text.split("<tbody>")[1]
    with live_api.client("officer") as api:
        shown = api.get("/v1/quarantine/Q-000002").json()
        assert (shown["id"], shown["status"], shown["count"], shown["caused_by"]) == ("Q-000002", "dismissed", 2, ["Q-000001"])
        [dismissal] = [k for k in shown["links"] if k["kind"] == "dismissed"]
        assert dismissal["actor"] == "test-officer" and dismissal["event_id"]
        assert [q["id"] for q in api.get("/v1/quarantine", params={"status": "dismissed"}).json()] == ["Q-000002"]
        assert [q["id"] for q in api.get("/v1/quarantine", params={"status": "open"}).json()] == ["Q-000001"]
        assert api.get("/v1/quarantine", params={"status": "closed"}).status_code == 422
        assert "sightings" not in api.get("/v1/quarantine").json()[0]  # listed in the one entry only
        assert api.get("/v1/quarantine/Q-000009").status_code == 404
        assert api.get("/v1/quarantine/line-3").status_code == 400


def test_a_regulator_reads_the_quarantine_but_gets_no_dismissal_form_and_may_not_dismiss(live_api: LiveApi) -> None:
    with live_api.client("ingest") as ingest:
        assert ingest.post("/v1/events", content=b"{not json\n").status_code == 422
    regulator = console(live_api, "regulator")
    entry = regulator.get("/console/quarantine/Q-000001")
    assert entry.status_code == 200 and 'id="dismiss"' not in entry.text
    refused = regulator.post("/console/quarantine/Q-000001/dismiss", data={"reason": "x", "csrf": csrf_in(entry.text)})
    assert refused.status_code == 403
    assert ">open<" in regulator.get("/console/quarantine").text


def test_in_a_browser_an_officer_opens_an_entry_from_the_quarantine_and_dismisses_it(live_api_sqlite: LiveApi) -> None:
    from selenium.webdriver.common.by import By

    from tests.api.test_console import browser, settle

    live_api = live_api_sqlite
    with live_api.client("ingest") as ingest:
        for _ in range(2):
            assert ingest.post("/v1/events", content=f"{ONBOARDING}\n{DISCLOSURE}\n").status_code == 422
    driver = browser()
    try:
        driver.get(f"{live_api.url}/console/quarantine")
        driver.find_element(By.ID, "token").send_keys(live_api.tokens["officer"])
        driver.find_element(By.ID, "login").click()
        # the log-in's answer first: navigating away at once can abort its POST in flight
        settle(driver, lambda d: "/console/login" not in d.current_url and not d.find_elements(By.ID, "token"))
        driver.get(f"{live_api.url}/console/quarantine")
        settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#quarantine tbody tr"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#quarantine tbody tr")
        assert [r.find_element(By.CSS_SELECTOR, ".entry-link").text for r in rows] == ["Q-000001", "Q-000002"]
        assert [r.find_element(By.CSS_SELECTOR, ".status").text for r in rows] == ["open", "open"]
        if SCREENSHOTS:
            driver.save_screenshot(str(SCREENSHOTS / "quarantine-list.png"))
        rows[1].find_element(By.CSS_SELECTOR, ".entry-link").click()
        settle(driver, lambda d: d.find_element(By.ID, "dismiss"))
        driver.find_element(By.CSS_SELECTOR, "#dismiss input[name=reason]").send_keys("client C9 is a test client")
        driver.find_element(By.CSS_SELECTOR, "#dismiss button").click()
        assert settle(driver, lambda d: d.find_element(By.CSS_SELECTOR, "h1 + p .status").text == "dismissed")
        assert "client C9 is a test client" in driver.find_element(By.ID, "links").text
        if SCREENSHOTS:
            driver.save_screenshot(str(SCREENSHOTS / "quarantine-entry.png"))
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()

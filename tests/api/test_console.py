"""The web console, server-rendered: an officer logs in with a token, opens a finding from the
list, acknowledges it and sees the case status change — in headless Chromium (Selenium with
Debian's chromium and chromium-driver)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import httpx
import pytest

from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from projections.store import open_store
from tests.api.conftest import LiveApi, console_login
from tests.conftest import SCENARIOS

PAGE_WAIT_S = 15
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic")


def ingested(live_api: LiveApi, name: str) -> None:
    store = open_store(live_api.store_url)
    try:
        IngestPipeline(store).ingest(open_inputs([str(SCENARIOS / f"{name}.jsonl")]), 1000)
    finally:
        store.close()


def browser():  # type: ignore[no-untyped-def]
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        reason = "Debian's chromium and chromium-driver are needed for the browser test"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='regledger-chromium-')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def settle(driver, condition):  # type: ignore[no-untyped-def]
    """Wait (bounded) until ``condition`` holds on the page the browser shows now."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, PAGE_WAIT_S, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)


def test_an_officer_opens_a_finding_acknowledges_it_and_sees_the_status_change(live_api_sqlite: LiveApi) -> None:
    from selenium.webdriver.common.by import By

    live_api = live_api_sqlite
    ingested(live_api, "mf-day")
    driver = browser()
    try:
        driver.get(f"{live_api.url}/console/findings")
        assert "/console/login" in driver.current_url  # not signed in yet
        driver.find_element(By.ID, "token").send_keys(live_api.tokens["officer"])
        driver.find_element(By.ID, "login").click()
        settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings tbody tr"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
        assert len(rows) == 6
        assert {r.find_element(By.CSS_SELECTOR, ".status").text for r in rows} == {"open"}
        assert driver.find_elements(By.CSS_SELECTOR, ".sev-critical")  # severity colours
        driver.find_elements(By.CSS_SELECTOR, "a.finding-link")[0].click()
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "open")
        driver.find_element(By.ID, "acknowledge").click()
        # the form posts and the page reloads: wait for the new page, not the old element
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "acknowledged")
        assert "acknowledged" in driver.page_source.lower()
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()


def test_console_pages_need_a_signed_in_reader(live_api: LiveApi) -> None:
    ingested(live_api, "mf-day")
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
        assert client.get("/console/findings").status_code == 303
        assert console_login(client, "rlg_wrong").status_code == 401
        signed = console_login(client, live_api.tokens["ingest"])
        assert signed.status_code == 303
        assert client.get("/console/findings").status_code == 403  # the ingest role reads nothing
        client.cookies.clear()
        console_login(client, live_api.tokens["regulator"])
        assert client.get("/console/findings").status_code == 200
        assert client.get("/console/audit", params={"subject": "C1"}).status_code == 200
        assert client.get("/console/state", params={"client": "C1"}).status_code == 200


def test_two_officers_close_a_high_finding_four_eyes_in_the_console(live_api_sqlite: LiveApi, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Officer A asks for the resolution, may not approve it herself; officer B approves it;
    both, with the note and the reason, are in the case history. Screenshots of each page go
    to REGLEDGER_SCREENSHOT_DIR (or the test's temporary folder)."""
    from datetime import UTC, datetime

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from projections.store.base import FindingFilter
    from projections.tokens import TokenStore

    live_api = live_api_sqlite
    ingested(live_api, "mf-day")
    store = open_store(live_api.store_url)
    try:
        second = TokenStore(store).create("officer-bob", "officer", datetime.now(UTC))
        [mf07] = store.findings(FindingFilter(rule_ids=("MF-07",)))  # high: four-eyes
        other = next(r for r in store.findings(FindingFilter()) if r.finding_id != mf07.finding_id)
    finally:
        store.close()
    shots = os.environ.get("REGLEDGER_SCREENSHOT_DIR") or str(tmp_path)
    os.makedirs(shots, exist_ok=True)
    page = f"{live_api.url}/console/findings/{mf07.finding_id}"
    driver = browser()
    driver.set_window_size(1280, 1100)

    def log_in(token: str) -> None:
        driver.get(f"{live_api.url}/console/login")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "login").click()
        settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings tbody tr"))
        driver.get(page)
        settle(driver, lambda d: d.find_element(By.ID, "case-status"))

    try:
        log_in(live_api.tokens["officer"])
        Select(driver.find_element(By.ID, "resolve-code")).select_by_visible_text("remediated")
        driver.find_element(By.ID, "resolve-note").send_keys("margin call issued at 12:40")
        driver.find_element(By.ID, "resolve").click()
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "pending_approval")
        assert "Resolution asked by test-officer" in driver.find_element(By.ID, "pending").text
        driver.save_screenshot(f"{shots}/1-officer-a-asked-for-resolution.png")
        driver.find_element(By.ID, "approve").click()
        alert = settle(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".error"))
        assert "test-officer asked for this resolution and may not approve it" in alert.text
        driver.save_screenshot(f"{shots}/2-officer-a-may-not-approve-own.png")
        # the refusal is a 409 page, which the browser logs; nothing else may be
        assert [e["message"].rsplit(" ", 3)[-3:] for e in driver.get_log("browser") if e["level"] == "SEVERE"] == [
            ["of", "409", "(Conflict)"]]
        driver.find_element(By.ID, "logout").click()
        settle(driver, lambda d: "/console/login" in d.current_url)

        log_in(second)
        assert driver.find_element(By.ID, "case-status").text == "pending_approval"
        driver.find_element(By.ID, "approve-note").send_keys("checked the call log")
        driver.find_element(By.ID, "approve").click()
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "resolved")
        history = driver.find_element(By.ID, "case-history").text
        assert "CaseResolutionRequested" in history and "margin call issued at 12:40" in history
        assert "CaseResolutionApproved" in history and "checked the call log" in history
        assert "officer-bob (console-session)" in history and "test-officer (console-session)" in history
        assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d HKT ", history.splitlines()[1]), history  # times as in HKT
        driver.save_screenshot(f"{shots}/3-officer-b-approved.png")

        driver.find_element(By.ID, "investigation-id").send_keys("INV-2026-001")
        driver.find_element(By.ID, "group-also").send_keys(other.finding_id)
        driver.find_element(By.ID, "group").click()
        assert settle(driver, lambda d: "INV-2026-001" in d.find_element(By.ID, "investigation").text)
        assert other.finding_id in driver.find_element(By.ID, "investigation").text
        driver.save_screenshot(f"{shots}/4-grouped-into-investigation.png")
        driver.get(f"{live_api.url}/console/findings/{other.finding_id}")
        driver.find_element(By.ID, "escalate-reason").send_keys("client disputes; needs the MLRO")
        driver.find_element(By.ID, "escalate").click()
        assert settle(driver, lambda d: d.find_element(By.ID, "case-status").text == "escalated")
        assert "INV-2026-001" in driver.find_element(By.ID, "investigation").text
        assert "client disputes; needs the MLRO" in driver.find_element(By.ID, "case-history").text
        driver.save_screenshot(f"{shots}/5-other-finding-escalated-in-investigation.png")
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()

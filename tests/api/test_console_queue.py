"""The alert queue in a browser (issue 18): an officer pages the queue, filters it, opens "my
queue" and a client's findings, and assigns several findings at once with the checkboxes, in
headless Chromium. Each page is saved as a screenshot (``REGLEDGER_SCREENSHOTS``, default a
temporary directory) to be looked at."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from ops.simulate import write_stream
from ops.simulate.config import SimConfig
from projections.sql import Sql
from projections.store import open_store
from tests.api.conftest import LiveApi
from tests.api.test_console import browser, settle

# Two simulated days at the highest violation rate: about 400 findings, nine pages of 50.
STREAM = SimConfig(clients=30, days=2, seed=7, violations=1.0)


def simulated(live_api: LiveApi, directory: Path) -> str:
    """Ingest the stream; a client with a finding on a loan of its (not only on itself)."""
    stream = directory / "events.jsonl"
    write_stream(STREAM, stream)
    store = open_store(live_api.store_url)
    try:
        IngestPipeline(store).ingest(open_inputs([str(stream)]), 1000)
        [(owners,)] = Sql(store).rows(
            "SELECT o.owners FROM findings f JOIN audit_owners o ON o.kind = 'loan' AND o.id = f.subject"
            " ORDER BY f.seq LIMIT 1")
    finally:
        store.close()
    client: str = json.loads(owners)[0]
    return client


def test_an_officer_pages_filters_opens_my_queue_and_a_client_and_assigns_in_bulk(live_api_sqlite: LiveApi) -> None:
    from selenium.webdriver.common.by import By

    live_api = live_api_sqlite
    shots = Path(os.environ.get("REGLEDGER_SCREENSHOTS") or tempfile.mkdtemp(prefix="regledger-queue-"))
    shots.mkdir(parents=True, exist_ok=True)
    client = simulated(live_api, shots)
    driver = browser()
    driver.set_window_size(1400, 1100)

    def rows() -> list:  # type: ignore[type-arg]
        return driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")

    def cells(column: int) -> list[str]:
        return [r.find_elements(By.TAG_NAME, "td")[column].text for r in rows()]

    try:
        driver.get(f"{live_api.url}/console/login")
        driver.find_element(By.ID, "token").send_keys(live_api.tokens["officer"])
        driver.find_element(By.ID, "login").click()
        settle(driver, lambda d: len(rows()) == 50)
        shown = driver.find_element(By.ID, "shown").text
        assert shown.startswith("Findings 1–50 of ")
        total = int(shown.split(" of ")[1].split(";")[0].replace(",", ""))
        assert total > 100
        first_page_times = cells(4)
        assert first_page_times == sorted(first_page_times, reverse=True)  # newest first
        driver.save_screenshot(str(shots / "1-queue-page-1.png"))

        driver.find_element(By.ID, "next-page").click()  # page 2
        settle(driver, lambda d: d.find_element(By.ID, "shown").text.startswith("Findings 51–100"))
        assert max(cells(4)) <= min(first_page_times)
        driver.save_screenshot(str(shots / "2-queue-page-2.png"))

        driver.find_element(By.CSS_SELECTOR, "select[name=severity] option[value=critical]").click()
        driver.find_element(By.ID, "filter").click()  # a filter
        settle(driver, lambda d: "severity=critical" in d.current_url)
        assert set(cells(1)) == {"critical"}
        driver.save_screenshot(str(shots / "3-filter-critical.png"))

        picked = [r.find_element(By.CSS_SELECTOR, "input.pick") for r in rows()[:3]]
        chosen = [p.get_attribute("value") for p in picked]
        for box in picked:
            box.click()
        driver.find_element(By.ID, "bulk-assignee").send_keys("test-officer")
        driver.find_element(By.ID, "bulk-assign").click()  # a bulk assignment
        assert settle(driver, lambda d: d.find_element(By.ID, "bulk-done").text == "3 findings assigned to test-officer.")
        driver.save_screenshot(str(shots / "4-bulk-assigned.png"))
        driver.find_element(By.ID, "back").click()
        settle(driver, lambda d: "severity=critical" in d.current_url and rows())
        assert cells(8)[:3] == ["test-officer"] * 3  # the assignee column, back on the same page

        driver.find_element(By.ID, "my-queue").click()  # "my queue"
        settle(driver, lambda d: "assignee=me" in d.current_url)
        assert [r.find_element(By.CSS_SELECTOR, "input.pick").get_attribute("value") for r in rows()] == chosen
        assert driver.find_element(By.ID, "shown").text.startswith("Findings 1–3 of 3")
        driver.save_screenshot(str(shots / "5-my-queue.png"))

        driver.get(f"{live_api.url}/console/findings?subject={client}")  # a client's findings
        settle(driver, lambda d: rows())
        subjects = set(cells(3))
        assert client in subjects or any(s.startswith("L") for s in subjects)
        assert any(not s.startswith("C") for s in subjects)  # its loans etc., not only itself
        driver.save_screenshot(str(shots / "6-client-findings.png"))
    finally:
        driver.quit()

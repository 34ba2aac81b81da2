"""An officer walks, in headless Chromium, from a finding to its plain explanation, to its
client's page, and downloads its evidence pack, which the verifier written from
ops/VERIFYING.md alone accepts with the firm's public key; the rule catalogue and the
refusals of these pages over plain HTTP."""

from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from domain.evidence.digest import public_key_pem
from ops import keys
from tests.api.conftest import LiveApi, console_login
from tests.api.test_console import browser, ingested, settle
from tests.evidence import independent_verifier as verifier

DOWNLOAD_WAIT_S = 30
HKD_FIGURE = re.compile(r"HKD (-?[0-9][0-9,]*(?:\.[0-9]+)?)")
TO_THE_CENT = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}")


def money_shown_to_the_cent(text: str) -> bool:
    figures = HKD_FIGURE.findall(text)
    return bool(figures) and all(TO_THE_CENT.fullmatch(f) for f in figures)
SHOTS = Path(os.environ.get("REGLEDGER_SCREENSHOTS", "")) if os.environ.get("REGLEDGER_SCREENSHOTS") else None


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    private, public = keys.generate_keys(str(tmp_path / "keys"))
    monkeypatch.setenv("REGLEDGER_SIGNING_KEY", str(private))
    return public


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight") + 120
        driver.set_window_size(1280, min(max(height, 800), 4000))
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_an_officer_goes_from_a_finding_to_its_explanation_client_and_a_verified_evidence_pack(
    live_api_sqlite: LiveApi, signing_key: Path, tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    live_api = live_api_sqlite
    ingested(live_api, "mf-day")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = browser()
    try:
        driver.set_window_size(1280, 1000)
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get(f"{live_api.url}/console/login")
        driver.find_element(By.ID, "token").send_keys(live_api.tokens["officer"])
        driver.find_element(By.ID, "login").click()
        settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings tbody tr"))
        shot(driver, "1-findings")
        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr") if "MF-07" in r.text)
        row.find_element(By.CSS_SELECTOR, "a.finding-link").click()
        plain = settle(driver, lambda d: d.find_element(By.ID, "plain-explanation"))
        text = plain.text
        for part in ("What the rule requires", "SFC circular 26EC5 (11 Feb 2026), VA margin financing, paragraphs 8(b), 11",
                     "C1: pledge P1: 10 BTC x HKD 370,000.00 x (1 - 0.6) = HKD 1,480,000.00",
                     "C1: short by HKD 1,500,000.00 - HKD 1,480,000.00 = HKD 20,000.00",
                     "MF-07.margin_call_within_minutes", "triggered the finding"):
            assert part in text, part
        happened = plain.find_element(By.XPATH, "./h2[.='What happened']/following-sibling::p[1]").text
        assert money_shown_to_the_cent(happened), happened
        assert driver.find_element(By.TAG_NAME, "body").text.count(happened) == 1  # said once, not above it too
        fold = driver.find_element(By.ID, "judged-state")
        assert fold.get_attribute("open") is None  # the full judged state waits behind the fold
        assert not driver.find_element(By.XPATH, "//details[@id='judged-state']//table").is_displayed()
        shot(driver, "2-finding-explained")
        finding_url = driver.current_url
        driver.find_element(By.ID, "client-link").click()
        settle(driver, lambda d: d.find_element(By.ID, "client-state"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Client C1"
        assert "Debt HKD 1,400,000.00 Shortfall HKD 68,000.00" in driver.find_element(By.ID, "client-state").text  # now, at the tip
        links = driver.find_elements(By.CSS_SELECTOR, "#client-findings a")
        assert any(a.get_attribute("href") == finding_url for a in links)  # and back to the finding
        for row in driver.find_elements(By.CSS_SELECTOR, "#client-findings tbody tr"):
            detected, message = (td.text for td in row.find_elements(By.TAG_NAME, "td")[3:5])
            assert detected.endswith(" HKT") and "T" not in detected[:-4], detected  # as the queue shows times
            assert money_shown_to_the_cent(message) or "HKD" not in message, message
        shot(driver, "3-client")
        driver.get(finding_url)
        settle(driver, lambda d: d.find_element(By.ID, "evidence-pack")).click()
        deadline = time.monotonic() + DOWNLOAD_WAIT_S
        while not [p for p in downloads.glob("*.zip")] or list(downloads.glob("*.crdownload")):
            assert time.monotonic() < deadline, "the evidence pack did not download"
            time.sleep(0.1)
        [pack] = downloads.glob("*.zip")
        assert pack.name.startswith("evidence-F-")
        assert verifier.main(["v", "pack", str(pack), str(signing_key)]) == 0
        with zipfile.ZipFile(pack) as z:
            (tmp_path / "explanation.html").write_bytes(z.read("explanation.html"))
        driver.get(f"{live_api.url}/console/rules")
        settle(driver, lambda d: d.find_element(By.ID, "MF-05"))
        assert "paragraphs 7(b), the end of 7" in driver.find_element(By.ID, "MF-05").text
        shot(driver, "4-rules")
        driver.get((tmp_path / "explanation.html").as_uri())
        shot(driver, "5-pack-explanation")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()


def test_the_pages_refuse_what_they_cannot_serve(live_api: LiveApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGLEDGER_SIGNING_KEY", raising=False)
    ingested(live_api, "mf-day")
    with httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60) as client:
        assert client.get("/console/clients/C1").status_code == 303  # not signed in
        console_login(client, live_api.tokens["regulator"])
        assert client.get("/console/clients/C1").status_code == 200
        assert client.get("/console/clients/P1").status_code == 200  # a pledge leads to its client
        missing = client.get("/console/clients/nobody")
        assert missing.status_code == 404 and "is not a client and belongs to none" in missing.text
        rules = client.get("/console/rules")
        assert rules.status_code == 200 and rules.text.count('class="rule"') == 26
        finding = client.get("/console/findings").text.split('href="/console/findings/')[1].split('"')[0]
        refused = client.get(f"/console/findings/{finding}/evidence.zip")
        assert refused.status_code == 409 and "no signing key" in refused.text


def test_a_regulator_downloads_a_pack_over_http_that_the_verifier_accepts(
    live_api: LiveApi, signing_key: Path, tmp_path: Path,
) -> None:
    ingested(live_api, "mf-day")
    with httpx.Client(base_url=live_api.url, follow_redirects=False, timeout=60) as client:
        console_login(client, live_api.tokens["regulator"])
        finding = client.get("/console/findings").text.split('href="/console/findings/')[1].split('"')[0]
        done = client.get(f"/console/findings/{finding}/evidence.zip")
        assert done.status_code == 200 and done.headers["content-type"] == "application/zip"
        assert client.get("/console/findings/F-nope/evidence.zip").status_code == 404
    (tmp_path / "p.zip").write_bytes(done.content)
    assert verifier.main(["v", "pack", str(tmp_path / "p.zip"), str(signing_key)]) == 0
    assert public_key_pem(keys.public_key(str(signing_key))) == signing_key.read_bytes()


def test_the_new_pages_keep_the_consoles_strict_policy(live_api_sqlite: LiveApi) -> None:
    ingested(live_api_sqlite, "mf-day")
    with httpx.Client(base_url=live_api_sqlite.url, follow_redirects=False, timeout=60) as client:
        console_login(client, live_api_sqlite.tokens["officer"])
        finding = client.get("/console/findings").text.split('href="/console/findings/')[1].split('"')[0]
        for path in ("/console/rules", "/console/clients/C1", f"/console/findings/{finding}"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
            assert "<style" not in response.text and "<script" not in response.text and " style=" not in response.text, path

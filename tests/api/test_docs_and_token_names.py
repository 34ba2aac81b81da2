"""The API documentation loads nothing from another origin (and still renders, under the
strict CSP), and token names are Ids at the CLI and the admin API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from domain.errors import InvalidRequest
from projections.store import open_store
from projections.tokens import TokenStore
from tests.api.conftest import LiveApi
from tests.api.test_console import browser, settle
from tests.test_cli import regledger

REFERENCE = re.compile(r'(?:src|href)="([^"]*)"')
LONGEST_NAME = "n" * 128
BAD_NAMES = ("", "n" * 129, "two words", "<b>x</b>", "=cmd|' /C calc'!A0", "a\nb", "名前", "x/y")
GOOD_NAMES = ("upstream-oms", "ops:alice.1", "A_b-c", LONGEST_NAME)


def test_the_docs_page_references_only_its_own_origin_and_every_asset_is_served(live_api_sqlite: LiveApi) -> None:
    with live_api_sqlite.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        references = REFERENCE.findall(page.text)
        assert len(references) >= 4
        for ref in references:
            assert ref.startswith("/") and not ref.startswith("//"), ref
            assert client.get(ref).status_code == 200, ref
        assert "<script>" not in page.text  # no inline script: the CSP allows none
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "http" not in policy and "unsafe" not in policy
        assert "validatorUrl: null" in client.get("/docs/start.js").text


def test_the_docs_page_renders_every_operation_in_chromium_without_a_blocked_load(live_api_sqlite: LiveApi) -> None:
    from selenium.webdriver.common.by import By

    driver = browser()
    try:
        driver.get(f"{live_api_sqlite.url}/docs")
        operations = settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
        assert len(operations) >= 20
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_token_name_that_is_not_an_id_is_refused_by_the_admin_api(live_api_sqlite: LiveApi, name: str) -> None:
    with live_api_sqlite.client("admin") as admin:
        assert admin.post("/v1/tokens", json={"name": name, "role": "officer"}).status_code == 422
        assert name not in {t["name"] for t in admin.get("/v1/tokens").json()}


def test_token_names_that_are_ids_are_taken_up_to_128_characters(live_api_sqlite: LiveApi) -> None:
    with live_api_sqlite.client("admin") as admin:
        for name in GOOD_NAMES:
            assert admin.post("/v1/tokens", json={"name": name, "role": "officer"}).status_code == 201, name


def test_token_create_refuses_a_name_that_is_not_an_id(store_url: str) -> None:
    for name in BAD_NAMES:
        done = regledger("token", "create", "--name", name, "--role", "officer", db=store_url)
        assert done.returncode == 2 and "token name" in done.stderr, (name, done.stderr)
    store = open_store(store_url)
    try:
        with pytest.raises(InvalidRequest):
            TokenStore(store).create("a b", "officer", datetime.now(UTC))
        assert TokenStore(store).list() == []
        TokenStore(store).create(LONGEST_NAME, "admin", datetime.now(UTC))
    finally:
        store.close()

"""A real uvicorn on loopback for each test, on each store, with one token per role."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from ops.api.app import create_app
from projections.store import open_store
from projections.tokens import ROLES, TokenStore

STARTUP_TIMEOUT_S = 20


@dataclass
class LiveApi:
    url: str
    tokens: dict[str, str]
    store_url: str

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture
def live_api(store_url: str) -> Iterator[LiveApi]:
    """On each store."""
    yield from serve(store_url)


@pytest.fixture
def live_api_sqlite(sqlite_url: str) -> Iterator[LiveApi]:
    """On the embedded store only: for what does not depend on the store (the browser test)."""
    yield from serve(sqlite_url)


def serve(store_url: str, behind_tls: bool = False) -> Iterator[LiveApi]:
    store = open_store(store_url, create=True)
    tokens = {role: TokenStore(store).create(f"test-{role}", role, datetime.now(UTC)) for role in ROLES}
    store.close()
    yield from started(store_url, tokens, behind_tls)


def started(store_url: str, tokens: dict[str, str], behind_tls: bool = False) -> Iterator[LiveApi]:
    """A server on a store whose tokens exist already (another server process on it)."""
    app = create_app(store_url, behind_tls=behind_tls)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                           log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveApi(f"http://127.0.0.1:{port}", tokens, store_url)
    server.should_exit = True
    thread.join(timeout=STARTUP_TIMEOUT_S)


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_in(page: str) -> str:
    """The CSRF token a console page's forms carry."""
    found = CSRF_FIELD.search(page)
    assert found is not None and found.group(1), "the page has no form with a CSRF token"
    return found.group(1)


def console_login(client: httpx.Client, token: str) -> httpx.Response:
    """Log in as a browser does: fetch the form (and its cookie), post it back."""
    form = client.get("/console/login")
    return client.post("/console/login", data={"token": token, "csrf": csrf_in(form.text)})

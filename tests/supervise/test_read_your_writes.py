"""Read-your-writes with a read replica is per caller (console session or API token): one
officer's write sends that officer's next read to wait for the standby (else the primary), and
no one else's; another officer's read never clears the wait. The standby's replay is played by
a fake here (the real one is ``test_read_replica.py``'s, on clusters)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ops.api import replica as routing_module
from ops.api.replica import CALLERS_TRACKED_MAX, ReadRouting, RequestStore, install_read_routing


class FakeStore:
    def __init__(self, name: str, primary: FakeStore | None = None):
        self.name = name
        if primary is not None:
            self.primary = primary


class Wal:
    """The primary's log position (one step per write) and how far the standby replayed it."""

    def __init__(self) -> None:
        self.inserted, self.replayed = 0, 0
        self.waits: list[str] = []

    def current_lsn(self, primary: Any) -> str:
        self.inserted += 1
        return f"0/{self.inserted:X}"

    def wait_for_replay(self, replica: Any, lsn: str, timeout_s: float) -> bool:
        self.waits.append(lsn)
        return self.replayed >= int(lsn.split("/")[1], 16)


@pytest.fixture
def wal(monkeypatch: pytest.MonkeyPatch) -> Wal:
    found = Wal()
    monkeypatch.setattr(routing_module, "current_lsn", found.current_lsn)
    monkeypatch.setattr(routing_module, "wait_for_replay", found.wait_for_replay)
    return found


@pytest.fixture
def routing() -> ReadRouting:
    return ReadRouting(FakeStore("replica", FakeStore("primary")), wait_s=0.0)  # type: ignore[arg-type]  # a fake


def chosen(routing: ReadRouting, caller: str | None) -> str:
    return str(routing.store_for_read(caller).name)  # type: ignore[attr-defined]  # a fake


def test_one_officers_write_sends_only_that_officers_reads_to_the_primary(routing: ReadRouting, wal: Wal) -> None:
    routing.note_write("alice")
    assert chosen(routing, "bob") == "replica" and wal.waits == []  # bob neither waits nor reads the primary
    assert chosen(routing, None) == "replica"
    assert chosen(routing, "alice") == "primary"  # not replayed within the wait
    wal.replayed = 1
    assert chosen(routing, "alice") == "replica"
    assert chosen(routing, "alice") == "replica" and wal.waits == ["0/1", "0/1"]  # replayed: no wait any more


def test_another_officers_read_does_not_clear_the_wait(routing: ReadRouting, wal: Wal) -> None:
    routing.note_write("alice")  # 0/1
    routing.note_write("bob")  # 0/2
    wal.replayed = 1
    assert chosen(routing, "alice") == "replica"
    assert chosen(routing, "bob") == "primary"  # alice's replayed write is not bob's
    assert chosen(routing, "bob") == "primary"
    wal.replayed = 2
    assert chosen(routing, "bob") == "replica"


def test_the_callers_remembered_are_bounded(routing: ReadRouting, wal: Wal) -> None:
    for n in range(CALLERS_TRACKED_MAX + 5):
        routing.note_write(f"officer-{n}")
    assert len(routing._written) == CALLERS_TRACKED_MAX
    assert chosen(routing, "officer-0") == "replica" and "officer-0" not in routing._written  # the oldest forgotten
    assert chosen(routing, f"officer-{CALLERS_TRACKED_MAX + 4}") == "primary"


def test_the_middleware_tells_callers_apart_by_session_cookie_and_bearer_token(routing: ReadRouting, wal: Wal) -> None:
    app = FastAPI()
    install_read_routing(app, behind_tls=False)
    app.state.reads, app.state.store = routing, RequestStore(routing.primary)

    @app.get("/console/read")
    def read(request: Request) -> str:
        return str(request.app.state.store.name)

    @app.post("/console/write")
    def write() -> str:
        return "done"

    with TestClient(app) as client:
        alice, bob = {"Cookie": "regledger_session=s-alice"}, {"Cookie": "regledger_session=s-bob"}
        token = {"Authorization": "Bearer rlg_carol"}
        assert client.post("/console/write", headers=alice).status_code == 200
        assert client.get("/console/read", headers=bob).json() == "replica"
        assert client.get("/console/read", headers=token).json() == "replica"
        assert client.get("/console/read", headers=alice).json() == "primary"
        assert client.post("/console/write", headers=token).status_code == 200
        assert client.get("/console/read", headers=token).json() == "primary"
        assert client.get("/console/read").json() == "replica"  # no caller: nothing to wait for
        wal.replayed = 2
        assert [client.get("/console/read", headers=h).json() for h in (alice, token, bob)] == ["replica"] * 3

"""Query parameters and report days outside events.md's range answer 422 with a clear message,
never 500, on both stores; an event stored by an earlier version with such a time does not
stop ingest over HTTP."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.ledger_storage import NewEntry
from ops.wiring import build_ledger
from projections.store import open_store
from tests.api.conftest import LiveApi
from tests.conftest import SCENARIOS

RANGE = "must lie in [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z) once converted to UTC"
LATE = "9999-12-31T23:59:59-23:59"
EARLY = "0001-01-01T00:00:00+08:00"
GETS: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/findings", {"since": LATE}, "since"),
    ("/v1/findings", {"until": EARLY}, "until"),
    ("/v1/audit", {"since": EARLY}, "since"),
    ("/v1/audit", {"until": LATE}, "until"),
    ("/v1/audit", {"known_at": LATE}, "known_at"),
    ("/v1/state", {"client": "C1", "as_of": EARLY}, "as_of"),
    ("/v1/state", {"client": "C1", "known_at": LATE}, "known_at"),
]


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def log_in(client: httpx.Client, token: str) -> None:
    """As a browser logs in: the form (with its CSRF token, where the console sets one), posted
    back."""
    form = client.get("/console/login")
    found = CSRF_FIELD.search(form.text)
    data = {"token": token, **({"csrf": found.group(1)} if found else {})}
    assert client.post("/console/login", data=data).status_code == 303


def detail(response: httpx.Response) -> str:
    return json.dumps(response.json())


def test_time_parameters_out_of_range_are_422_naming_the_parameter(live_api: LiveApi) -> None:
    with live_api.client("regulator") as client:
        for path, params, name in GETS:
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, params, response.text)
            assert f"{name} {RANGE}" in detail(response), (path, params)
        for body, name in (({"as_of": LATE}, "as_of"), ({"known_at": EARLY}, "known_at")):
            response = client.post("/v1/replay", json=body)
            assert response.status_code == 422, (body, response.text)
            assert f"{name} {RANGE}" in detail(response)


def test_report_days_out_of_range_are_422(live_api: LiveApi) -> None:
    with live_api.client("officer") as client:
        for day in ("9999-12-31", "0001-01-01", "1970-01-01", "2200-01-01"):
            response = client.get(f"/v1/reports/nightly/{day}")
            assert response.status_code == 422, (day, response.text)
            assert "is out of range: a report day is from 1970-01-02 to 2199-12-31" in detail(response)
        assert client.get("/v1/reports/nightly/1970-01-02").status_code == 200


def test_the_console_state_form_refuses_an_as_of_out_of_range(live_api: LiveApi) -> None:
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
        log_in(client, live_api.tokens["officer"])
        page = client.get("/console/state", params={"client": "C1", "as_of": LATE})
        assert page.status_code == 400
        assert "as of must lie in [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z)" in page.text


def test_http_ingest_goes_on_after_an_event_stored_with_a_year_1_time(live_api: LiveApi) -> None:
    store = open_store(live_api.store_url)
    try:  # as an earlier version stored it: validation then let the time through
        line = json.dumps({"event_id": "old-1", "type": "PriceObserved", "occurred_at": EARLY,
                           "data": {"asset": "BTC", "price": "1", "price_source": "feed"}})
        with build_ledger(store).storage.writer() as writer:
            writer.append([NewEntry("old-1", "PriceObserved", line.encode())],
                          datetime(2026, 3, 2, tzinfo=UTC))
    finally:
        store.close()
    body = (SCENARIOS / "mf-day.jsonl").read_bytes()
    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=body,
                               headers={"Content-Type": "application/x-ndjson"})
        assert response.status_code == 200, response.text
        again = client.post("/v1/events", content=body,
                            headers={"Content-Type": "application/x-ndjson"})
        assert again.status_code == 200, again.text
    with live_api.client("officer") as client:
        listed = client.get("/v1/findings").json()
        assert [f["rule_id"] for f in listed if f["event_id"] == "old-1"] == ["SYS-01"]
        assert any(f["rule_id"] != "SYS-01" for f in listed)  # the day after it was judged
        audit = client.get("/v1/audit", params={"subject": "old-1"})
        assert audit.status_code == 200


def test_a_sys_01_finding_shows_in_the_api_and_the_console(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    import projections.monitor.engine as engine_module

    real_apply = engine_module.apply

    def apply_then_raise(book: Any, envelope: Any, position: int) -> None:
        real_apply(book, envelope, position)
        if envelope.event_id == "mf-day-0012":
            raise RuntimeError("injected defect")

    monkeypatch.setattr(engine_module, "apply", apply_then_raise)
    body = (SCENARIOS / "mf-day.jsonl").read_bytes()
    with live_api.client("ingest") as client:
        assert client.post("/v1/events", content=body).status_code == 200
    with live_api.client("officer") as client:
        listed = client.get("/v1/findings", params={"rule": "SYS-01"}).json()
        assert [(f["event_id"], f["severity"]) for f in listed] == [("mf-day-0012", "critical")]
        assert listed[0]["message"] == (
            "event at position 12 could not be evaluated: RuntimeError: injected defect")
        finding_id = listed[0]["finding_id"]
        explained = client.get(f"/v1/findings/{finding_id}/explain")
        assert explained.status_code == 200
        assert explained.json()["rule"]["title"] == "Event could not be evaluated"
        assert len(client.get("/v1/findings").json()) > 1  # the events after it were judged
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as console:
        log_in(console, live_api.tokens["officer"])
        page = console.get("/console/findings", params={"rule": "SYS-01"})
        assert page.status_code == 200 and finding_id in page.text
        shown = console.get(f"/console/findings/{finding_id}")
        assert shown.status_code == 200 and "could not be evaluated" in shown.text

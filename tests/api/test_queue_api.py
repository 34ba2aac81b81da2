"""The alert queue over HTTP (issue 18): filters honoured, bad ones refused with 422 naming the
valid values, the total in a header, bulk acknowledge and assign by role."""

from __future__ import annotations

from tests.api.conftest import LiveApi
from tests.conftest import SCENARIOS


def test_the_queue_over_http_pages_filters_and_refuses_what_it_cannot_answer(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes())
    with live_api.client("officer") as officer:
        first = officer.get("/v1/findings", params={"limit": 4})
        assert first.headers["X-Total-Count"] == "6"
        assert [f["subject"] for f in first.json()] == ["P1", "C3", "P4", "P3"]  # newest first
        second = officer.get("/v1/findings", params={"limit": 4, "offset": 4}).json()
        assert [f["subject"] for f in second] == ["L2", "C1"]
        critical = officer.get("/v1/findings", params={"severity": "critical"})
        assert {f["severity"] for f in critical.json()} == {"critical"} and critical.headers["X-Total-Count"] == "2"
        client_c1 = officer.get("/v1/findings", params={"subject": "C1"}).json()
        assert [f["subject"] for f in client_c1] == ["P1", "C1"]
        by_day = officer.get("/v1/findings", params={"since": "2026-03-02", "until": "2026-03-02"})
        assert by_day.headers["X-Total-Count"] == "6"
        for params, named in (({"rule": "mf-06"}, "did you mean MF-06"), ({"severity": "urgent"}, "one of critical"),
                              ({"sort": "size"}, "one of detection"), ({"since": "someday"}, "is not a date")):
            refused = officer.get("/v1/findings", params=params)
            assert refused.status_code == 422 and named in refused.json()["detail"], (params, refused.text)
        ids = [f["finding_id"] for f in critical.json()]
        bulk = officer.post("/v1/cases/bulk", json={"finding_ids": ids, "action": "assign", "assignee": "test-officer"})
        assert bulk.status_code == 200 and bulk.json()["done"] == 2
        mine = officer.get("/v1/findings", params={"assignee": "me"}).json()
        assert [f["finding_id"] for f in mine] == ids and {f["case_status"] for f in mine} == {"open"}
        acked = officer.post("/v1/cases/bulk", json={"finding_ids": [*ids, "F-none"], "action": "ack"}).json()
        assert [o["done"] for o in acked["outcomes"]] == [True, True, False]
        assert officer.post("/v1/findings/" + ids[0] + "/case", json={"action": "ack"}).status_code == 409
    with live_api.client("regulator") as regulator:
        refused = regulator.post("/v1/cases/bulk", json={"finding_ids": ids, "action": "acknowledge"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == "the regulator role may not work cases"


def test_the_bulk_form_needs_the_session_s_csrf_token_and_returns_only_to_the_console(live_api: LiveApi) -> None:
    import httpx

    from tests.api.conftest import console_login, csrf_in

    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes())
    with live_api.client("officer") as officer:
        ids = [f["finding_id"] for f in officer.get("/v1/findings", params={"limit": 2}).json()]
    with httpx.Client(base_url=live_api.url, timeout=60) as browser:
        assert console_login(browser, live_api.tokens["officer"]).status_code == 303
        queue = browser.get("/console/findings")
        form = {"action": "acknowledge", "finding_id": ids, "back": "https://elsewhere.example/"}
        assert browser.post("/console/findings/bulk", data=form).status_code == 403  # no token
        assert browser.post("/console/findings/bulk", data={**form, "csrf": "forged"}).status_code == 403
        done = browser.post("/console/findings/bulk", data={**form, "csrf": csrf_in(queue.text)})
        assert done.status_code == 200 and "2 findings acknowledged." in done.text
        assert 'href="/console/findings"' in done.text and "elsewhere" not in done.text
        back = {**form, "back": "/console/findings?severity=critical", "csrf": csrf_in(queue.text)}
        again = browser.post("/console/findings/bulk", data=back)
        assert again.status_code == 409 and 'href="/console/findings?severity=critical"' in again.text

"""The HTTP API through a real uvicorn: roles, ingest equal to file ingest, bad input as 4xx."""

from __future__ import annotations

import collections
import json
from datetime import UTC, datetime

import httpx
import pytest

from ops.lines import open_inputs
from ops.pipeline import IngestPipeline
from projections.store import open_store
from projections.store.base import FindingFilter
from projections.tokens import TokenStore
from tests.api.conftest import LiveApi
from tests.conftest import SCENARIO_NAMES, SCENARIOS, fresh_store_url

# endpoint family -> (method, path, body) and the roles allowed
FAMILIES = {
    "ingest": (("POST", "/v1/events", b"[]"), {"ingest"}),
    "check": (("POST", "/v1/check", b"{}"), {"ingest", "officer"}),
    "findings": (("GET", "/v1/findings", None), {"officer", "regulator"}),
    "quarantine": (("GET", "/v1/quarantine", None), {"officer", "regulator"}),
    "tokens": (("GET", "/v1/tokens", None), {"admin"}),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_role_against_each_endpoint_family_is_allowed_401_or_403(live_api: LiveApi, family: str) -> None:
    (method, path, body), allowed = FAMILIES[family]
    with live_api.client() as anonymous:
        assert anonymous.request(method, path, content=body).status_code == 401
    with live_api.client() as forged:
        forged.headers["Authorization"] = "Bearer rlg_not-a-token"
        assert forged.request(method, path, content=body).status_code == 401
    for role in live_api.tokens:
        with live_api.client(role) as client:
            status = client.request(method, path, content=body).status_code
            if role in allowed:
                assert status not in (401, 403), (role, status)
            else:
                assert status == 403, (role, status)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_ingest_over_http_equals_ingest_by_file(live_api: LiveApi, name: str, tmp_path: object) -> None:
    lines = (SCENARIOS / f"{name}.jsonl").read_bytes()
    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == json.loads((SCENARIOS / f"{name}.rejects.json").read_text())["accepted"]
    with live_api.client("officer") as client:
        over_http = client.get("/v1/findings", params={"limit": 1000, "sort": "detection"}).json()
    kind = "postgresql" if live_api.store_url.startswith("postgresql") else "sqlite"
    with fresh_store_url(kind, __import__("pathlib").Path(str(tmp_path))) as url:
        store = open_store(url, create=True)
        IngestPipeline(store).ingest(open_inputs([str(SCENARIOS / f"{name}.jsonl")]), 1000)
        by_file = [(f.finding_id, f.rule_id, f.event_id, f.subject) for f in store.findings(FindingFilter())]
        entries = [(e.position, e.event_id, e.state) for e in store.read_entries(0, 10_000)]
        store.close()
    assert [(f["finding_id"], f["rule_id"], f["event_id"], f["subject"]) for f in over_http] == by_file
    http_store = open_store(live_api.store_url)
    assert [(e.position, e.event_id, e.state) for e in http_store.read_entries(0, 10_000)] == entries
    http_store.close()


def test_a_json_array_body_stores_each_element_exactly_as_sent(live_api: LiveApi) -> None:
    raw = (SCENARIOS / "mf-day.jsonl").read_text().splitlines()[:3]
    body = "[\n " + ",\n ".join(raw) + "\n]"
    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["accepted"] == 3
    store = open_store(live_api.store_url)
    assert [e.state.decode() for e in store.read_entries(0, 10)] == raw
    store.close()


def test_rejected_lines_come_back_as_422_with_per_line_reasons_and_valid_ones_are_kept(live_api: LiveApi) -> None:
    good = (SCENARIOS / "mf-day.jsonl").read_text().splitlines()[0]
    bad = '{"event_id": "x", "type": "PriceObserved", "occurred_at": "2026-03-02T09:00:00", "data": {}}'
    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=f"{good}\n{bad}\n")
    assert response.status_code == 422
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["rejections"][0]["line"] == 2 and body["rejections"][0]["event_id"] == "x"
    assert {e["field"] for e in body["rejections"][0]["errors"]} >= {"occurred_at", "data.asset"}


@pytest.mark.parametrize("body", [b"", b"[", b"[1,", b"\xff\xfe", b"[] trailing", b'{"a": 1} {"b": 2}'])
def test_malformed_bodies_are_4xx_never_5xx(live_api: LiveApi, body: bytes) -> None:
    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=body)
    assert 400 <= response.status_code < 500, (body, response.status_code, response.text)


def test_a_body_over_the_limit_is_refused_with_413(live_api: LiveApi) -> None:
    from ops.api.bodies import BODY_BYTES_MAX

    with live_api.client("ingest") as client:
        response = client.post("/v1/events", content=b" " * (BODY_BYTES_MAX + 1))
    assert response.status_code == 413


def test_a_revoked_token_is_refused_and_tokens_are_never_listed(live_api: LiveApi) -> None:
    with live_api.client("admin") as admin:
        created = admin.post("/v1/tokens", json={"name": "upstream-oms", "role": "ingest"})
        assert created.status_code == 201
        token = created.json()["token"]
        listed = admin.get("/v1/tokens").json()
        assert "upstream-oms" in {t["name"] for t in listed} and token not in json.dumps(listed)
        assert admin.delete("/v1/tokens/upstream-oms").status_code == 204
    with live_api.client() as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.post("/v1/events", content=b"[]").status_code == 401


def test_the_server_keeps_serving_under_a_flood_of_bad_requests(live_api: LiveApi) -> None:
    statuses = collections.Counter()
    with live_api.client("ingest") as client:
        for n in range(300):
            statuses[client.post("/v1/events", content=b"{" * (n % 7 + 1)).status_code // 100] += 1
        assert client.get("/v1/health").status_code == 200
    assert statuses[5] == 0


def test_check_over_http_reports_findings_and_stores_nothing(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "perp-day.jsonl").read_bytes())
        proposed = {"event_id": "p-1", "type": "PerpOrderPlaced", "occurred_at": "2026-03-02T09:30:00+08:00",
                    "data": {"order_id": "O-new", "client_id": "R1", "contract_id": "BTC-PERP", "side": "buy",
                             "quantity": "1", "limit_price": "500000", "market_maker": False}}
        response = client.post("/v1/check", json=proposed)
    assert response.status_code == 200
    assert "PI-01" in {f["rule_id"] for f in response.json()["findings"]}
    store = open_store(live_api.store_url)
    assert "p-1" not in {e.event_id for e in store.read_entries(0, 10_000)}
    store.close()


def test_officers_read_audit_state_explanations_and_reports_and_work_cases(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes())
    with live_api.client("officer") as officer:
        findings = officer.get("/v1/findings", params={"rule": "MF-07"}).json()
        [mf07] = findings
        explained = officer.get(f"/v1/findings/{mf07['finding_id']}/explain")
        assert explained.status_code == 200 and "mf-day-0018" in explained.text
        trail = officer.get("/v1/audit", params={"subject": "C1"}).json()
        assert {"mf-day-0015", "mf-day-0016", "mf-day-0020"} <= {e["event_id"] for e in trail}
        state = officer.get("/v1/state", params={"client": "C1", "as_of": "2026-03-02T12:30:00+08:00"}).json()
        assert (state["lending_value"], state["debt"], state["short"]) == ("1480000", "1500000", True)
        acted = officer.post(f"/v1/findings/{mf07['finding_id']}/case", json={"action": "resolve", "code": "remediated"})
        assert acted.status_code == 200 and acted.json()["status"] == "pending_approval"  # MF-07 is high
        assert acted.json()["updated_by"] == acted.json()["requested_by"] == "test-officer"  # from the token
        again = officer.post(f"/v1/findings/{mf07['finding_id']}/case", json={"action": "approve"})
        assert again.status_code == 409 and "may not approve it" in again.json()["detail"]
        report = officer.get("/v1/reports/nightly/2026-03-02").json()
        assert report["summary"]["new"] == 6
    with live_api.client("regulator") as regulator:
        refused = regulator.post(f"/v1/findings/{mf07['finding_id']}/case", json={"action": "reopen"})
        assert refused.status_code == 403


def test_a_second_officer_token_approves_and_the_api_groups_escalates_and_names_only_known_officers(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes())
    store = open_store(live_api.store_url)
    try:
        bob = TokenStore(store).create("officer-bob", "officer", datetime.now(UTC))
    finally:
        store.close()
    with live_api.client("officer") as alice, httpx.Client(base_url=live_api.url, headers={"Authorization": f"Bearer {bob}"}) as second:
        ids = [f["finding_id"] for f in alice.get("/v1/findings").json()]
        case = f"/v1/findings/{ids[0]}/case"
        unknown = alice.post(case, json={"action": "assign", "assignee": "mallory"})
        assert unknown.status_code == 422 and "'mallory' is not a known officer (known: officer-bob, test-officer)" in unknown.json()["detail"]
        assert alice.post(case, json={"action": "assign", "assignee": "officer-bob"}).json()["assignee"] == "officer-bob"
        assert alice.post(case, json={"action": "escalate"}).status_code == 409  # a reason is needed
        assert alice.post(case, json={"action": "escalate", "text": "MLRO"}).json()["status"] == "escalated"
        assert alice.post(case, json={"action": "resolve", "code": "accepted_risk"}).status_code == 200
        rejected = second.post(case, json={"action": "reject", "text": "not accepted: report it"}).json()
        assert (rejected["status"], rejected["updated_by"]) == ("escalated", "officer-bob")
        grouped = second.post("/v1/investigations/INV-9", json={"finding_ids": ids[:3], "reason": "one client"})
        assert grouped.status_code == 200 and {s["investigation_id"] for s in grouped.json()} == {"INV-9"}
        assert alice.get("/v1/investigations/INV-9").json() == {"investigation_id": "INV-9", "finding_ids": sorted(ids[:3])}
        assert alice.get("/v1/investigations/INV-0").status_code == 404
        history = alice.get(f"/v1/findings/{ids[0]}/explain").json()["case"]
        assert history["investigation_id"] == "INV-9"
        assert [(a["action"], a["actor"], a["actor_source"], a.get("reason")) for a in history["actions"]][2:] == [
            ("CaseEscalated", "test-officer", "token", "MLRO"),
            ("CaseResolutionRequested", "test-officer", "token", None),
            ("CaseResolutionRejected", "officer-bob", "token", "not accepted: report it"),
            ("CaseGrouped", "officer-bob", "token", "one client"),
        ]


def test_digests_proofs_verification_and_replay_over_http(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        client.post("/v1/events", content=(SCENARIOS / "mf-day.jsonl").read_bytes())
    with live_api.client("officer") as officer:
        tip = officer.get("/v1/digest").json()
        assert tip["position"] == 38 and tip["signed"] is False and len(tip["merkle_root"]) == 64
        assert officer.post("/v1/verify").status_code == 403  # verification is the regulator's
    with live_api.client("regulator") as regulator:
        verified = regulator.post("/v1/verify", params={"projections": "true"}).json()
        assert verified["intact"] is True and verified["checked"] == 38
        assert verified["projections"]["intact"] is True
        assert verified["quarantine"] == {"intact": True, "rows": 0, "links": 0, "first_bad": None, "reason": None}
        changed = regulator.post("/v1/replay", json={"set": ["MF-05.min_haircut=0.7"], "diff": True}).json()
        added = {(f["rule_id"], f["event_id"], f["subject"]) for f in changed["added"]}
        removed = {(f["rule_id"], f["event_id"], f["subject"]) for f in changed["removed"]}
        # at 70 % C1 is short one tick earlier (LV 1,341,000 at BTC 447,000), so its MF-07 moves;
        # P2's 65 % haircut is now below the minimum
        assert {("MF-07", "mf-day-0017", "C1"), ("MF-05", "mf-day-0028", "P2")} <= added
        assert removed == {("MF-07", "mf-day-0018", "C1")}
        bad = regulator.post("/v1/replay", json={"set": ["MF-05.nope=1"]})
        assert bad.status_code == 400 and "nope" in bad.text


def test_a_quarantined_line_is_shown_and_resubmitted_corrected_over_http(live_api: LiveApi) -> None:
    good = (SCENARIOS / "mf-day.jsonl").read_text().splitlines()[0]
    bad = '{"event_id": "fix-1", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00", "data": {"asset": "ETH", "asset_kind": "virtual_asset"}}'
    with live_api.client("ingest") as client:
        assert client.post("/v1/events", content=f"{good}\n{bad}\n").status_code == 422
    with live_api.client("officer") as officer:
        [row] = officer.get("/v1/quarantine").json()
        shown = officer.get(f"/v1/quarantine/{row['id']}").json()
        assert shown["event_id"] == "fix-1" and shown["resubmitted_as"] is None
        assert officer.post(f"/v1/quarantine/{row['id']}/resubmit", content=b"{}").status_code == 403
    fixed = bad.replace("09:00:00", "09:00:00+08:00")
    with live_api.client("ingest") as client:
        again = client.post(f"/v1/quarantine/{row['id']}/resubmit", content=bad)
        assert again.status_code == 422 and again.json()["rejections"][0]["errors"][0]["field"] == "occurred_at"
        done = client.post(f"/v1/quarantine/{row['id']}/resubmit", content=fixed)
        assert done.status_code == 200 and done.json()["resubmitted_as"] == "fix-1"
    with live_api.client("officer") as officer:
        assert officer.get(f"/v1/quarantine/{row['id']}").json()["resubmitted_as"] == "fix-1"
        assert officer.get("/v1/quarantine/999999").status_code == 404
        shown = officer.get(f"/v1/quarantine/{row['id']}").json()
        assert shown["status"] == "resubmitted"
        # the unchanged line resubmitted was refused for the same reasons: the same entry seen again
        assert [(k["kind"], k["event_id"], k["actor"]) for k in shown["links"]] == [
            ("seen_again", None, "ingest"), ("resubmitted", "fix-1", "test-ingest"),
        ]
        assert (shown["id"], shown["count"]) == ("Q-000001", 2)


def test_an_officer_dismisses_a_quarantined_line_over_http_as_a_new_link(live_api: LiveApi) -> None:
    with live_api.client("ingest") as client:
        assert client.post("/v1/events", content=b"{not json\n{also not\n").status_code == 422
        assert client.post("/v1/quarantine/1/dismiss", json={"reason": "noise"}).status_code == 403
    with live_api.client("regulator") as regulator:
        assert regulator.post("/v1/quarantine/1/dismiss", json={"reason": "noise"}).status_code == 403
    with live_api.client("officer") as officer:
        for body in ({}, {"reason": ""}, {"reason": "r" * 4001}):
            assert officer.post("/v1/quarantine/1/dismiss", json=body).status_code == 422, body
        done = officer.post("/v1/quarantine/1/dismiss", json={"reason": "r" * 4000})
        assert done.status_code == 200, done.text
        assert {k: done.json()[k] for k in ("quarantine_id", "status", "actor", "link_id")} == {
            "quarantine_id": 1, "status": "dismissed", "actor": "test-officer", "link_id": 1,
        }
        again = officer.post("/v1/quarantine/1/dismiss", json={"reason": "again"})
        assert again.status_code == 400 and "already dismissed by test-officer" in again.text
        assert officer.post("/v1/quarantine/99/dismiss", json={"reason": "x"}).status_code == 404
        assert [(q["id"], q["status"]) for q in officer.get("/v1/quarantine").json()] == [("Q-000001", "dismissed"), ("Q-000002", "open")]

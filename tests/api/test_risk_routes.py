"""The risk views over HTTP, on both stores: ``GET /v1/stress?shock=BTC:-30%`` gives what
``regledger stress`` gives; ``GET /v1/obligations``; the console's stress and deadlines
pages for the officer and the regulator, with links to each client's page."""

from __future__ import annotations

import httpx

from projections.store import open_store
from tests.api.conftest import LiveApi, console_login
from tests.audit.helpers import ingest
from tests.deadlines.test_board import quiet_hour
from tests.stress.test_stress import margin_book


def ingested(live_api: LiveApi, lines: list[bytes]) -> None:
    store = open_store(live_api.store_url)
    try:
        ingest(store, lines)
    finally:
        store.close()


def test_the_stress_api_takes_shocks_as_asset_colon_move_and_gives_the_cli_shape(live_api: LiveApi) -> None:
    ingested(live_api, margin_book("1400000.01"))
    with live_api.client("regulator") as client:
        done = client.get("/v1/stress", params={"shock": "BTC:-30%"})
        assert done.status_code == 200, done.text
        [scenario] = done.json()["scenarios"]
        assert (scenario["shocks"], scenario["total_shortfall_after"]) == ({"BTC": "-0.3"}, "0.01")
        assert client.get("/v1/stress", params={"shock": "BTC:-100%"}).status_code == 400
        assert client.get("/v1/stress").status_code == 400  # nothing to stress
        ladder = client.get("/v1/stress", params={"ladder": "BTC"}).json()["scenarios"]
        assert [s["label"] for s in ladder][-1] == "BTC -60%"
        totals = client.get("/v1/stress", params={"ladder": "BTC", "totals": "true"}).json()["scenarios"]
        assert [(s["label"], s["total_shortfall_after"]) for s in totals] == [
            (s["label"], s["total_shortfall_after"]) for s in ladder]
        assert "clients" not in totals[0]
    with live_api.client("ingest") as client:
        assert client.get("/v1/stress", params={"shock": "BTC:-30%"}).status_code == 403
    with live_api.client() as client:
        assert client.get("/v1/stress", params={"shock": "BTC:-30%"}).status_code == 401


def test_the_obligations_api_counts_the_time_left_from_now(live_api: LiveApi) -> None:
    ingested(live_api, quiet_hour())
    with live_api.client("officer") as client:
        done = client.get("/v1/obligations", params={"now": "2026-03-02T09:45:00+08:00"})
        assert done.status_code == 200, done.text
        rows = done.json()["obligations"]
        assert [(r["rule_id"], r["overdue"]) for r in rows] == [("MF-08", True), ("MF-07", False), ("PERP-08", False)]
        assert client.get("/v1/obligations", params={"now": "2026-03-02T09:45:00"}).status_code == 422


def test_the_console_shows_the_ladder_a_shock_and_the_deadlines_to_officers_and_regulators(live_api: LiveApi) -> None:
    ingested(live_api, quiet_hour())  # C1 short already; at BTC -30 %: LV 10 x 259000 x 0.4
    for role in ("officer", "regulator"):
        with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
            assert client.get("/console/stress").status_code == 303  # sign in first
            console_login(client, live_api.tokens[role])
            page = client.get("/console/stress", params={"shock": ["BTC:-30%", ""]})
            assert page.status_code == 200, page.text
            assert 'href="/console/stress"' in page.text and 'href="/console/obligations"' in page.text
            assert "BTC -60%" in page.text and "ETH -60%" in page.text  # the eligible assets' ladders
            assert '<a href="/console/state?client=C1">C1</a>' in page.text
            assert "464,000.00" in page.text  # C1's shortfall after, to the cent
            refused = client.get("/console/stress", params={"shock": "BTC:ten"})
            assert refused.status_code == 400 and "neither a percentage" in refused.text
            board = client.get("/console/obligations")
            assert board.status_code == 200 and "overdue" in board.text and "MF-07" in board.text
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as client:
        console_login(client, live_api.tokens["ingest"])
        assert client.get("/console/stress").status_code == 403
        assert client.get("/console/obligations").status_code == 403

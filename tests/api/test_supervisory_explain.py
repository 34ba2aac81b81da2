"""A regulator's supervisory alert explained through the API and on the console's finding
page, as any other finding is."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from ops.wiring import open_store
from policies.supervisory import chain_alert
from projections.sql import Sql
from projections.supervise.follower import record_alerts
from tests.api.conftest import LiveApi, console_login
from tests.audit.helpers import ingest, lines_of

AT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def test_a_supervisory_alert_is_explained_by_the_api_and_the_console(live_api: LiveApi) -> None:
    store = open_store(live_api.store_url)
    try:
        ingest(store, lines_of("mf-day"))
        alert = chain_alert("acme", "deleted", 7, "", AT)
        record_alerts(Sql(store), "acme", [alert])
    finally:
        store.close()
    with live_api.client("regulator") as api:
        x = api.get(f"/v1/findings/{alert.finding_id}/explain").json()
    assert x["finding"]["rule_id"] == "SUP-01" and x["supervision"]["concerned"]["position"] == 7
    assert "deleted" in x["supervision"]["next_steps"][0]
    with httpx.Client(base_url=live_api.url, follow_redirects=False) as browser:
        assert console_login(browser, live_api.tokens["regulator"]).status_code == 303
        page = browser.get(f"/console/findings/{alert.finding_id}")
    assert page.status_code == 200
    for said in ("What the regulator's follower saw", "ledger position 7: the row was deleted",
                 "What the regulator should do next", "Ask the firm why the row at position 7 was deleted"):
        assert said in page.text, said

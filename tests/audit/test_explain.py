"""``explain``: a finding with its rule, parameters, triggering event and the state it judged,
with the events behind every figure."""

from __future__ import annotations

import pytest

from projections.explain import explain
from projections.store.base import FindingFilter, Store
from tests.audit.helpers import ingest, lines_of
from tests.conftest import SCENARIO_NAMES


def test_an_mf07_finding_shows_the_price_fall_and_the_pledge_and_loan_behind_it(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    [finding] = store.findings(FindingFilter(rule_ids=("MF-07",)))
    found = explain(store, finding)
    assert found["rule"]["rule_id"] == "MF-07" and found["rule"]["title"] == "Timely margin call"
    assert found["rule"]["citation"] == "SFC circular 26EC5 (11 Feb 2026), VA margin financing, paragraphs 8(b), 11"
    assert found["parameters_in_force"] == {
        "eligible_assets": ["BTC", "ETH"], "margin_call_within_minutes": 60, "min_haircut": "0.6",
    }
    assert (found["triggering_event"]["event_id"], found["triggering_event"]["data"]) == (
        "mf-day-0018", {"asset": "BTC", "price": "370000", "price_source": "vatp-a"},
    )
    assert found["detected_by"]["event_id"] == "mf-day-0019"  # the first event past the deadline
    [client] = found["judged_state"]["clients"]
    assert {k: client[k] for k in ("client_id", "debt", "lending_value", "short", "pledges", "loans")} == {
        "client_id": "C1", "debt": "1500000", "lending_value": "1480000", "short": True,
        "pledges": [{
            "pledge_id": "P1", "asset": "BTC", "quantity": "10", "open": True, "eligible": True,
            "haircut": "0.6", "haircut_applied": "0.6", "price": "370000", "value": "3700000",
            "lending_value": "1480000", "event_ids": ["mf-day-0015"], "price_event_id": "mf-day-0018",
        }],
        "loans": [{"loan_id": "L1", "outstanding": "1500000", "event_ids": ["mf-day-0016"]}],
    }
    evidence = {e["event_id"]: e for e in found["evidence_events"]}
    assert [e["event_id"] for e in found["evidence_events"]] == [
        f"mf-day-{n:04d}" for n in (10, 11, 12, 13, 14, 15, 16, 18)
    ]
    assert evidence["mf-day-0015"]["data"]["quantity"] == "10"
    assert evidence["mf-day-0016"]["data"]["amount"] == "1500000"


def test_a_finding_on_a_pledge_is_explained_with_its_clients_state(store: Store) -> None:
    ingest(store, lines_of("mf-day"))
    [finding] = store.findings(FindingFilter(rule_ids=("MF-10",)))
    found = explain(store, finding)
    [client] = found["judged_state"]["clients"]
    assert (client["client_id"], client["pledges"][0]["quantity"]) == ("C1", "9")
    assert found["triggering_event"]["data"]["destination_kind"] == "broker_house"
    assert "mf-day-0038" in client["pledges"][0]["event_ids"]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_finding_of_every_scenario_can_be_explained(store: Store, name: str) -> None:
    ingest(store, lines_of(name))
    for finding in store.findings(FindingFilter()):
        found = explain(store, finding)
        assert found["triggering_event"]["event_id"] == finding.event_id
        assert found["evidence_events"], finding.rule_id

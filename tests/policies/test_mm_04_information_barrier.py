from __future__ import annotations

import pytest

from policies.finding import Finding
from tests.monitor.builders import of_rule, whole
from tests.policies.mm_setup import mm_stream


def access(entity: str, dataset: str) -> list[Finding]:
    s = mm_stream()
    return of_rule(s.send("DataAccessed", actor_id="trader-7", actor_entity=entity,
                          dataset=dataset, record_count=120), "MM-04")


def test_an_affiliate_reading_client_orders_is_a_whole_finding() -> None:
    s = mm_stream()
    found = of_rule(s.send("DataAccessed", actor_id="trader-7", actor_entity="MM-A",
                           dataset="client_orders", record_count=120), "MM-04")
    assert found == [whole(
        s, "MM-04", "critical", "MM-A",
        "trader-7 of affiliate market maker MM-A accessed 120 records of client orders.",
        {}, {"actor_id": "trader-7", "dataset": "client_orders", "record_count": 120},
    )]


@pytest.mark.parametrize(("entity", "dataset", "breach"), [
    ("MM-A", "client_positions", True), ("MM-A", "client_identities", True),
    ("MM-A", "market_data", False), ("MM-C", "client_orders", False),
    ("platform", "client_orders", False),
])
def test_only_affiliates_reading_client_data_breach(entity: str, dataset: str, breach: bool) -> None:
    assert bool(access(entity, dataset)) is breach

"""The rarer facts of a simulated run: an SFC notice raising MF-05's minimum haircut ahead of
its effective time, the broker's haircut reviews, and securities margin accounts closed with
nothing outstanding. All accepted by the ledger, and raising nothing in a clean run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ops.simulate import SimConfig, simulate
from tests.conftest import fresh_store_url
from tests.simulate.helpers import simulate_into

# 80 clients over 4 days: seed 1 closes one account (12 closings are expected of 4,000 over 3 days).
CONFIG = SimConfig(clients=80, days=4, seed=1)
NEW_TYPES = ("RuleParameterAmended", "CollateralHaircutChanged", "SecuritiesMarginAccountClosed")


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(simulate(CONFIG))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_multi_day_run_raises_the_minimum_haircut_once_with_prior_notice(events: list[dict[str, Any]]) -> None:
    (notice,) = [e for e in events if e["type"] == "RuleParameterAmended"]
    data = notice["data"]
    assert (data["rule_id"], data["parameter"], data["value"]) == ("MF-05", "min_haircut", "0.65")
    assert _at(data["effective_from"]) > _at(notice["occurred_at"])
    # the broker grants nothing below the minimum in force, nor after the notice below the new one
    floor = Decimal("0.6")
    for e in events:
        if e is notice:
            floor = Decimal(data["value"])
        elif e["type"] in ("CollateralPledged", "CollateralHaircutChanged"):
            assert Decimal(e["data"]["haircut"]) >= floor, e


def test_a_run_too_short_for_a_notice_period_amends_nothing() -> None:
    kinds = {e["type"] for e in simulate(SimConfig(clients=20, days=2, seed=1))}
    assert "RuleParameterAmended" not in kinds


def test_haircut_reviews_and_closings_are_a_small_share_of_the_run(events: list[dict[str, Any]]) -> None:
    counts = Counter(e["type"] for e in events)
    assert all(counts[kind] > 0 for kind in NEW_TYPES)
    assert counts["CollateralHaircutChanged"] <= counts["CollateralPledged"]
    assert counts["SecuritiesMarginAccountClosed"] <= counts["SecuritiesMarginAccountOpened"] // 10
    assert sum(counts[kind] for kind in NEW_TYPES) < len(events) // 100


def test_an_account_is_closed_with_nothing_outstanding_and_named_by_nothing_after(
    events: list[dict[str, Any]],
) -> None:
    loans: dict[str, tuple[str, Decimal]] = {}  # loan id -> client, outstanding
    pledges: dict[str, tuple[str, Decimal]] = {}  # pledge id -> client, open quantity
    balances: dict[str, Decimal] = {}  # account id -> reported securities loan
    closed: set[str] = set()
    for e in events:
        data, kind = e["data"], e["type"]
        assert data.get("account_id") not in closed, e
        if kind == "VAFinancingDrawn":
            loans[data["loan_id"]] = (data["client_id"], Decimal(data["amount"]))
        elif kind == "VAFinancingRepaid":
            client, owed = loans[data["loan_id"]]
            loans[data["loan_id"]] = (client, owed - Decimal(data["amount"]))
        elif kind == "CollateralPledged":
            pledges[data["pledge_id"]] = (data["client_id"], Decimal(data["quantity"]))
        elif kind == "CollateralReleased" or (
            kind == "CollateralTransferred" and data["destination_kind"] != "segregated_custody"
        ):
            client, held = pledges[data["pledge_id"]]
            pledges[data["pledge_id"]] = (client, held - Decimal(data["quantity"]))
        elif kind == "SecuritiesMarginPositionReported":
            balances[data["account_id"]] = Decimal(data["loan_balance"])
        elif kind == "SecuritiesMarginAccountClosed":
            client = data["client_id"]
            assert balances.get(data["account_id"], Decimal(0)) == 0
            assert all(owed == 0 for c, owed in loans.values() if c == client)
            assert all(held == 0 for c, held in pledges.values() if c == client)
            closed.add(data["account_id"])
    assert closed


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_notices_reviews_and_closings_are_accepted_and_raise_no_finding(kind: str, tmp_path: Path) -> None:
    with fresh_store_url(kind, tmp_path) as url:
        summary, found = simulate_into(url, tmp_path, CONFIG)
    assert (summary.rejected, summary.duplicates, dict(found)) == (0, 0, {})

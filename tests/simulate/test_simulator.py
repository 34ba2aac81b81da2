"""The market simulator: deterministic, valid under events.md, clean when asked, and every
rule breached when breaches are injected."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from ops.simulate import SimConfig, simulate, write_stream
from policies.registry import RULES
from tests.conftest import fresh_store_url
from tests.simulate.helpers import simulate_into
from tests.test_cli import regledger


def test_a_run_is_a_pure_function_of_its_configuration(tmp_path: Path) -> None:
    config = SimConfig(clients=25, days=2, seed=11, violations=0.05)
    first, again, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_stream(config, first)
    write_stream(config, again)
    write_stream(SimConfig(clients=25, days=2, seed=12, violations=0.05), other)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_events_come_in_time_order_with_unique_ids_and_decimal_strings() -> None:
    seen: set[str] = set()
    last = None
    for event in simulate(SimConfig(clients=20, days=2, seed=3, violations=0.05)):
        moment = datetime.fromisoformat(event["occurred_at"])
        assert moment.utcoffset() is not None
        assert last is None or moment >= last
        last = moment
        assert event["event_id"] not in seen
        seen.add(event["event_id"])
        assert not any(isinstance(v, float) for v in json.loads(json.dumps(event["data"])).values())
    assert len(seen) > 5_000


def test_the_stream_starts_before_the_run_is_computed() -> None:
    """It streams: the first event of a ten-year run comes at once."""
    first = next(simulate(SimConfig(clients=10, days=3_650, seed=1)))
    assert first["type"] == "AssetListed"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_clean_run_is_accepted_whole_and_raises_no_finding(kind: str, tmp_path: Path) -> None:
    with fresh_store_url(kind, tmp_path) as url:
        summary, found = simulate_into(url, tmp_path, SimConfig(clients=60, days=4, seed=5))
    assert (summary.rejected, summary.duplicates, dict(found)) == (0, 0, {})
    assert summary.accepted > 20_000


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_with_breaches_injected_every_rule_fires_and_nothing_is_rejected(kind: str, tmp_path: Path) -> None:
    with fresh_store_url(kind, tmp_path) as url:
        summary, found = simulate_into(url, tmp_path, SimConfig(clients=60, days=2, seed=8, violations=0.01))
    assert summary.rejected == 0
    assert sorted(found) == sorted(rule.rule_id for rule in RULES)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_clean_runs_of_several_seeds_over_a_shock_raise_no_finding(seed: int, tmp_path: Path) -> None:
    """Eight days with the shock: margin calls and liquidations happen, all in time."""
    with fresh_store_url("sqlite", tmp_path) as url:
        summary, found = simulate_into(url, tmp_path, SimConfig(clients=250, days=8, seed=seed))
    assert (summary.rejected, dict(found)) == (0, {})
    kinds = {json.loads(line)["type"] for line in (tmp_path / f"sim-{seed}.jsonl").open()}
    assert {"MarginCallIssued", "MarginCallResolved", "PositionLiquidated", "FundingSettled",
            "PerpTradeSettled", "InsuranceFundChanged", "DataAccessed"} <= kinds


@pytest.mark.slow
@pytest.mark.parametrize("seed", [31, 32])
def test_injected_runs_of_several_seeds_fire_every_rule_on_postgresql(seed: int, tmp_path: Path) -> None:
    with fresh_store_url("postgresql", tmp_path) as url:
        summary, found = simulate_into(url, tmp_path, SimConfig(clients=120, days=3, seed=seed, violations=0.02))
    assert summary.rejected == 0
    assert sorted(found) == sorted(rule.rule_id for rule in RULES)


def test_the_simulate_command_writes_the_file_it_names(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "stream.jsonl"
    done = regledger("simulate", "--clients", "10", "--days", "1", "--seed", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert done.stdout.strip() == f"wrote {len(lines)} events (10 clients, 1 days, seed 4) to {out}"
    refused = regledger("simulate", "--out", str(tmp_path), "--days", "1")
    assert refused.returncode == 2 and "is a directory" in refused.stderr and "Traceback" not in refused.stderr


def test_a_partial_repayment_never_exceeds_what_is_owed() -> None:
    from decimal import Decimal

    from ops.simulate.accounts import SimulatedClient
    from ops.simulate.broker import repay
    from ops.simulate.world import World

    world = World(SimConfig(clients=20, days=1, seed=1))
    world.chance = lambda probability: True  # type: ignore[method-assign]  # always "about half"
    for owed, paid, left in ((Decimal("836.84"), "836.84", None), (Decimal("1000"), "1000", None),
                             (Decimal("4500"), "2000", Decimal("2500"))):
        client = SimulatedClient("C1", "individual", "professional", None, Decimal(0), None, loans={"L1": owed})
        repay(world, client)
        assert world.out[-1]["data"] == {"loan_id": "L1", "amount": paid}
        assert client.loans.get("L1") == left

"""The regulator's node against real servers (issue 23): the firm's primary publishes, the
regulator's server subscribes, ``supervise run --once`` checks. Tampering is done on the
firm's side as a DBA would: SQL on the primary, past the append-only triggers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ops import keys
from ops.cli import app
from tests.conftest import SCENARIOS
from tests.supervise import clusters
from tests.supervise.clusters import Cluster
from tests.supervise.conftest import PRIMARY_SETTINGS, new_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REPLICATED_WAIT_S = 60.0


def cli(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return done.exit_code, done.output


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)  # type: ignore[call-overload]  # test SQL
        return cur.fetchall() if cur.description else []


def as_dba(url: str, *statements: str) -> None:
    """What a DBA can do: the firm's triggers skipped for the session, in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)  # type: ignore[call-overload]  # test SQL


def wait_replicated(firm_url: str, feed_url: str, slot: str) -> None:
    """Until every table's initial copy is done and the regulator confirmed everything the
    firm had written when this was called."""
    [(lsn,)] = query(firm_url, "SELECT pg_current_wal_insert_lsn()")
    deadline = time.monotonic() + REPLICATED_WAIT_S
    while time.monotonic() < deadline:
        syncing = query(feed_url, "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
        found = query(firm_url, "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots WHERE slot_name = %s",
                      (lsn, slot))
        if syncing == [(0,)] and found and found[0][0]:
            return
        time.sleep(0.05)  # replication runs in other processes: there is no tracking of ours to wait on
    raise AssertionError(f"slot {slot} did not confirm {lsn} within {REPLICATED_WAIT_S} s")


@dataclass
class Node:
    firm: str
    firm_url: str
    feed_url: str
    store_url: str
    public_key: str
    private_key: str

    @property
    def slot(self) -> str:
        return f"regledger_{self.firm}"

    def run(self, *extra: str) -> tuple[int, str]:
        wait_replicated(self.firm_url, self.feed_url, self.slot)
        return cli("supervise", "run", "--firm", self.firm, "--feed", self.feed_url, "--db", self.store_url,
                   "--public-key", self.public_key, "--once", *extra)

    def alerts(self) -> list[tuple[str, int, str]]:
        return [(r, p, m) for r, p, m in query(
            self.store_url, "SELECT rule_id, position, message FROM findings WHERE substr(rule_id, 1, 4) = 'SUP-' ORDER BY seq")]


def firm_node(firm_primary: Cluster, regulator: Cluster, tmp_path: Path) -> Node:
    firm_url = new_database(firm_primary, "firm")
    private, public = keys.generate_keys(str(tmp_path))
    code, out = cli("ingest", str(SCENARIOS / "mf-day.jsonl"), "--db", firm_url)
    assert code in (0, 1), out
    code, out = cli("supervise", "publish", "--db", firm_url)
    assert code == 0, out
    code, out = cli("supervise", "digest", "--db", firm_url, "--key", str(private))
    assert code == 0, out
    firm = f"f{uuid.uuid4().hex[:10]}"
    feed_url = regulator.url(f"feed_{firm}")
    code, out = cli("supervise", "subscribe", "--firm", firm, "--from", firm_url, "--db", feed_url)
    assert code == 0, out
    return Node(firm, firm_url, feed_url, new_database(regulator, f"regulator_{firm}"), str(public), str(private))


def unsubscribe(node: Node) -> None:
    """The subscription dropped without reaching the firm (which may be stopped), then its slot
    on the firm's side if the firm still runs: each test's worker is freed for the next."""
    name = node.slot
    for statement in (f"ALTER SUBSCRIPTION {name} DISABLE", f"ALTER SUBSCRIPTION {name} SET (slot_name = NONE)",
                      f"DROP SUBSCRIPTION {name}"):
        try:
            query(node.feed_url, statement)
        except psycopg.Error:
            return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            query(node.firm_url, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                                 " WHERE slot_name = %s AND NOT active", (name,))
            if not query(node.firm_url, "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (name,)):
                return
        except psycopg.Error:
            return  # the firm is stopped: its cluster is removed with its slot
        time.sleep(0.1)  # the walsender of the dropped subscription is still exiting


@pytest.fixture
def node(firm_primary: Cluster, regulator: Cluster, tmp_path: Path) -> Iterator[Node]:
    made = firm_node(firm_primary, regulator, tmp_path)
    try:
        yield made
    finally:
        unsubscribe(made)


def findings_of(url: str) -> set[str]:
    return {r[0] for r in query(url, "SELECT finding_id FROM findings WHERE substr(rule_id, 1, 4) <> 'SUP-'")}


def tip_of(url: str) -> int:
    return int(query(url, "SELECT coalesce(max(notification_id), 0) FROM ledger_events")[0][0])


def test_the_regulator_converges_to_the_firm_and_stays_silent_while_they_agree(node: Node) -> None:
    code, out = node.run()
    assert code == 0, out
    assert tip_of(node.store_url) == tip_of(node.firm_url) > 0
    assert findings_of(node.store_url) == findings_of(node.firm_url) != set()
    cli("ingest", str(SCENARIOS / "perp-day.jsonl"), "--db", node.firm_url)
    cli("supervise", "digest", "--db", node.firm_url, "--key", node.private_key)
    code, out = node.run()
    assert code == 0, out
    assert tip_of(node.store_url) == tip_of(node.firm_url)
    assert findings_of(node.store_url) == findings_of(node.firm_url)
    assert node.alerts() == []


TAMPERS = {
    "edit": (["UPDATE ledger_events SET state = state || '\\x20'::bytea WHERE notification_id = 5"], [5]),
    "delete": (["DELETE FROM ledger_events WHERE notification_id = 7"], [7]),
    "reorder": (["UPDATE ledger_events SET notification_id = -3 WHERE notification_id = 3",
                 "UPDATE ledger_events SET notification_id = 3 WHERE notification_id = 4",
                 "UPDATE ledger_events SET notification_id = 4 WHERE notification_id = -3"], [3, 4]),
    "truncate below a digest": (["TRUNCATE ledger_events"], [1]),
}


@pytest.mark.parametrize("tamper", TAMPERS)
def test_each_tamper_on_the_firms_side_raises_sup_01_naming_the_position(node: Node, tamper: str) -> None:
    assert node.run()[0] == 0
    statements, positions = TAMPERS[tamper]
    as_dba(node.firm_url, *statements)
    code, out = node.run()
    assert code == 3, out
    alerts = node.alerts()
    assert {p for r, p, _ in alerts if r == "SUP-01"} == set(positions), alerts
    assert {r for r, _, _ in alerts} == {"SUP-01"}
    assert node.run()[0] == 0, "the same rows give the same alerts, recorded once"


def test_a_row_appended_with_a_forged_hash_raises_sup_01_at_its_position(node: Node) -> None:
    assert node.run()[0] == 0
    tip = tip_of(node.firm_url)
    as_dba(node.firm_url,
           "INSERT INTO ledger_events SELECT 'forged', 1, topic, state, notification_id + 1, recorded_at,"
           f" '\\x00'::bytea FROM ledger_events WHERE notification_id = {tip}")
    code, out = node.run()
    assert code == 3, out
    assert [(r, p) for r, p, _ in node.alerts()] == [("SUP-01", tip + 1)]
    assert tip_of(node.store_url) == tip, "the regulator's copy keeps what it verified"


def test_a_digest_the_ledger_contradicts_raises_sup_01(node: Node, tmp_path: Path) -> None:
    other_private, _ = keys.generate_keys(str(tmp_path / "other")) if (tmp_path / "other").mkdir() is None else (None, None)
    cli("ingest", str(SCENARIOS / "perp-day.jsonl"), "--db", node.firm_url)
    cli("supervise", "digest", "--db", node.firm_url, "--key", str(other_private))
    code, out = node.run()
    assert code == 3, out
    assert [r for r, _, m in node.alerts() if "digest" in m or r == "SUP-01"] == ["SUP-01"]


def test_a_finding_deleted_or_added_on_the_firms_side_raises_sup_02(node: Node) -> None:
    assert node.run()[0] == 0
    [(deleted,)] = query(node.firm_url, "SELECT finding_id FROM findings ORDER BY seq LIMIT 1")
    as_dba(node.firm_url,
           f"DELETE FROM findings WHERE finding_id = '{deleted}'",
           "INSERT INTO findings (finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at,"
           " position, message, parameters, evidence) SELECT 'F-invented', rule_id, severity, event_id, subject,"
           " occurred_at, detected_at, position, message, parameters, evidence FROM findings ORDER BY seq LIMIT 1")
    code, out = node.run()
    assert code == 3, out
    messages = [m for r, _, m in node.alerts() if r == "SUP-02"]
    assert len(messages) == 2, node.alerts()
    assert any(deleted in m and "lack" in m for m in messages)
    assert any("F-invented" in m and "did not raise" in m for m in messages)


def test_a_subscription_dropped_and_resumed_loses_and_doubles_nothing(node: Node) -> None:
    assert node.run()[0] == 0
    name = node.slot
    query(node.feed_url, f"ALTER SUBSCRIPTION {name} DISABLE")
    cli("ingest", str(SCENARIOS / "perp-day.jsonl"), "--db", node.firm_url)
    cli("ingest", str(SCENARIOS / "mm-day.jsonl"), "--db", node.firm_url)
    code, _ = cli("supervise", "run", "--firm", node.firm, "--feed", node.feed_url, "--db", node.store_url,
                  "--public-key", node.public_key, "--once", "--silent-after-s", "3600")
    assert code == 0
    assert tip_of(node.store_url) < tip_of(node.firm_url)
    query(node.feed_url, f"ALTER SUBSCRIPTION {name} ENABLE")
    code, out = node.run()
    assert code == 0, out
    assert tip_of(node.store_url) == tip_of(node.firm_url)
    counts = query(node.store_url, "SELECT count(*), count(DISTINCT notification_id) FROM ledger_events")
    assert counts == [(tip_of(node.firm_url), tip_of(node.firm_url))]
    assert findings_of(node.store_url) == findings_of(node.firm_url)
    assert node.alerts() == []


@pytest.fixture
def own_firm_primary() -> Iterator[Cluster]:
    bindir = clusters.bindir()
    if bindir is None:
        pytest.skip("the PostgreSQL 15 server programs are not installed")
    cluster = clusters.primary("firm-stopped", bindir, *PRIMARY_SETTINGS)
    try:
        yield cluster
    finally:
        cluster.remove()


def test_a_stopped_publisher_raises_sup_04(own_firm_primary: Cluster, regulator: Cluster, tmp_path: Path) -> None:
    node = firm_node(own_firm_primary, regulator, tmp_path)
    try:
        stopped_publisher_raises_sup_04(node, own_firm_primary)
    finally:
        unsubscribe(node)


def stopped_publisher_raises_sup_04(node: Node, own_firm_primary: Cluster) -> None:
    assert node.run()[0] == 0
    own_firm_primary.stop()
    code, out = cli("supervise", "run", "--firm", node.firm, "--feed", node.feed_url, "--db", node.store_url,
                    "--public-key", node.public_key, "--once", "--silent-after-s", "0")
    assert code == 3, out
    assert [r for r, _, _ in node.alerts()] == ["SUP-04"]
    assert "stopped" in node.alerts()[0][2] or "silent" in node.alerts()[0][2]


def test_a_case_closed_by_one_officer_though_its_severity_needs_two_raises_sup_03(node: Node) -> None:
    assert node.run()[0] == 0
    [(finding,)] = query(node.firm_url, "SELECT finding_id FROM findings WHERE severity IN ('critical', 'high')"
                                        " ORDER BY seq LIMIT 1")
    # The firm configured no four-eyes closing: one officer resolves alone.
    env = {"REGLEDGER_OPERATOR": "alice", "REGLEDGER_OFFICERS": "alice", "REGLEDGER_FOUR_EYES_SEVERITIES": ""}
    done = CliRunner().invoke(app, ["case", "resolve", finding, "--code", "remediated", "--db", node.firm_url], env=env)
    assert done.exit_code == 0, done.output
    code, out = node.run("--four-eyes-severities", "critical,high")
    assert code == 3, out
    [(rule_id, position, message)] = node.alerts()
    assert rule_id == "SUP-03" and position == tip_of(node.firm_url) and finding in message and "alice" in message


def test_the_supervisor_role_reads_the_published_tables_and_nothing_else(node: Node) -> None:
    as_supervisor = node.firm_url.replace("postgres@", "regledger_supervisor@")
    assert query(as_supervisor, "SELECT count(*) FROM ledger_events")[0][0] == tip_of(node.firm_url)
    for table in ("api_tokens", "ledger_entities", "quarantine", "monitor_state", "audit_events"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            query(as_supervisor, f"SELECT 1 FROM {table} LIMIT 1")
    [(replication, superuser)] = query(node.firm_url, "SELECT rolreplication, rolsuper FROM pg_roles"
                                                      " WHERE rolname = 'regledger_supervisor'")
    assert replication and not superuser


def test_a_row_deleted_before_the_regulator_read_it_is_a_gap_and_the_copy_stops_before_it(node: Node) -> None:
    assert node.run()[0] == 0
    held = tip_of(node.store_url)
    query(node.feed_url, f"ALTER SUBSCRIPTION {node.slot} DISABLE")
    cli("ingest", str(SCENARIOS / "perp-day.jsonl"), "--db", node.firm_url)
    as_dba(node.firm_url, f"DELETE FROM ledger_events WHERE notification_id = {held + 3}")
    query(node.feed_url, f"ALTER SUBSCRIPTION {node.slot} ENABLE")
    code, out = node.run()
    assert code == 3, out
    alerts = [(r, p, "missing" if "missing" in m else "deleted" if "deleted" in m else m) for r, p, m in node.alerts()]
    assert sorted(alerts) == [("SUP-01", held + 3, "deleted"), ("SUP-01", held + 3, "missing")]
    assert tip_of(node.store_url) == held + 2

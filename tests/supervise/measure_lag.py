"""Measure the read replica's lag and the supervisory lag under an ingest load (issue 23).

    python -m tests.supervise.measure_lag [--events 100000 | --clients 300 --days 3]

Starts its own clusters (firm primary with wal_level=logical, a streaming standby, the
regulator's server), writes the ingest benchmark's stream (``--events``, as ``ops/bench/ingest.py``)
or ``regledger simulate`` output, ingests it into the firm's primary
in a subprocess while ``supervise run`` follows in another, and samples every 0.2 s:
the standby's lag (WAL bytes, ledger positions), the feed's lag (positions replicated to the
regulator's feed database) and the supervisory lag (positions not yet verified into the
regulator's copy). Prints a summary; the clusters are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from ops import keys
from ops.bench.stream import simulated_stream
from projections.replica import lsn_bytes
from tests.supervise import clusters
from tests.supervise.conftest import PRIMARY_SETTINGS, REGULATOR_SETTINGS

SAMPLE_S = 0.05


_CONNECTIONS: dict[str, psycopg.Connection[tuple[object, ...]]] = {}


def one(url: str, sql: str) -> object:
    """One value, on a connection kept open: the samples measure replication, not connecting."""
    if url not in _CONNECTIONS:
        _CONNECTIONS[url] = psycopg.connect(url, autocommit=True)
    row = _CONNECTIONS[url].execute(sql).fetchone()  # type: ignore[call-overload]  # literal SQL
    return None if row is None else row[0]


def regledger(*args: str, wait: bool = True) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "ops", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "REGLEDGER_LOG_LEVEL": "error"})
    if wait:
        _, err = process.communicate()
        if process.returncode not in (0, 1, 3):
            raise SystemExit(f"regledger {' '.join(args)}: exit {process.returncode}: {err.decode()[-500:]}")
    return process


def summary(name: str, values: list[float], unit: str) -> str:
    if not values:
        return f"{name}: no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{name}: median {statistics.median(ordered):.0f} {unit}, p95 {p95:.0f} {unit}, max {ordered[-1]:.0f} {unit}"


def delays_s(leader: list[tuple[float, int]], follower: list[tuple[float, int]]) -> list[float]:
    """For each new tip the leader showed, the milliseconds until the follower first held it
    (to the sampling's resolution)."""
    found, seen = [], 0
    for at, tip in leader:
        if tip <= seen:
            continue
        seen = tip
        reached = next((t for t, held in follower if held >= tip and t >= at), None)
        if reached is not None:
            found.append((reached - at) * 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--events", type=int, default=0, help="the ingest benchmark's simulated stream of this many events")
    args = parser.parse_args()
    bindir = clusters.bindir()
    assert bindir is not None, "PostgreSQL 15 server programs needed"
    work = Path(tempfile.mkdtemp(prefix="regledger-lag-"))
    events = work / "events.jsonl"
    if args.events:
        with events.open("wb") as out:
            out.writelines(line + b"\n" for line in simulated_stream(args.events))
    else:
        regledger("simulate", "--out", str(events), "--clients", str(args.clients), "--days", str(args.days),
                  "--violations", "0.02")
    lines = sum(1 for _ in events.open())
    private, public = keys.generate_keys(str(work))
    # The firm's primary commits as production does (the test clusters' asynchronous commit
    # holds WAL back from the standby and the regulator for up to wal_writer_delay).
    firm = clusters.primary("lag-firm", bindir, *PRIMARY_SETTINGS, "synchronous_commit=on")
    standby = regulator = None
    follower = None
    try:
        standby = clusters.standby("lag-standby", firm, *PRIMARY_SETTINGS)
        regulator = clusters.primary("lag-regulator", bindir, *REGULATOR_SETTINGS)
        firm_url, standby_url = firm.url("firm"), standby.url("firm")
        feed_url, store_url = regulator.url("feed_lag"), regulator.url("regulator_lag")
        regledger("migrate", "--db", firm_url)
        regledger("supervise", "publish", "--db", firm_url)
        regledger("supervise", "subscribe", "--firm", "lag", "--from", firm_url, "--db", feed_url)
        regledger("migrate", "--db", store_url)
        follower = regledger("supervise", "run", "--firm", "lag", "--feed", feed_url, "--db", store_url,
                             "--public-key", str(public), "--poll-s", "0.05", "--silent-after-s", "3600", wait=False)
        started = time.monotonic()
        ingest = regledger("ingest", str(events), "--db", firm_url, wait=False)
        replica_bytes, replica_positions, feed_positions, supervisory_positions = [], [], [], []
        firm_tips: list[tuple[float, int]] = []  # (seconds since start, tip): for the lag in seconds
        standby_tips: list[tuple[float, int]] = []
        verified_tips: list[tuple[float, int]] = []
        tip_sql = "SELECT coalesce(max(notification_id), 0) FROM ledger_events"
        while True:
            done = ingest.poll() is not None
            firm_lsn = str(one(firm_url, "SELECT pg_current_wal_insert_lsn()"))
            replayed = str(one(standby_url, "SELECT pg_last_wal_replay_lsn()"))
            firm_tip = int(str(one(firm_url, tip_sql)))
            replica_bytes.append(max(0, lsn_bytes(firm_lsn) - lsn_bytes(replayed)))
            now_s = time.monotonic() - started
            standby_tip, verified_tip = int(str(one(standby_url, tip_sql))), int(str(one(store_url, tip_sql)))
            firm_tips.append((now_s, firm_tip))
            standby_tips.append((now_s, standby_tip))
            verified_tips.append((now_s, verified_tip))
            replica_positions.append(firm_tip - standby_tip)
            feed_positions.append(firm_tip - int(str(one(feed_url, tip_sql))))
            supervisory_positions.append(firm_tip - verified_tip)
            if done:
                break
            time.sleep(SAMPLE_S)
        ingested_s = time.monotonic() - started
        firm_tip = int(str(one(firm_url, tip_sql)))
        while (verified := int(str(one(store_url, tip_sql)))) < firm_tip and time.monotonic() - started < ingested_s + 600:
            verified_tips.append((time.monotonic() - started, verified))
            time.sleep(0.05)
        verified_tips.append((time.monotonic() - started, verified))
        caught_up_s = time.monotonic() - started - ingested_s
        alerts = one(store_url, "SELECT count(*) FROM findings WHERE substr(rule_id, 1, 4) = 'SUP-'")
        what = f"the ingest benchmark's stream of {args.events}" if args.events else f"{args.clients} clients, {args.days} days"
        print(f"{lines} lines ({what}) ingested into the firm's primary in {ingested_s:.1f} s"
              f" ({firm_tip / ingested_s:.0f} events/s), {len(replica_bytes)} samples every {SAMPLE_S} s")
        print(summary("replica lag", [float(b) for b in replica_bytes], "WAL bytes"))
        print(summary("replica lag", [float(p) for p in replica_positions], "positions"))
        print(summary("feed lag (logical replication to the regulator)", [float(p) for p in feed_positions], "positions"))
        print(summary("supervisory lag (verified into the regulator's copy)", [float(p) for p in supervisory_positions], "positions"))
        print(summary("replica lag (a new tip on the primary until the standby holds it)", delays_s(firm_tips, standby_tips), "ms"))
        print(summary("supervisory lag (a new tip on the primary until the regulator verified it)",
                      delays_s(firm_tips, verified_tips), "ms"))
        print(f"(times to the sampling's resolution, {SAMPLE_S * 1000:.0f} ms; positions move by the ingest's batches of 1,000)")
        print(f"the regulator's copy reached the firm's tip {caught_up_s:.1f} s after ingest ended; SUP alerts: {alerts}")
    finally:
        for conn in _CONNECTIONS.values():
            conn.close()
        if follower is not None:
            follower.terminate()
            follower.wait(30)
        for cluster in (regulator, standby, firm):
            if cluster is not None:
                cluster.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

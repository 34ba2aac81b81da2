"""kill -9 of ``regledger ingest`` at many points: re-running the same ingest to completion
gives the ledger and the findings of a clean run, event for event, on both stores."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from domain.chain import GENESIS_HASH, chain_hash
from ops.bench.stream import bench_stream
from projections.store import open_store
from projections.store.base import FindingFilter
from tests.conftest import SOAK_SCALE, fresh_store_url

KILL_POINTS_MIN = 20 * SOAK_SCALE  # ops/soak multiplies


def ingest(url: str, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ops", "ingest", str(path), "--db", url, "--batch-size", "500"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def snapshot(url: str) -> tuple[list[tuple[int, str, bytes]], list[tuple[str, str, str, str, int]], list[tuple[str, str, str]]]:
    store = open_store(url)
    try:
        entries = store.read_entries(0, 10**9)
        previous = GENESIS_HASH
        for e in entries:  # each ledger's own chain is intact
            assert e.chain_hash == chain_hash(e.position, e.recorded_at, previous, e.event_id, e.version, e.type, e.state), e.position
            previous = e.chain_hash
        findings = [(f.finding_id, f.rule_id, f.event_id, f.subject, f.position) for f in store.findings(FindingFilter())]
        return [(e.position, e.event_id, e.state) for e in entries], findings, list(store.monitor_records())
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_ingest_killed_at_twenty_points_then_rerun_equals_a_clean_run(kind: str, tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"\n".join(bench_stream(80_000 * SOAK_SCALE, clients=1_500, retail_share=0.1)) + b"\n")
    rng = random.Random(20261125)
    with fresh_store_url(kind, tmp_path / "clean") as clean, fresh_store_url(kind, tmp_path / "killed") as killed:
        assert ingest(clean, stream).wait(timeout=600 * SOAK_SCALE) == 0
        kills = 0
        while kills < KILL_POINTS_MIN:
            process = ingest(killed, stream)
            time.sleep(rng.uniform(0.5, 1.4))
            if process.poll() is not None:
                break  # finished before this kill point: the ledger is complete
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            kills += 1
        assert ingest(killed, stream).wait(timeout=600 * SOAK_SCALE) == 0
        clean_state, killed_state = snapshot(clean), snapshot(killed)
        assert kills == KILL_POINTS_MIN, f"only {kills} kill points before the ingest completed"
        assert killed_state[0] == clean_state[0]  # positions, event ids, envelopes
        assert killed_state[1] == clean_state[1]  # findings: ids, detection order and positions
        assert killed_state[2] == clean_state[2]  # the monitor's persisted state
        assert len(clean_state[0]) == 80_000 * SOAK_SCALE and len(clean_state[1]) > 50

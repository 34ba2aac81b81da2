"""PostgreSQL restarted in the middle of an ingest and of ``monitor --follow``: the commands
fail cleanly or retry with back-off, no batch is half-written, and after recovery the result
equals a clean run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.bench.stream import bench_stream
from ops.lines import open_inputs
from ops.wiring import build_ledger
from projections.store import open_store
from tests.conftest import fresh_store_url
from tests.reliability.test_crash_safety import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def restart_postgres() -> None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        reason = "pg_ctlcluster is not available to restart PostgreSQL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True, timeout=120)


def regledger(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ops", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_postgresql_restarted_mid_ingest_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"\n".join(bench_stream(60_000, clients=1_500, retail_share=0.1)) + b"\n")
    with fresh_store_url("postgresql", tmp_path / "clean") as clean, fresh_store_url("postgresql", tmp_path / "b") as url:
        assert regledger("ingest", str(stream), "--db", clean).wait(timeout=600) == 0
        interrupted = regledger("ingest", str(stream), "--db", url, "--batch-size", "500")
        time.sleep(2.0)
        restart_postgres()
        _, err = interrupted.communicate(timeout=600)
        assert interrupted.returncode in (0, 2), err
        assert "Traceback" not in err
        if interrupted.returncode == 2:
            assert err.strip().count("\n") == 0 and "database error" in err
        rerun = regledger("ingest", str(stream), "--db", url)
        _, err = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, err
        assert snapshot(url) == snapshot(clean)


def test_monitor_follow_survives_a_postgresql_restart_and_catches_up(tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"\n".join(bench_stream(40_000, clients=1_500, retail_share=0.1)) + b"\n")
    with fresh_store_url("postgresql", tmp_path / "clean") as clean, fresh_store_url("postgresql", tmp_path / "b") as url:
        assert regledger("ingest", str(stream), "--db", clean).wait(timeout=600) == 0
        store = open_store(url, create=True)
        build_ledger(store).ingest(open_inputs([str(stream)]), 1000)  # the ledger only; no monitor yet
        tip = store.tip().position
        store.close()
        follower = regledger("monitor", "--follow", "--poll-s", "0.2", "--db", url)
        try:
            time.sleep(1.5)
            restart_postgres()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    probe = open_store(url)
                    caught_up = probe.tracked_position() == tip
                    probe.close()
                except Exception:  # the server is still coming back
                    caught_up = False
                if caught_up:
                    break
                assert follower.poll() is None, follower.communicate()[1]
                time.sleep(0.5)
            else:
                pytest.fail("the follower did not catch up after the restart")
        finally:
            follower.terminate()
            follower.communicate(timeout=60)
        assert snapshot(url) == snapshot(clean)

"""``python -m ops.soak [--scale N]``: the reliability tests, longer and harder.

CI runs them at scale 1 (20 kill points a store, 60 hostile batches a store, one restart of
PostgreSQL mid-ingest and one mid-follow). A soak multiplies the kill points, the stream
length and the fuzzed inputs by N and repeats the restart tests N times."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOAK_TESTS = (
    "tests/reliability",
    "tests/projections/test_monitor_runner.py",
    "tests/api/test_api.py::test_the_server_keeps_serving_under_a_flood_of_bad_requests",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.soak", description=__doc__)
    parser.add_argument("--scale", type=int, default=5, help="multiplier of kill points, stream length and fuzzing")
    args = parser.parse_args()
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    env = {**os.environ, "REGLEDGER_SOAK_SCALE": str(args.scale)}
    command = [sys.executable, "-m", "pytest", "-q", "-m", "slow or not slow", f"--count={args.scale}"]
    # pytest-repeat is optional: without it each test runs once at the larger scale
    try:
        import pytest_repeat  # noqa: F401
    except ImportError:
        command.pop()
    sys.exit(subprocess.call([*command, *SOAK_TESTS], cwd=ROOT, env=env))


main()

"""CPU per event by stage of one ``regledger ingest`` on PostgreSQL (issue 22, goal 5):
``python -m ops.bench.stages URL FILE EVENTS PROFILE`` samples both of ingest's processes with
py-spy (``pip install py-spy``: a tool for this measurement, not a dependency), splits the samples
by stage (on the CPU, or waiting on the server), and reads the database server's CPU from
``/proc`` for every postgres process seen during the run (its last reading less its first). The
monitor's process is started whatever the input's size (``REGLEDGER_INGEST_PROCESS_MIN_BYTES=0``).
Prints a Markdown table; RESULTS.md quotes one. Sampling slows the run (65 s against 50 s for
250,000 events): read the shares, not the rate.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import time

# Each stage by a frame that only it has (the first that matches wins).
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("parse and validate", ("parse domain/ledger/parse.py",)),
    ("admission and registry", ("admit domain/ledger/admission.py",)),
    ("chain, append and Merkle subtrees", ("write domain/ledger/writing.py",)),
    ("read and decode again (monitor's process)", ("_decoded_page ops/projector.py",)),
    ("monitor", ("MonitorRunner.catch_up",)),
    ("audit index", ("AuditIndex.catch_up",)),
    ("owners' filing", ("catch_up_owners",)),
    ("start-up (imports, restore)", ("<module> ops/cli.py", "_find_and_load")),
)
SAMPLES_PER_S = 100


def postgres_cpu_s() -> dict[int, float]:
    """CPU seconds of every postgres process now running, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if not f.read().startswith("postgres"):
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        found[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def run(url: str, path: str, profile: str) -> tuple[float, float]:
    """The sampled ingest: (wall seconds, server CPU seconds)."""
    env = {**os.environ, "REGLEDGER_INGEST_PROCESS_MIN_BYTES": "0"}
    command = ["py-spy", "record", "-r", str(SAMPLES_PER_S), "--subprocesses", "-f", "raw", "-o", profile, "--",
               sys.executable, "-m", "ops", "ingest", path, "--db", url, "--format", "json"]
    before = postgres_cpu_s()
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while child.poll() is None:
        for pid, cpu in postgres_cpu_s().items():
            first.setdefault(pid, before.get(pid, 0.0))
            last[pid] = cpu
        time.sleep(0.2)
    return time.perf_counter() - started, sum(last[p] - first[p] for p in last)


def stages(profile: str) -> collections.Counter[tuple[str, bool]]:
    """Samples by (stage, waiting on the server)."""
    found: collections.Counter[tuple[str, bool]] = collections.Counter()
    for line in open(profile):  # noqa: SIM115
        stack, _, count = line.rstrip().rpartition(" ")
        frames = stack.split(";")
        if "wait" in frames[-1] and "threading.py" in frames[-1]:
            continue  # an idle pool thread
        text = ";".join(re.sub(r" \((.*?):\d+\)", lambda m: " " + _short(m.group(1)), f) for f in frames)
        name = next((name for name, keys in STAGES if any(k in text for k in keys)), "other")
        found[name, "Connection.wait" in text] += int(count)
    return found


def _short(path: str) -> str:
    return path.split("site-packages/")[-1].replace(os.getcwd() + "/", "")


def main(url: str, path: str, events: int, profile: str) -> str:
    wall, server = run(url, path, profile)
    by = stages(profile)
    per_event = 1e6 / SAMPLES_PER_S / events
    rows = [f"| {name} | {by[name, False] * per_event:.1f} | {by[name, True] * per_event:.1f} |"
            for name in [*(name for name, _ in STAGES), "other"]]
    return "\n".join([
        f"{events:,} events in {wall:.1f} s under py-spy ({events / wall:,.0f}/s)", "",
        "| stage | µs/event on the CPU | µs/event waiting on the server |", "|---|---:|---:|", *rows,
        f"| PostgreSQL server, every backend | {server / events * 1e6:.1f} | |", "",
    ])


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))

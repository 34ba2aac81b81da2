"""Benchmarks of tamper evidence and replay, beside the raw read of the same log in the same
run: ``bench_evidence(size, report)`` gives the figures, ``markdown(size, figures)`` the section
for ``RESULTS.md``. ``python -m ops.bench.evidence --sizes 100000`` runs it alone.

The ledger is the simulated stream of ``ops.bench.stream`` ingested (validated, no monitor)
into a fresh store of each kind. Every figure is events per second over the whole log except
the proof, in seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from domain.ledger import decode_admitted, decode_entry, is_catalogue_topic
from ops.bench import stores as bench_stores
from ops.bench.stream import simulated_stream
from ops.lines import open_inputs
from ops.wiring import build_ledger, open_store
from projections.evidence.attest import checkpoint_at, inclusion_proof, verify_log
from projections.evidence.replay import replay
from projections.monitor.engine import MonitorEngine
from projections.store.base import Store

PAGE_EVENTS = 5_000
RAW_READ = "raw read of the log (rows only)"
DECODED_BEFORE = "raw decoded read, before the replays"
DECODED_AFTER = "raw decoded read, after the replays"
DECODED_READ = "raw decoded read (rows + envelope parsing): the mean of the two"
REPLAY = "replay (decode + monitor engine, in memory)"
REPLAY_ONE_PROCESS = "replay in one process (read, decode and engine in turn)"
ENGINE = "monitor engine alone (events decoded beforehand)"
ENGINE_EVENTS_MAX = 50_000  # decoded envelopes held in memory at once for that figure
VERIFY = "verify (chain recomputed, Merkle root)"
PROVE_S = "inclusion proof of the middle event (seconds)"
FIGURES = (  # as ``measure`` gives them
    RAW_READ, DECODED_BEFORE, DECODED_AFTER, DECODED_READ, REPLAY, REPLAY_ONE_PROCESS, ENGINE, VERIFY, PROVE_S,
)


def read_log(store: Store, decode: bool) -> int:
    """Every row read, and with ``decode`` each event decoded as replay decodes the ledger's own
    rows (``decode_admitted``: not validated again), so the ratio compares like with like."""
    after = read = 0
    while entries := store.read_entries(after, PAGE_EVENTS):
        if decode:
            for entry in entries:
                if is_catalogue_topic(entry.type):
                    decode_admitted(entry)
        read += len(entries)
        after = entries[-1].position
    return read


def _engine_alone(store: Store, events: int) -> float:
    decoded = [
        decode_entry(e) for e in store.read_entries(0, min(events, ENGINE_EVENTS_MAX))
        if is_catalogue_topic(e.type)
    ]
    engine = MonitorEngine()
    started = time.perf_counter()
    for event in decoded:
        engine.process(event)
    return len(decoded) / (time.perf_counter() - started)


def _rate(events: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return events / (time.perf_counter() - started)


def measure(store: Store, events: int) -> dict[str, float]:
    """The decoded read is measured before and after the replays and the baseline is their
    mean: a shared machine's speed drifts over the minutes a 1M-event replay takes."""
    raw = _rate(events, lambda: read_log(store, decode=False))
    before = _rate(events, lambda: read_log(store, decode=True))
    replayed = _rate(events, lambda: replay(store))
    one_process = _rate(events, lambda: replay(store, prefetch=False))
    after = _rate(events, lambda: read_log(store, decode=True))
    figures = {
        RAW_READ: raw,
        DECODED_BEFORE: before,
        DECODED_AFTER: after,
        DECODED_READ: (before + after) / 2,
        REPLAY: replayed,
        REPLAY_ONE_PROCESS: one_process,
        ENGINE: _engine_alone(store, events),
        VERIFY: _rate(events, lambda: verify_log(store)),
    }
    tip = checkpoint_at(store)
    middle = store.read_entries(events // 2, 1)[0].event_id
    started = time.perf_counter()
    inclusion_proof(store, middle, tip)
    figures[PROVE_S] = time.perf_counter() - started
    return figures


def bench_evidence(
    size: int,
    report: Callable[[str], None],
    stores: tuple[tuple[str, Callable[[], AbstractContextManager[str]]], ...] | None = None,
) -> dict[str, float]:
    """Figures keyed ``"<store> <figure>"``; ``stores`` defaults to fresh PostgreSQL and SQLite."""
    if stores is None:
        stores = bench_stores.STORES
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stream.jsonl"
        with path.open("wb") as out:
            for line in simulated_stream(size):
                out.write(line + b"\n")
        for kind, fresh in stores:
            with fresh() as url:
                store = open_store(url, create=True)
                try:
                    summary = build_ledger(store).ingest(open_inputs([str(path)]), 1000)
                    assert summary.rejected == 0, summary.rejections[:3]
                    for name, value in measure(store, summary.accepted).items():
                        figures[f"{kind} {name}"] = value
                finally:
                    store.close()
            report(f"{kind}: " + ", ".join(f"{k.split(' ', 1)[1]} {v:,.2f}" for k, v in figures.items() if k.startswith(kind)))
    return figures


def markdown(size: int, figures: dict[str, float]) -> str:
    rows = ["| store | figure | events/s | share of the raw decoded read |", "|---|---|---:|---:|"]
    for key, value in figures.items():
        kind, name = key.split(" ", 1)
        if name == PROVE_S:
            rows.append(f"| {kind} | {name} | {value:.2f} s | |")
            continue
        decoded = figures[f"{kind} {DECODED_READ}"]
        rows.append(f"| {kind} | {name} | {value:,.0f} | {value / decoded:.0%} |")
    return "\n".join([
        f"## Replay and verification of a {size:,}-event ledger (`ops/bench/evidence.py`)",
        "",
        "The simulated stream ingested (validated, no monitor) into a fresh store, then read back "
        "in pages of 5,000: rows only, rows with every envelope parsed before and after the "
        "replays (the raw decoded read is their mean: a shared machine's speed drifts), "
        "the monitor replayed in memory over them (`regledger replay`: over 75,000 entries the "
        "rows are read and decoded in a second process beside the engine, "
        "`projections.store.prefetch`), the same replay in one process, the monitor engine alone "
        f"over the first {ENGINE_EVENTS_MAX:,} events decoded beforehand (what bounds the replay), "
        "the chain recomputed with "
        "the Merkle root (`regledger verify`), and one inclusion proof (`regledger prove`).",
        "",
        *rows,
        "",
    ])


def _sizes() -> Iterator[int]:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.evidence", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help="ledger sizes in events")
    yield from parser.parse_args().sizes


if __name__ == "__main__":
    for events in _sizes():
        print(markdown(events, bench_evidence(events, print)))


def section(size: int, report: Callable[[str], None]) -> str:
    """The RESULTS.md section: replay and verify beside the raw read of the same log."""
    return markdown(size, bench_evidence(size, report))

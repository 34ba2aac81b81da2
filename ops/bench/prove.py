"""Benchmark of ``regledger prove`` from the stored Merkle subtrees against the recompute from
every leaf it replaced: ``bench_prove(url, sizes)`` gives one row per size, on the (empty)
store at ``url`` which it fills with synthetic chained rows (no validation, no monitor: only
the chain hashes matter here) up to each size in turn.
``python -m ops.bench.prove --db URL --sizes 100000,1000000`` prints them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from domain.chain import chain_rows
from domain.evidence.digest import Checkpoint
from domain.merkle import inclusion_ranges
from ops.wiring import open_store
from projections.evidence.attest import (
    checkpoint_at,
    consistency_proof,
    inclusion_proof,
    roots_from_leaves,  # the recompute every proof was before the stored subtrees
)
from projections.store.base import Store

BATCH_EVENTS = 5_000
PROOFS = 20  # inclusion proofs timed per size, spread over the log
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _fill(store: Store, size: int) -> float:
    """Append synthetic rows up to ``size``; the seconds it took."""
    started = time.perf_counter()
    while True:
        with store.writer() as writer:
            first = writer.tip.position + 1
            count = min(BATCH_EVENTS, size - first + 1)
            if count <= 0:
                break
            entries = [(f"b-{p}", 1, "Synthetic", b'{"bench":true}') for p in range(first, first + count)]
            writer.import_rows(chain_rows(writer.tip, entries, T0))
    return time.perf_counter() - started


def _ms(run: Any) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _measure(store: Store, size: int, recompute: bool) -> dict[str, Any]:
    started = time.perf_counter()
    tip = checkpoint_at(store, size)
    checkpoint_s = time.perf_counter() - started
    early: Checkpoint = checkpoint_at(store, max(1, size // 3))
    positions = sorted({1 + (size - 1) * k // (PROOFS - 1) for k in range(PROOFS)})
    proofs = [_ms(lambda p=p: inclusion_proof(store, f"b-{p}", tip)) for p in positions]
    row: dict[str, Any] = {
        "store": store.kind, "size": size, "checkpoint_s": round(checkpoint_s, 2),
        "inclusion_ms_median": round(statistics.median(proofs), 2),
        "inclusion_ms_max": round(max(proofs), 2),
        "consistency_ms": round(_ms(lambda: consistency_proof(store, early, tip)), 2),
    }
    if recompute:
        ranges = [*inclusion_ranges((size + 1) // 2 - 1, size), (0, size)]
        row["recompute_s"] = round(_ms(lambda: roots_from_leaves(store, size, ranges)) / 1000, 2)
    return row


def bench_prove(url: str, sizes: list[int], recompute: bool = True) -> list[dict[str, Any]]:
    """One row per size (ascending): fill time, the checkpoint (a whole-chain check, as
    ``digest`` makes it), inclusion proofs of ``PROOFS`` events from first to last (median and
    max ms), a consistency proof from a third of the log, and with ``recompute`` the old proof
    (every leaf hashed) once; with the 1-minute load average."""
    rows = []
    store = open_store(url, create=True)
    try:
        for size in sorted(sizes):
            filled_s = _fill(store, size)
            rows.append({**_measure(store, size, recompute), "fill_s": round(filled_s, 1), "load": os.getloadavg()[0]})
    finally:
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="an empty store's URL")
    parser.add_argument("--sizes", default="100000", help="comma-separated ledger sizes")
    parser.add_argument("--no-recompute", action="store_true", help="skip the old whole-log proof")
    args = parser.parse_args()
    for row in bench_prove(args.db, [int(s) for s in args.sizes.split(",")], not args.no_recompute):
        print(row)


if __name__ == "__main__":
    main()

"""Process-wide tuning for the commands that hold a large, long-lived heap.

Ingest and the monitor keep hundreds of thousands of small objects alive for the whole run
(the registry's record cache, the monitor's book and indexes). CPython's cyclic collector
scans all of them on every full collection, which with its defaults cost about a quarter of
the CPU of an ingest with the monitor (``ops/bench``). Almost nothing they allocate forms
cycles, so the collector is asked to run less often, never not at all: memory stays bounded.
"""

from __future__ import annotations

import gc

GC_YOUNG_ALLOCATIONS = 10_000  # net allocations between young collections (CPython: 700)
GC_MIDDLE_COLLECTIONS = 10  # young collections between middle ones (CPython: 10)
GC_FULL_AFTER_MIDDLE = 50  # middle collections between full ones (CPython: 10)


def tune_gc() -> None:
    """Leave what start-up allocated (modules, schemas) out of every later collection, and
    collect the young generations less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, GC_MIDDLE_COLLECTIONS, GC_FULL_AFTER_MIDDLE)

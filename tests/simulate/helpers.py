"""Running a simulated stream through the real ledger and monitor."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from domain.ledger import IngestSummary
from ops.lines import open_inputs
from ops.simulate import SimConfig, write_stream
from ops.wiring import build_ledger, build_monitor, open_store
from projections.store.base import FindingFilter


def ingest(url: str, path: Path) -> IngestSummary:
    store = open_store(url, create=True)
    try:
        ledger, monitor = build_ledger(store), build_monitor(store)
        summary = IngestSummary()
        for batch in ledger.admit(open_inputs([str(path)]), 1000):
            summary.add(batch.summary)
            monitor.catch_up(until=batch.last_position)
        monitor.catch_up()
        return summary
    finally:
        store.close()


def findings_by_rule(url: str) -> Counter[str]:
    store = open_store(url)
    try:
        return Counter(r.rule_id for r in store.findings(FindingFilter()))
    finally:
        store.close()


def simulate_into(url: str, directory: Path, config: SimConfig) -> tuple[IngestSummary, Counter[str]]:
    path = directory / f"sim-{config.seed}.jsonl"
    write_stream(config, path)
    return ingest(url, path), findings_by_rule(url)

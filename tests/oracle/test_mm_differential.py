"""The monitor's MM findings against an independent reading of the rulebook (``mm_oracle``),
on random market-making streams."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import EventRejected
from domain.events import Envelope, RecordedEvent, canonical_content, parse_line
from domain.ledger import InputLine
from domain.registry import EntityKey, Registry
from ops.wiring import build_ledger, build_monitor
from policies.registry import parameter_catalogue
from projections.monitor.engine import MonitorEngine
from projections.store import open_store
from projections.store.base import FindingFilter
from tests.conftest import fresh_store_url
from tests.monitor.builders import RECORDED_AT
from tests.monitor.scenarios import NAMES, SCENARIOS, Triple, expected, triples
from tests.oracle.mm_oracle import mm_findings
from tests.oracle.strategies import mm_streams


@dataclass
class Admitted:
    """What ingest makes of a stream: the events it stores (for the monitor) and, for the
    oracle, the same events with the exact duplicates left in, as upstream sent them."""

    stored: list[Envelope] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0


def admit(lines: list[str]) -> Admitted:
    """The ledger's decisions (``Ledger.ingest_batch``) over an in-memory store."""
    store: dict[EntityKey, str] = {}

    def load(keys: Collection[EntityKey]) -> Mapping[EntityKey, str]:
        return {key: store[key] for key in keys if key in store}

    registry = Registry(load, parameter_catalogue())
    contents: dict[str, bytes] = {}
    out = Admitted()
    for line in lines:
        try:
            envelope, obj = parse_line(line)
        except EventRejected:
            out.rejected += 1
            continue
        content = canonical_content(obj)
        if envelope.event_id in contents:
            if contents[envelope.event_id] == content:
                out.sent.append(obj)
            else:
                out.rejected += 1
            continue
        try:
            registry.accept(envelope)
        except EventRejected:
            out.rejected += 1
            continue
        contents[envelope.event_id] = content
        out.stored.append(envelope)
        out.sent.append(obj)
    return out


def monitor_mm_findings(stored: list[Envelope]) -> Counter[Triple]:
    engine = MonitorEngine()
    findings = []
    for position, envelope in enumerate(stored, 1):
        findings += engine.process(RecordedEvent(position, RECORDED_AT, envelope))
    return Counter({t: n for t, n in triples(findings).items() if t[0].startswith("MM-")})


def disagreement(lines: list[str]) -> str:
    admitted = admit(lines)
    monitor = monitor_mm_findings(admitted.stored)
    oracle = mm_findings(admitted.sent)
    if monitor == oracle:
        return ""
    return (f"monitor only: {dict(monitor - oracle)}\noracle only: {dict(oracle - monitor)}\n"
            + "\n".join(json.dumps(o) for o in admitted.sent))


@pytest.mark.parametrize("name", NAMES)
def test_the_oracle_reads_the_scenarios_as_their_expected_findings_do(name: str) -> None:
    """The oracle checked against findings written by hand before it is trusted on its own."""
    lines = (SCENARIOS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    want = Counter({t: n for t, n in expected(name).items() if t[0].startswith("MM-")})
    assert mm_findings(json.loads(line) for line in lines) == want


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mm_streams())
def test_monitor_raises_exactly_the_mm_findings_the_rulebook_reads(lines: list[str]) -> None:
    assert disagreement(lines) == ""


def _ingest_run(url: str, inputs: list[InputLine], batch_size: int) -> None:
    store = open_store(url, create=True)
    try:
        monitor = build_monitor(store)
        for batch in build_ledger(store).admit(iter(inputs), batch_size):
            monitor.catch_up(until=batch.last_position)
        monitor.catch_up()
    finally:
        store.close()


def ingested_mm_findings(url: str, lines: list[str], cuts: list[int], batch_size: int
                         ) -> Counter[Triple]:
    """The MM findings stored by real ingest runs, one fresh process's ledger and monitor per
    run, so the monitor's state must survive being persisted and restored between them."""
    inputs = [InputLine("stream", n, line.encode()) for n, line in enumerate(lines, 1)]
    for start, stop in zip([0, *cuts], [*cuts, len(lines)], strict=True):
        _ingest_run(url, inputs[start:stop], batch_size)
    store = open_store(url)
    try:
        return Counter(
            (f.rule_id, f.event_id, f.subject)
            for f in store.findings(FindingFilter()) if f.rule_id.startswith("MM-"))
    finally:
        store.close()


# Each example makes a fresh store: few examples, the in-memory test above does the search.
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=mm_streams(), data=st.data())
def test_ingest_runs_split_anywhere_store_the_mm_findings_the_rulebook_reads(
    tmp_path_factory: pytest.TempPathFactory, kind: str, lines: list[str], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(lines) - 1), max_size=3), label="cuts"))
    batch_size = data.draw(st.integers(1, 20), label="batch_size")
    with fresh_store_url(kind, tmp_path_factory.mktemp("mm")) as url:
        stored = ingested_mm_findings(url, lines, cuts, batch_size)
    assert stored == mm_findings(admit(lines).sent)

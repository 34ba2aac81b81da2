"""SYS-01: an event the engine raises on is undone, recorded as a critical finding, logged,
and the monitor goes on; every reader of findings shows it, and a rebuild gives the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import projections.monitor.engine as engine_module
from domain.book.book import Book
from domain.events import Envelope, RecordedEvent, parse_line
from ops.lines import open_inputs
from ops.wiring import build_audit_index, build_ledger, build_monitor
from policies import system
from policies.registry import RULES_BY_ID
from projections.evidence.drift import check_projections
from projections.evidence.replay import replay as replay_log
from projections.explain.explain import explain
from projections.monitor.engine import MonitorEngine
from projections.nightly.report import build as nightly_report
from projections.store.base import FindingFilter, Store
from tests.conftest import SCENARIOS
from tests.monitor.builders import RECORDED_AT
from tests.monitor.scenarios import recorded

BOOM = "mf-day-0012"  # a mid-day event of mf-day with findings before and after it
BOOM_POSITION = 12
REASON = "RuntimeError: injected defect"


@pytest.fixture
def defect(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The engine applies event BOOM in full, then raises: the partial effect to undo."""
    real_apply = engine_module.apply

    def apply_then_raise(book: Book, envelope: Envelope, position: int) -> None:
        real_apply(book, envelope, position)
        if envelope.event_id == BOOM:
            raise RuntimeError("injected defect")

    monkeypatch.setattr(engine_module, "apply", apply_then_raise)
    yield


def without_boom(events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [e for e in events if e.envelope.event_id != BOOM]


def test_sys_01_is_reserved_and_is_no_rule_of_the_rulebook() -> None:
    assert system.RULE_ID not in RULES_BY_ID


def test_an_event_the_engine_raises_on_is_undone_and_gives_one_sys_01(defect: None) -> None:
    events = recorded("mf-day")
    assert BOOM in {e.envelope.event_id for e in events}
    failing, clean = MonitorEngine(), MonitorEngine()
    found = [f for e in events for f in failing.process(e)]
    expected = [f for e in without_boom(events) for f in clean.process(e)]

    sys_01 = [f for f in found if f.rule_id == system.RULE_ID]
    assert [f for f in found if f.rule_id != system.RULE_ID] == expected
    assert len(sys_01) == 1
    assert sys_01[0].severity == "critical"
    assert sys_01[0].event_id == BOOM and sys_01[0].position == BOOM_POSITION
    assert sys_01[0].message == f"event at position {BOOM_POSITION} could not be evaluated: {REASON}"
    assert failing.state_digest() == clean.state_digest()
    assert failing.drain_changes() == clean.drain_changes()
    assert any(f.position > BOOM_POSITION for f in expected)  # later events were still judged


def test_the_sys_01_finding_is_the_same_on_every_run(defect: None) -> None:
    runs = [
        [f for e in recorded("mf-day") for f in MonitorEngine().process(e)
         if f.rule_id == system.RULE_ID] for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) == 1


def test_a_preview_that_raises_gives_sys_01_and_changes_nothing(defect: None) -> None:
    events = recorded("mf-day")
    engine = MonitorEngine()
    for e in events[: BOOM_POSITION - 1]:
        engine.process(e)
    before = engine.state_digest()
    previewed = engine.preview(events[BOOM_POSITION - 1].envelope, BOOM_POSITION)
    assert [f.rule_id for f in previewed] == [system.RULE_ID]
    assert engine.state_digest() == before


def ingest(store: Store) -> None:
    build_ledger(store).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]))


def test_the_monitor_records_logs_and_goes_past_an_unevaluable_event_on_both_stores(
    store: Store, defect: None, tmp_path: Path
) -> None:
    ingest(store)
    with capture_logs() as logs:
        build_monitor(store).catch_up()
    rows = store.findings(FindingFilter(rule_ids=(system.RULE_ID,)))
    assert [(r.event_id, r.position, r.severity) for r in rows] == [(BOOM, BOOM_POSITION, "critical")]
    assert rows[0].message.endswith(REASON)
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [(e["event"], e["position"], e["event_id"]) for e in errors] == [
        ("event_unevaluable", BOOM_POSITION, BOOM)
    ]
    clean = MonitorEngine()
    expected = [f.finding_id for e in without_boom(recorded("mf-day")) for f in clean.process(e)]
    others = [r.finding_id for r in store.findings(FindingFilter()) if r.rule_id != system.RULE_ID]
    assert others == expected

    # a second monitor (a restart) and a rebuild agree, and nothing is recorded twice
    build_monitor(store).catch_up()
    assert len(store.findings(FindingFilter())) == len(expected) + 1
    drift = check_projections(store)
    assert drift.intact, drift
    replayed = replay_log(store)
    assert [f.finding_id for f in replayed.findings] == [
        r.finding_id for r in store.findings(FindingFilter())
    ]


def test_explain_and_the_nightly_report_show_a_sys_01_finding(
    store: Store, defect: None
) -> None:
    ingest(store)
    build_monitor(store).catch_up()
    build_audit_index(store).catch_up()
    row = store.findings(FindingFilter(rule_ids=(system.RULE_ID,)))[0]
    shown = explain(store, row)
    assert shown["rule"]["rule_id"] == system.RULE_ID
    assert shown["triggering_event"]["event_id"] == BOOM
    report: dict[str, Any] = nightly_report(store, date(2026, 3, 2))
    by_rule = {r["rule_id"]: r for r in report["by_rule"]}
    assert by_rule[system.RULE_ID]["new"] == 1
    new = [f for f in report["new_findings"] if f["rule_id"] == system.RULE_ID]
    assert [f["title"] for f in new] == [system.TITLE]
    assert json.dumps(report)  # JSON-able throughout


@pytest.mark.parametrize(
    ("at", "unevaluable"),
    [
        ("1970-01-01T07:59:59.999999+08:00", True),
        ("1970-01-01T08:00:00+08:00", False),
        ("1971-01-01T00:00:00+23:59", False),
        ("2199-12-31T23:59:59.999999+00:00", False),
        ("2199-12-31T23:59:00-00:01", True),
        ("0001-01-01T00:00:00+08:00", True),
        ("9999-12-31T23:59:59-23:59", True),
    ],
)
def test_a_stored_event_whose_time_is_outside_the_range_is_sys_01_and_changes_nothing(
    at: str, unevaluable: bool
) -> None:
    line = json.dumps({"event_id": "old", "type": "AssetListed", "occurred_at": at,
                       "data": {"asset": "BTC", "asset_kind": "virtual_asset"}})
    envelope, _ = parse_line(line, stored=True)
    engine = MonitorEngine()
    empty = engine.state_digest()
    found = engine.process(RecordedEvent(1, RECORDED_AT, envelope))
    assert [f.rule_id for f in found] == ([system.RULE_ID] if unevaluable else [])
    assert (engine.state_digest() == empty) is unevaluable
    if unevaluable:
        assert found[0].occurred_at == RECORDED_AT  # a time every reader can convert
        assert "lies outside [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z)" in found[0].message

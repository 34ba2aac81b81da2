"""What the ledger stores from now on reads back as it was accepted, and what earlier versions
stored (before events.md bounded values) still reads and goes through everything, on both
stores: the ledger can never be rewritten."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ops.cli
from domain.ledger import InputLine, decode_entry, is_catalogue_topic
from domain.ledger_storage import NewEntry
from ops.commands.transfer import parse_export
from ops.wiring import build_audit_index, build_ledger, build_monitor
from policies import system
from projections.evidence.drift import check_projections
from projections.monitor.engine import MonitorEngine
from projections.store import open_store
from projections.store.base import FindingFilter, Store
from tests.conftest import fresh_store_url
from tests.downstream.catalogue_day import envelopes

# As earlier versions accepted them: an exponent, trailing zeros past the microsecond, and
# times outside [1970, 2200) that do not even convert to UTC.
OLD_FORMS: list[tuple[str, dict[str, Any]]] = [
    ("old-exp", {"type": "PriceObserved", "occurred_at": "2026-03-02T10:00:00+08:00",
                 "data": {"asset": "ETH", "price": "2E+4", "price_source": "feed"}}),
    ("old-tiny", {"type": "CollateralPledged", "occurred_at": "2026-03-02T10:01:00.5000000+08:00",
                  "data": {"pledge_id": "P9", "client_id": "C1", "asset": "BTC", "quantity": "1E-8",
                           "haircut": "6E-1"}}),
    ("old-amend", {"type": "RuleParameterAmended", "occurred_at": "2026-03-02T10:02:00+08:00",
                   "data": {"rule_id": "MF-05", "parameter": "min_haircut", "value": "5E-1",
                            "effective_from": "2026-03-02T10:03:00+08:00", "notice_ref": "old"}}),
    ("old-year-1", {"type": "PriceObserved", "occurred_at": "0001-01-01T00:00:00+08:00",
                    "data": {"asset": "BTC", "price": "500000", "price_source": "feed"}}),
    ("old-9999", {"type": "PriceObserved", "occurred_at": "9999-12-31T23:59:59-23:59",
                  "data": {"asset": "BTC", "price": "500000", "price_source": "feed"}}),
    ("old-call", {"type": "MarginCallIssued", "occurred_at": "2026-03-02T10:04:00+08:00",
                  "data": {"call_id": "MC9", "client_id": "C1", "shortfall": "1",
                           "due_by": "9999-12-31T23:59:59-23:59"}}),
]


def store_old_forms(store: Store) -> None:
    """Appended past validation, as the code before the bounds let them through."""
    entries = [NewEntry(event_id, fields["type"], json.dumps({"event_id": event_id, **fields}).encode())
               for event_id, fields in OLD_FORMS]
    ledger = build_ledger(store)
    with ledger.storage.writer() as writer:
        writer.append(entries, datetime(2026, 3, 2, 3, tzinfo=UTC))
    # The version that stored them also registered what they created (call MC9, pledge P9):
    # the registry is brought to what it then held, so only the monitor's reading is tested.
    ledger.rebuild_registry()


def ingest_day(store: Store) -> None:
    lines = [InputLine("day", n, json.dumps(e).encode()) for n, e in enumerate(envelopes(), 1)]
    assert build_ledger(store).ingest(iter(lines)).rejected == 0


def test_every_accepted_event_reads_back_exactly_as_it_was_accepted(store: Store) -> None:
    ledger = build_ledger(store)
    lines = [InputLine("day", n, json.dumps(e).encode()) for n, e in enumerate(envelopes(), 1)]
    batch = ledger.admit_batch(lines)
    stored = [decode_entry(e) for e in store.read_entries(0, 1000) if is_catalogue_topic(e.type)]
    assert [e.envelope for e in stored] == [e.envelope for e in batch.recorded]
    assert [e.envelope.model_dump_json() for e in stored] == [
        e.envelope.model_dump_json() for e in batch.recorded]


def test_monitor_records_holding_exponent_decimals_restore_to_the_same_state() -> None:
    engine = MonitorEngine()
    from tests.monitor.builders import Stream

    s = Stream(engine)
    s.standard_assets()
    s.amend("MF-05", "min_haircut", "0.00000001", "2026-03-02T09:00:00+08:00")
    records = list(engine.iter_records())
    assert any("1E-8" in text for _, _, text in records)  # how the records write it
    assert MonitorEngine.restore(records).state_digest() == engine.state_digest()


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str,
         *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["regledger", *args, "--db", url])
    with pytest.raises(SystemExit) as done:
        ops.cli.main()
    err = capsys.readouterr().err
    assert "internal error" not in err, (args, err)
    return int(done.value.code or 0)


def test_events_stored_by_earlier_versions_still_go_through_everything(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(ops.cli, "configure_logging", lambda *args: None)
    store = open_store(store_url, create=True)
    try:
        ingest_day(store)
        store_old_forms(store)
        ingest_day(store)  # later ingest: all duplicates, and the monitor catches up
        build_monitor(store).catch_up()
        build_audit_index(store).catch_up()
        decoded = [decode_entry(e).envelope.event_id for e in store.read_entries(0, 1000)
                   if is_catalogue_topic(e.type)]
        assert decoded[-len(OLD_FORMS):] == [event_id for event_id, _ in OLD_FORMS]
        findings = store.findings(FindingFilter())
        assert check_projections(store).intact
    finally:
        store.close()
    # An old decimal form is evaluated like any other; an event whose time lies outside the
    # range cannot be placed in business time: SYS-01 says so, and the monitor went on.
    unevaluable = {f.event_id: f.message for f in findings if f.rule_id == system.RULE_ID}
    assert sorted(unevaluable) == ["old-9999", "old-call", "old-year-1"]
    assert unevaluable["old-call"].endswith(
        "data.due_by 9999-12-31T23:59:59-23:59 lies outside "
        "[1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z)")
    for args in (["findings", "--format", "csv"], ["audit", "--format", "table"],
                 ["state", "C1"], ["replay"], ["verify", "--projections"],
                 ["report", "nightly", "--date", "2026-03-02", "--out", str(tmp_path)],
                 ["export", "--out", str(tmp_path / "export.jsonl")],
                 *(["explain", f.finding_id] for f in findings[:3]),
                 *(["explain", f.finding_id] for f in findings if f.rule_id == system.RULE_ID)):
        assert _cli(monkeypatch, capsys, store_url, *args) in (0, 4), args
    with fresh_store_url("sqlite", tmp_path / "moved") as moved:
        assert _cli(monkeypatch, capsys, moved, "import", str(tmp_path / "export.jsonl")) == 0
        rows = list(parse_export(io.BytesIO((tmp_path / "export.jsonl").read_bytes())))
        assert [r.event_id for r in rows][-len(OLD_FORMS):] == [event_id for event_id, _ in OLD_FORMS]


def test_the_prefetch_child_decodes_what_earlier_versions_stored_as_this_process_does(
    store_url: str,
) -> None:
    from projections.store.prefetch import decoded_events

    store = open_store(store_url, create=True)
    try:
        ingest_day(store)
        store_old_forms(store)
        child = list(decoded_events(store, prefetch=True, child_page_entries=7))
        here = list(decoded_events(store, prefetch=False))
    finally:
        store.close()
    assert [e.envelope.event_id for e in child][-len(OLD_FORMS):] == [i for i, _ in OLD_FORMS]
    assert child == here
    assert [e.envelope.model_dump_json() for e in child] == [e.envelope.model_dump_json() for e in here]

"""Ingestion on both stores: counts, exact read-back, idempotency, conflicts, quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.ledger import IngestSummary, InputLine
from ops.lines import open_inputs
from ops.wiring import build_ledger
from projections.store.base import Store
from tests.conftest import SCENARIO_NAMES, SCENARIOS


def ingest_file(store: Store, path: Path, batch_size: int = 1000) -> IngestSummary:
    return build_ledger(store).ingest(open_inputs([str(path)]), batch_size)


def lines_of(path: Path) -> list[bytes]:
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenarios_ingest_with_the_counts_their_rejects_file_gives(store: Store, name: str) -> None:
    expected = json.loads((SCENARIOS / f"{name}.rejects.json").read_text())
    summary = ingest_file(store, SCENARIOS / f"{name}.jsonl")
    assert summary.accepted == expected["accepted"]
    assert sorted(r.line_no for r in summary.rejections) == expected["rejected_lines"]
    assert sorted(summary.duplicate_lines) == expected["duplicate_lines"]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_the_log_reads_back_every_envelope_exactly_as_sent_in_order(store: Store, name: str) -> None:
    path = SCENARIOS / f"{name}.jsonl"
    ingest_file(store, path, batch_size=7)
    entries = store.read_entries(0, 10_000)
    assert [e.state for e in entries] == lines_of(path)
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))
    assert [e.event_id for e in entries] == [json.loads(x)["event_id"] for x in lines_of(path)]


def test_an_identical_resend_is_a_duplicate_and_stores_nothing(store: Store) -> None:
    path = SCENARIOS / "mf-day.jsonl"
    ingest_file(store, path)
    again = ingest_file(store, path)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 38, 0)
    assert store.tip().position == 38


def test_a_resend_with_reordered_keys_and_spacing_is_still_a_duplicate(store: Store) -> None:
    line = json.loads(lines_of(SCENARIOS / "mf-day.jsonl")[0])
    ledger = build_ledger(store)
    ledger.ingest_batch([InputLine("t", 1, json.dumps(line).encode())])
    reordered = json.dumps(dict(reversed(list(line.items()))), indent=1).replace("\n", " ")
    summary = ledger.ingest_batch([InputLine("t", 2, reordered.encode())])
    assert (summary.accepted, summary.duplicates, summary.rejected) == (0, 1, 0)


def test_the_same_event_id_with_different_content_is_a_conflict_and_quarantined(store: Store) -> None:
    first = json.loads(lines_of(SCENARIOS / "mf-day.jsonl")[0])
    ledger = build_ledger(store)
    ledger.ingest_batch([InputLine("t", 1, json.dumps(first).encode())])
    changed = {**first, "source": "another-system"}
    summary = ledger.ingest_batch([InputLine("t", 2, json.dumps(changed).encode())])
    assert (summary.accepted, summary.duplicates, summary.rejected) == (0, 0, 1)
    assert summary.rejections[0].reasons[0].field == "event_id"
    assert "conflict" in summary.rejections[0].reasons[0].reason
    [kept] = store.quarantined(10, 0)
    assert kept["raw"] == json.dumps(changed).encode() and kept["event_id"] == first["event_id"]


def test_duplicates_within_one_batch_are_recognised(store: Store) -> None:
    line = lines_of(SCENARIOS / "mf-day.jsonl")[0]
    summary = build_ledger(store).ingest_batch([InputLine("t", 1, line), InputLine("t", 2, line)])
    assert (summary.accepted, summary.duplicates, summary.duplicate_lines) == (1, 1, [2])


def test_bad_lines_are_quarantined_with_reasons_and_valid_ones_around_them_are_kept(
    store: Store, tmp_path: Path
) -> None:
    good = lines_of(SCENARIOS / "mf-day.jsonl")[:3]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], b"{not json", good[1], b'{"event_id": "x"}', good[2]]) + b"\n")
    summary = ingest_file(store, path)
    assert (summary.accepted, summary.rejected) == (3, 2)
    assert [r.line_no for r in summary.rejections] == [2, 4]
    assert [e.state for e in store.read_entries(0, 10)] == good
    quarantined = store.quarantined(10, 0)
    assert [(q["line"], q["raw"]) for q in quarantined] == [(2, b"{not json"), (4, b'{"event_id": "x"}')]
    assert all(q["reasons"] for q in quarantined)
    assert quarantined[1]["event_id"] == "x"


def test_a_reference_to_an_unknown_client_is_rejected_by_the_registry(store: Store) -> None:
    event = {
        "event_id": "e1", "type": "SecuritiesMarginAccountOpened",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "data": {"client_id": "NOBODY", "account_id": "A1", "credit_limit": "10"},
    }
    summary = build_ledger(store).ingest_batch([InputLine("t", 1, json.dumps(event).encode())])
    assert summary.rejected == 1
    assert summary.rejections[0].reasons[0].field == "data.client_id"


def test_registry_state_survives_a_new_ledger_instance(store: Store) -> None:
    lines = lines_of(SCENARIOS / "mf-day.jsonl")
    build_ledger(store).ingest_batch([InputLine("t", i, x) for i, x in enumerate(lines[:20], 1)])
    # A fresh process sees what the first one recorded: the rest of the day validates.
    summary = build_ledger(store).ingest_batch([InputLine("t", i, x) for i, x in enumerate(lines[20:], 21)])
    assert (summary.accepted, summary.rejected) == (18, 0)


def test_two_ledgers_on_one_store_see_each_others_appends(store: Store) -> None:
    lines = lines_of(SCENARIOS / "mf-day.jsonl")
    first, second = build_ledger(store), build_ledger(store)
    first.ingest_batch([InputLine("t", i, x) for i, x in enumerate(lines[:12], 1)])
    second.ingest_batch([InputLine("t", i, x) for i, x in enumerate(lines[12:25], 13)])
    summary = first.ingest_batch([InputLine("t", i, x) for i, x in enumerate(lines[25:], 26)])
    assert (summary.accepted, summary.rejected) == (13, 0)
    assert store.tip().position == 38

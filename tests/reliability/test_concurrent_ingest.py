"""Several ingest processes on one PostgreSQL store with overlapping files: every distinct event
is stored exactly once, positions are gap-free, and the monitor processes each event once."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from domain.ledger import decode_entry
from projections.monitor.engine import MonitorEngine
from projections.store import open_store
from projections.store.base import FindingFilter

WRITERS = 4
CLIENTS_PER_FILE = 150


def event(event_id: str, kind: str, second: int, data: dict[str, object]) -> str:
    at = f"2026-03-02T09:{second // 60 % 60:02d}:{second % 60:02d}+08:00"
    return json.dumps({"event_id": event_id, "type": kind, "occurred_at": at, "source": "t", "data": data})


def reference_data() -> list[str]:
    return [
        event("ref-1", "AssetListed", 0, {"asset": "HKD", "asset_kind": "fiat"}),
        event("ref-2", "AssetListed", 1, {"asset": "BTC", "asset_kind": "virtual_asset", "retail_spot_approved": True}),
        event("ref-3", "PriceObserved", 2, {"asset": "BTC", "price": "500000", "price_source": "t"}),
        event("ref-4", "PerpContractListed", 3, {"contract_id": "BTC-PERP", "reference_asset": "BTC", "settlement_asset": "HKD",
                                                 "contract_size": "0.01", "initial_margin_rate": "0.1", "maintenance_margin_rate": "0.05"}),
    ]


def client_events(n: int) -> list[str]:
    cid = f"C{n}"
    retail = n % 3 == 0  # every third client is retail: its deposit and order breach PI-01
    return [
        event(f"{cid}-1", "ClientOnboarded", 10 + n, {"client_id": cid, "client_type": "individual",
              "investor_class": "retail" if retail else "professional",
              "pi_assessment": None if retail else {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"},
              "market_maker_id": None}),
        event(f"{cid}-2", "DerivativesKnowledgeAssessed", 10 + n, {"client_id": cid, "has_knowledge": True, "basis": "training"}),
        event(f"{cid}-3", "RiskDisclosureAcknowledged", 10 + n, {"client_id": cid, "product": "perpetuals", "version": "1"}),
        event(f"{cid}-4", "PerpMarginDeposited", 10 + n, {"deposit_id": f"D{cid}", "client_id": cid, "asset": "HKD",
              "amount": "100000", "funding_source": "client_funds"}),
        event(f"{cid}-5", "PerpOrderPlaced", 10 + n, {"order_id": f"O{cid}", "client_id": cid, "contract_id": "BTC-PERP",
              "side": "buy", "quantity": "1", "limit_price": "500000", "market_maker": False}),
    ]


@pytest.mark.postgres
def test_overlapping_concurrent_ingests_store_each_event_once_and_monitor_it_once(
    postgres_url: str, tmp_path: Path
) -> None:
    files = []
    for w in range(WRITERS):  # writer w covers clients [w*75, w*75+150): each overlaps the next
        lines = reference_data() + [x for n in range(w * 75, w * 75 + CLIENTS_PER_FILE) for x in client_events(n)]
        path = tmp_path / f"writer-{w}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    open_store(postgres_url, create=True).close()
    processes = [
        subprocess.Popen([sys.executable, "-m", "ops", "ingest", str(p), "--db", postgres_url,
                          "--batch-size", str(7 + 13 * i), "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, p in enumerate(files)
    ]
    outcomes = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0] * WRITERS, [err for _, err in outcomes]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outcomes]
    distinct = 4 + 5 * (75 * (WRITERS - 1) + CLIENTS_PER_FILE)
    assert sum(c["accepted"] for c in counts) == distinct
    assert sum(c["accepted"] + c["duplicates"] for c in counts) == sum(len(p.read_text().splitlines()) for p in files)

    store = open_store(postgres_url)
    try:
        entries = store.read_entries(0, 100_000)
        assert [e.position for e in entries] == list(range(1, distinct + 1))
        assert len({e.event_id for e in entries}) == distinct
        assert store.tracked_position() == distinct
        recorded = [(f.finding_id, f.position) for f in store.findings(FindingFilter())]
        # One uninterrupted monitor over the same ledger finds exactly what the competing ones did.
        engine = MonitorEngine()
        replayed = [(f.finding_id, f.position) for e in entries for f in engine.process(decode_entry(e))]
        assert recorded == replayed
        assert collections.Counter(r for r, _ in recorded).most_common(1)[0][1] == 1
        assert len(recorded) == 2 * len([n for n in range(75 * (WRITERS - 1) + CLIENTS_PER_FILE) if n % 3 == 0])
    finally:
        store.close()

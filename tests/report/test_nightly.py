"""The nightly report: counts that agree with ``regledger findings``, byte-identical reruns
that later events cannot change, overdue obligations, and exit code 4."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ops.simulate import SimConfig, write_stream
from projections.nightly import Window
from projections.store.base import Store
from tests.simulate.helpers import ingest
from tests.test_cli import regledger

CONFIG = SimConfig(clients=50, days=3, seed=8, violations=0.01)
DAY = date(2026, 3, 3)  # the second simulated day


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "sim.jsonl"
    write_stream(CONFIG, path)
    return path


def nightly(url: str, day: date, out: Path) -> tuple[int, dict[str, object]]:
    done = regledger("report", "nightly", "--date", day.isoformat(), "--out", str(out), db=url)
    assert done.returncode in (0, 4), done.stderr
    return done.returncode, json.loads((out / f"nightly-{day}" / "report.json").read_text())


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_the_report_counts_what_the_findings_command_lists_for_that_day(store_url: str, stream: Path, tmp_path: Path) -> None:
    assert ingest(store_url, stream).rejected == 0
    code, report = nightly(store_url, DAY, tmp_path)
    listed = json.loads(regledger("findings", "--format", "json", db=store_url).stdout)
    window = Window(DAY)
    new = [f for f in listed if window.contains(datetime.fromisoformat(f["detected_at"]))]
    known = [f for f in listed if datetime.fromisoformat(f["detected_at"]) <= window.cutoff]
    critical = sum(1 for f in new if f["severity"] == "critical")
    assert report["summary"] == {
        "new": len(new), "open": len(known), "resolved": 0, "critical_new": critical,
        "new_previous_day": sum(1 for f in listed if window.previous.contains(datetime.fromisoformat(f["detected_at"]))),
        "open_previous_day": sum(1 for f in listed if datetime.fromisoformat(f["detected_at"]) <= window.previous.cutoff),
        "resolved_previous_day": 0,
    }
    by_rule = {row["rule_id"]: row["new"] for row in report["by_rule"] if row["new"]}  # type: ignore[attr-defined]
    assert by_rule == {rule: sum(1 for f in new if f["rule_id"] == rule) for rule in {f["rule_id"] for f in new}}
    assert [f["finding_id"] for f in report["new_findings"]] == [f["finding_id"] for f in new]  # type: ignore[attr-defined]
    assert code == (4 if critical else 0) and critical > 0


def test_a_rerun_is_byte_identical_and_events_after_the_cutoff_change_nothing(store_url: str, stream: Path, tmp_path: Path) -> None:
    cutoff = Window(DAY).cutoff
    lines = stream.read_text().splitlines(keepends=True)
    early = [x for x in lines if datetime.fromisoformat(json.loads(x)["occurred_at"]) <= cutoff]
    (tmp_path / "early.jsonl").write_text("".join(early))
    (tmp_path / "late.jsonl").write_text("".join(lines[len(early):]))
    ingest(store_url, tmp_path / "early.jsonl")
    nightly(store_url, DAY, tmp_path / "a")
    nightly(store_url, DAY, tmp_path / "b")
    ingest(store_url, tmp_path / "late.jsonl")
    nightly(store_url, DAY, tmp_path / "c")
    first = files(tmp_path / "a" / f"nightly-{DAY}")
    assert {"index.html", "report.json", "findings-new.csv", "by-rule.csv"} <= first.keys()
    assert files(tmp_path / "b" / f"nightly-{DAY}") == first
    assert files(tmp_path / "c" / f"nightly-{DAY}") == first


def _event(n: int, kind: str, at: str, data: dict[str, object]) -> str:
    return json.dumps({"event_id": f"ov-{n}", "type": kind, "occurred_at": at, "data": data}) + "\n"


def test_an_obligation_overdue_at_the_cutoff_is_listed_even_once_a_later_event_raised_it(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "day.jsonl").write_text(
        _event(0, "AssetListed", "2026-03-02T09:00:00+08:00", {"asset": "HKD", "asset_kind": "fiat"})
        + _event(1, "AssetListed", "2026-03-02T09:00:00+08:00", {"asset": "BTC", "asset_kind": "virtual_asset", "retail_spot_approved": True})
        + _event(2, "PriceObserved", "2026-03-02T09:00:01+08:00", {"asset": "BTC", "price": "500000", "price_source": "t"})
        + _event(3, "PerpContractListed", "2026-03-02T09:00:02+08:00", {
            "contract_id": "BTC-PERP", "reference_asset": "BTC", "settlement_asset": "HKD", "contract_size": "0.01",
            "initial_margin_rate": "0.1", "maintenance_margin_rate": "0.05"}))
    assert ingest(store_url, tmp_path / "day.jsonl").rejected == 0
    day = date(2026, 3, 3)
    code, report = nightly(store_url, day, tmp_path / "a")
    assert code == 0
    assert report["overdue_obligations"] == [{
        "rule_id": "PERP-08", "title": "Funding at least daily", "subject": "BTC-PERP", "started_by": "ov-3",
        "started_at": "2026-03-02T09:00:02+08:00", "deadline": "2026-03-03T09:00:02+08:00", "overdue_minutes": 899,
    }]
    (tmp_path / "next.jsonl").write_text(
        _event(4, "PriceObserved", "2026-03-04T01:00:00+08:00", {"asset": "BTC", "price": "501000", "price_source": "t"}))
    assert ingest(store_url, tmp_path / "next.jsonl").rejected == 0
    nightly(store_url, day, tmp_path / "b")
    assert files(tmp_path / "b" / f"nightly-{day}") == files(tmp_path / "a" / f"nightly-{day}")
    _, following = nightly(store_url, day + timedelta(days=1), tmp_path / "c")
    assert [(f["rule_id"], f["event_id"]) for f in following["new_findings"]] == [("PERP-08", "ov-3")]  # type: ignore[index]
    assert following["overdue_obligations"] == []


def test_a_day_without_a_date_or_with_a_bad_one_is_a_clear_error(sqlite_url: str) -> None:
    for args in ((), ("--date", "2026-13-01")):
        done = regledger("report", "nightly", *args, db=sqlite_url)
        assert done.returncode == 2 and "--date" in done.stderr and "Traceback" not in done.stderr


def test_a_case_resolved_during_the_day_counts_as_resolved_and_no_longer_open(store: Store, tmp_path: Path) -> None:
    from domain.cases import CasePolicy, Cases, FindingRef
    from ops.lines import open_inputs
    from ops.pipeline import IngestPipeline
    from projections.cases.recorders import case_recorder
    from projections.nightly.report import build
    from projections.store.base import FindingFilter
    from tests.conftest import SCENARIOS

    IngestPipeline(store).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]), 1000)
    first, second = store.findings(FindingFilter())[:2]
    at = iter([datetime.fromisoformat("2026-03-02T15:00:00+08:00"), datetime.fromisoformat("2026-03-02T16:00:00+08:00"),
               datetime.fromisoformat("2026-03-03T10:00:00+08:00"), datetime.fromisoformat("2026-03-03T10:00:00+08:00")])
    cases = Cases(case_recorder(store), clock=lambda: next(at), policy=CasePolicy(four_eyes_severities=frozenset()))
    cases.resolve(FindingRef.of(first), "officer-1", "remediated")
    cases.resolve(FindingRef.of(second), "officer-1", "false_positive")
    day = build(store, date(2026, 3, 2))
    total = len(store.findings(FindingFilter()))
    assert (day["summary"]["resolved"], day["summary"]["open"]) == (2, total - 2)
    # a resolution after the cut-off does not reach back into that day's report
    cases.reopen(FindingRef.of(first), "officer-2")
    again = build(store, date(2026, 3, 2))
    assert again["summary"] == day["summary"]
    assert build(store, date(2026, 3, 3))["summary"]["open"] == total - 1

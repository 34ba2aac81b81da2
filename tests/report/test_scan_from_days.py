"""The nightly report's ledger facts from the audit index's events by day
(``projections.audit.days``) equal the pass over the whole log that they replace, for every
day, however far the index has got, with late, midnight and fund-moving events; and a store
whose index predates the rows reads the whole log until it is rebuilt."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from domain.errors import InvalidRequest, StoreCorrupted
from ops.simulate import SimConfig, write_stream
from ops.wiring import open_store
from projections.audit import AuditIndex
from projections.audit.days import NOT_BEFORE, UNPLACEABLE, day_key, report_day
from projections.evidence.attest import checkpoint_at, recent_checkpoint
from projections.nightly import Window
from projections.nightly.scan import read_summary, scan, whole_log_scan
from projections.rebuild.models import READ_MODELS
from projections.sql import Sql
from projections.store.base import Store
from tests.evidence.tamper import Dba
from tests.simulate.helpers import ingest

CONFIG = SimConfig(clients=30, days=3, seed=11, violations=0.02)
FIRST_DAY = date(2026, 3, 2)


def _fund(n: int, at: str, delta: str) -> str:
    return json.dumps({"event_id": f"days-fund-{n}", "type": "InsuranceFundChanged", "occurred_at": at,
                       "source": "treasury", "data": {"delta": delta, "reason": f"test {n}"}}) + "\n"


# Appended after the simulated days: events recorded late, on the edges of days, far ahead.
EXTRA = [
    _fund(1, "2026-03-02T10:00:00+08:00", "125.50"),  # recorded after days it precedes
    _fund(2, "2026-03-04T00:00:00+08:00", "-20.25"),  # midnight: the day that ends there (03-03)
    _fund(3, "2026-03-03T16:00:00Z", "7"),  # the same instant in UTC
    _fund(4, "2026-03-04T00:00:00.000001+08:00", "1.000001"),  # a microsecond into 03-04
    _fund(5, "2026-03-12T09:30:00+08:00", "3"),  # far ahead: later than every report day below
]


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("days") / "sim.jsonl"
    write_stream(CONFIG, path)
    with path.open("a") as out:
        out.writelines(EXTRA)
    return path


def days_around() -> list[date]:
    return [FIRST_DAY + timedelta(days=n) for n in range(-2, 12)]


def assert_same_facts(store: Store) -> None:
    for day in days_around():
        window = Window(day)
        assert scan(store, window) == whole_log_scan(store, window), day


def test_report_day_puts_midnight_in_the_day_that_ends_there() -> None:
    from datetime import datetime

    assert report_day(datetime.fromisoformat("2026-03-04T00:00:00+08:00")) == date(2026, 3, 3)
    assert report_day(datetime.fromisoformat("2026-03-03T16:00:00+00:00")) == date(2026, 3, 3)
    assert report_day(datetime.fromisoformat("2026-03-03T16:00:00.000001+00:00")) == date(2026, 3, 4)
    assert report_day(datetime.fromisoformat("2026-03-03T15:59:59.999999+00:00")) == date(2026, 3, 3)
    assert day_key(datetime.fromisoformat("2026-03-04T00:00:01+08:00")) == "2026-03-04"


def test_the_days_give_the_whole_logs_facts_however_far_the_index_has_got(store_url: str, stream: Path) -> None:
    summary = ingest(store_url, stream)
    assert summary.rejected == 0
    store = open_store(store_url)
    try:
        tip = store.tip().position
        for through in (0, 1, tip // 3, tip - len(EXTRA) + 2, tip):  # below, inside and at the tip
            AuditIndex(store).catch_up(until=through)
            found = read_summary(store)
            assert found.through == through and found.complete
            assert_same_facts(store)
        counted = scan(store, Window(date(2026, 3, 3)))
        assert counted.day_events["InsuranceFundChanged"] >= 2  # the two midnights
        assert [m.event_id for m in counted.fund_moves][-2:] == ["days-fund-2", "days-fund-3"]
        assert "days-fund-1" not in [m.event_id for m in counted.fund_moves]  # day 03-02's, though recorded late
        later = scan(store, Window(date(2026, 3, 4)))
        assert later.prefix < tip and later.covered < tip  # the event of 03-12 was recorded last
    finally:
        store.close()


def test_an_index_built_before_the_days_reads_the_whole_log_until_rebuilt(store_url: str, stream: Path) -> None:
    ingest(store_url, stream)
    store = open_store(store_url)
    try:
        AuditIndex(store).catch_up()
        tip = store.tip().position
        with Sql(store).writing() as cursor:  # the store as older code left it
            cursor.execute("DROP TABLE ledger_days")
            cursor.execute("DROP TABLE ledger_fund_events")
        store.migrate()
        marked = read_summary(store)
        assert (NOT_BEFORE, "", 0, 1, tip) in marked.days and not marked.complete
        assert_same_facts(store)  # from the whole log: the rows count nothing before the mark
        audit = next(m for m in READ_MODELS if m.name == "audit index")
        audit.replace(store, audit)
        rebuilt = read_summary(store)
        assert rebuilt.complete and rebuilt.through == tip
        assert_same_facts(store)
    finally:
        store.close()


def test_an_unplaceable_time_sends_the_report_to_the_whole_log(store_url: str, stream: Path) -> None:
    ingest(store_url, stream)
    store = open_store(store_url)
    try:
        AuditIndex(store).catch_up()
        assert read_summary(store).complete
        with Sql(store).writing() as cursor:  # as the index counts an event stored by an earlier version
            cursor.execute("INSERT INTO ledger_days VALUES (?, ?, ?, ?, ?)", (UNPLACEABLE, "AssetListed", 1, 1, 1))
        assert not read_summary(store).complete
        assert_same_facts(store)
    finally:
        store.close()


def test_the_recent_checkpoint_is_the_whole_chains_on_an_intact_log(store_url: str, stream: Path) -> None:
    ingest(store_url, stream)
    store = open_store(store_url)
    try:
        tip = store.tip().position
        for position, checked_from in ((1, 1), (2, 1), (2, 2), (300, 3), (tip - 1, tip - 700), (tip, 1), (tip, tip)):
            assert recent_checkpoint(store, position, checked_from) == checkpoint_at(store, position), position
        with pytest.raises(InvalidRequest):
            recent_checkpoint(store, tip + 1, tip)
    finally:
        store.close()


def test_the_recent_checkpoint_refuses_a_broken_link_in_its_range_only(store_url: str, stream: Path) -> None:
    ingest(store_url, stream)
    store = open_store(store_url)
    try:
        tip = store.tip().position
        appended = checkpoint_at(store, tip)
        Dba(store_url).run(("UPDATE ledger_events SET state = ? WHERE notification_id = ?", (b'{"edited": true}', 50)))
        with pytest.raises(StoreCorrupted, match="position 50"):
            recent_checkpoint(store, tip, 50)
        with pytest.raises(StoreCorrupted, match="position 50"):
            checkpoint_at(store, tip)
        # Past the edit the links hold, and the root is the one of the log as appended, which
        # ``verify --digest`` holds the edited log against.
        assert recent_checkpoint(store, tip, 51) == appended
    finally:
        store.close()

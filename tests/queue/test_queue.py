"""The alert queue (issue 18): paging with a total, sorts, filters, a client's everything,
plain dates, bulk acknowledge and assign, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.errors import InvalidRequest
from ops.lines import open_inputs
from ops.options import moment_of
from ops.pipeline import IngestPipeline
from ops.queue import QueueAsk, bulk_case_action, queue_json, read_queue
from projections.store import open_store
from projections.store.base import Store
from tests.conftest import SCENARIOS

# mf-day's six findings, newest detection first, and whom their subjects belong to
NEWEST_FIRST = ["P1", "C3", "P4", "P3", "L2", "C1"]


@pytest.fixture
def queue_store(store_url: str) -> Iterator[Store]:
    store = open_store(store_url, create=True)
    IngestPipeline(store).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]), 1000)
    yield store
    store.close()


def subjects(store: Store, **ask: object) -> list[str]:
    return [r.finding.subject for r in read_queue(store, QueueAsk(**ask), me="alice").rows]  # type: ignore[arg-type]


def test_the_queue_is_newest_first_and_pages_cover_every_finding_once_with_the_total(queue_store: Store) -> None:
    assert subjects(queue_store) == NEWEST_FIRST
    pages = [read_queue(queue_store, QueueAsk(limit=4, offset=offset)) for offset in (0, 4, 8)]
    assert [p.total for p in pages] == [6, 6, 6]
    assert [r.finding.subject for p in pages for r in p.rows] == NEWEST_FIRST
    assert [len(p.rows) for p in pages] == [4, 2, 0]


def test_sorts_order_by_detection_age_severity_and_rule(queue_store: Store) -> None:
    assert subjects(queue_store, sort="detection") == NEWEST_FIRST[::-1]
    assert subjects(queue_store, sort="age") == NEWEST_FIRST[::-1]
    assert subjects(queue_store, sort="severity") == ["P1", "L2", "C3", "P4", "C1", "P3"]
    assert subjects(queue_store, sort="rule") == ["L2", "C3", "P3", "P4", "C1", "P1"]


def test_a_client_s_findings_include_those_on_its_pledges_and_loans(queue_store: Store) -> None:
    assert subjects(queue_store, subject="C1") == ["P1", "C1"]  # MF-10 names pledge P1 of C1
    assert subjects(queue_store, subject="C3") == ["C3", "P4", "P3"]
    assert subjects(queue_store, subject="C2") == ["L2"]  # MF-01 names loan L2 of C2
    assert subjects(queue_store, subject="P1") == ["P1"]  # a pledge owns nothing
    assert subjects(queue_store, subject="C9") == []


def test_severity_and_rule_filters_are_honoured(queue_store: Store) -> None:
    assert subjects(queue_store, severities=("critical",)) == ["P1", "L2"]
    assert subjects(queue_store, rule_ids=("MF-05", "MF-07")) == ["P4", "C1"]


@pytest.mark.parametrize("bad", ["mf-06", "MF-99", " MF-06"])
def test_an_unknown_or_lower_case_rule_id_is_refused_naming_the_valid_ones(queue_store: Store, bad: str) -> None:
    with pytest.raises(InvalidRequest, match="one of PI-01.*MF-06.*SYS-01"):
        read_queue(queue_store, QueueAsk(rule_ids=(bad,)))


def test_a_day_filter_takes_the_whole_hong_kong_day_and_only_it(queue_store: Store) -> None:
    # mf-day happens on 2026-03-02 (HKT, 09:00-14:00 in Hong Kong)
    assert len(subjects(queue_store, since="2026-03-02", until="2026-03-02")) == 6
    assert subjects(queue_store, since="2026-03-03") == []
    assert subjects(queue_store, until="2026-03-01") == []
    with pytest.raises(InvalidRequest, match="since: '2026-02-30' is not a date"):
        read_queue(queue_store, QueueAsk(since="2026-02-30"))


def test_plain_days_are_hong_kong_days_bounded_at_both_ends() -> None:
    assert moment_of("2026-03-04", "since").isoformat() == "2026-03-04T00:00:00+08:00"
    assert moment_of("2026-03-04", "until", end_of_day=True).isoformat() == "2026-03-04T23:59:59.999999+08:00"
    # 2026-03-04 16:30 UTC is already 00:30 on the 5th in Hong Kong
    now = datetime(2026, 3, 4, 16, 30, tzinfo=UTC)
    assert moment_of("today", "since", now=now).isoformat() == "2026-03-05T00:00:00+08:00"
    assert moment_of("Yesterday", "since", now=now).isoformat() == "2026-03-04T00:00:00+08:00"
    now = datetime(2026, 3, 4, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on the 4th in Hong Kong
    assert moment_of("today", "since", now=now).isoformat() == "2026-03-04T00:00:00+08:00"
    with pytest.raises(ValueError, match="needs a UTC offset"):
        moment_of("2026-03-04T09:00:00", "since")
    with pytest.raises(ValueError, match="not a date"):
        moment_of("someday", "since")


def test_bulk_assignment_fills_my_queue_and_reports_what_it_could_not_do(
    queue_store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGLEDGER_OFFICERS", "lead,alice")  # cases are worked by known officers only
    page = read_queue(queue_store, QueueAsk(severities=("critical",)))
    ids = [r.finding.finding_id for r in page.rows]
    outcomes = bulk_case_action(queue_store, [*ids, "F-none"], "lead", "assign", assignee="alice")
    assert [o["done"] for o in outcomes] == [True, True, False]
    assert outcomes[2]["error"] == "no finding 'F-none'"
    mine = read_queue(queue_store, QueueAsk(assignee="me"), me="alice")
    assert [r.finding.finding_id for r in mine.rows] == ids
    assert {(r.case_status, r.assignee) for r in mine.rows} == {("open", "alice")}  # assigned, not yet looked at
    acked = bulk_case_action(queue_store, ids[:1], "alice", "ack")  # the CLI's short word is accepted
    assert acked[0]["status"] == "acknowledged"
    assert subjects(queue_store, case_status="acknowledged") == ["P1"]
    assert subjects(queue_store, case_status="open") == [s for s in NEWEST_FIRST if s != "P1"]
    assert subjects(queue_store, assignee="bob") == []
    # the totals of one-row pages: counted, not taken from the rows (each filter's own count)
    for ask, total in (({"case_status": "open"}, 5), ({"case_status": "acknowledged"}, 1), ({"assignee": "alice"}, 2),
                       ({"case_status": "open", "assignee": "alice"}, 1), ({"case_status": "resolved"}, 0),
                       ({"case_status": "open", "severities": ("critical",)}, 1), ({}, 6)):
        assert read_queue(queue_store, QueueAsk(limit=1, **ask)).total == total, ask  # type: ignore[arg-type]
    row = queue_json(read_queue(queue_store, QueueAsk(assignee="alice", limit=1)).rows[0], page.clock)
    assert (row["case_status"], row["assignee"], row["age_s"]) == ("acknowledged", "alice", 0)


def test_my_queue_needs_an_identity_and_bulk_actions_are_bounded(queue_store: Store) -> None:
    with pytest.raises(InvalidRequest, match="REGLEDGER_OPERATOR"):
        read_queue(queue_store, QueueAsk(assignee="me"), me=None)
    with pytest.raises(InvalidRequest, match="assign needs an assignee"):
        bulk_case_action(queue_store, ["F-1"], "lead", "assign")
    with pytest.raises(InvalidRequest, match="action: unknown 'resolve'"):
        bulk_case_action(queue_store, ["F-1"], "lead", "resolve")
    with pytest.raises(InvalidRequest, match="at most 500 findings at once, not 501"):
        bulk_case_action(queue_store, [f"F-{i}" for i in range(501)], "lead", "acknowledge")
    bulk_case_action(queue_store, [f"F-{i}" for i in range(500)], "lead", "acknowledge")  # at the bound: fine


def test_ages_are_measured_on_the_latest_business_time_which_a_late_back_dated_event_does_not_turn_back(
        queue_store: Store, tmp_path: Path) -> None:
    from projections.evidence.drift import check_projections
    from projections.rebuild.models import replace_read_models

    def clock() -> datetime | None:
        return read_queue(queue_store, QueueAsk(limit=1)).clock

    def more(*lines: tuple[str, str]) -> None:
        path = tmp_path / f"more-{lines[0][0]}.jsonl"
        path.write_text("".join(
            json.dumps({"event_id": event_id, "type": "AssetListed", "occurred_at": at, "source": "ops",
                        "data": {"asset": event_id.upper().replace("-", ""), "asset_kind": "fiat"}}) + "\n"
            for event_id, at in lines
        ))
        IngestPipeline(queue_store).ingest(open_inputs([str(path)]), 1000)

    last = datetime(2026, 3, 2, 5, 45, 37, tzinfo=UTC)  # mf-day's last event, 13:45:37 HKT
    assert clock() == last
    oldest = read_queue(queue_store, QueueAsk(sort="age", limit=1))
    age = queue_json(oldest.rows[0], oldest.clock)["age_s"]
    more(("late-a", "2026-03-02T09:30:00+08:00"))  # recorded last, occurred hours earlier
    assert clock() == last
    again = read_queue(queue_store, QueueAsk(sort="age", limit=1))
    assert queue_json(again.rows[0], again.clock)["age_s"] == age > 0
    more(("late-b", "2026-03-02T13:45:36.999999+08:00"), ("late-c", "2026-03-02T13:45:37+08:00"))  # below, at
    assert clock() == last
    more(("later-d", "2026-03-02T13:45:37.000001+08:00"))  # above: the clock moves on
    assert clock() == last + timedelta(microseconds=1)
    replace_read_models(queue_store)  # rebuilt from the log: the same clock
    assert clock() == last + timedelta(microseconds=1)
    assert check_projections(queue_store).intact


def test_a_store_from_before_the_clock_is_started_at_the_latest_time_its_audit_index_holds(store_url: str) -> None:
    from projections.evidence.drift import check_projections
    from projections.sql import Sql

    empty = open_store(store_url, create=True)
    try:
        assert read_queue(empty, QueueAsk()).clock is None  # no event yet: no clock, no ages
        IngestPipeline(empty).ingest(open_inputs([str(SCENARIOS / "mf-day.jsonl")]), 1000)
        with Sql(empty).writing() as cursor:  # the store as the code before ledger_clock left it
            cursor.execute("DROP TABLE ledger_clock")
            cursor.execute("DELETE FROM regledger_meta WHERE key = 'schema'")  # its fingerprint differs
    finally:
        empty.close()
    store = open_store(store_url)  # migrated on opening
    try:
        assert read_queue(store, QueueAsk()).clock == datetime(2026, 3, 2, 5, 45, 37, tzinfo=UTC)
        assert check_projections(store).intact
    finally:
        store.close()

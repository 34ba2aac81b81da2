"""Rebuilding the case status read model (``finding_cases`` and ``case_workflow``) from the
case events on the ledger alone: each case is folded from its events by the aggregate, and
its summary is exactly what saving the last action wrote (``CaseSummary.of``)."""

from __future__ import annotations

from domain.cases import CASE_TOPIC_PREFIX, Case, Cases, CaseSummary
from projections.cases.recorders import (
    UPSERT_STATUS_POSTGRES,
    UPSERT_STATUS_SQLITE,
    UPSERT_WORKFLOW_POSTGRES,
    UPSERT_WORKFLOW_SQLITE,
    case_recorder,
    status_row,
    workflow_row,
)
from projections.sql import Sql
from projections.store.base import Store

CASES_PER_REBUILD_MAX = 10_000_000  # a bound far above any ledger's number of cases


def case_summaries(store: Store) -> list[CaseSummary]:
    """Every case's summary, folded from its events on the ledger, in finding id order."""
    sql = Sql(store)
    ids = [r[0] for r in sql.rows(
        "SELECT DISTINCT originator_id FROM ledger_events WHERE topic LIKE ? LIMIT ?",
        (CASE_TOPIC_PREFIX + "Opened", CASES_PER_REBUILD_MAX),
    )]
    cases = Cases(case_recorder(store))
    summaries = []
    for case_id in ids:
        # by its text, as Cases.case does: the ledger stores ids as text
        case: Case = cases.repository.get(case_id)
        summaries.append(CaseSummary.of(case))
    return sorted(summaries, key=lambda s: s.finding_id)


def rebuild_case_statuses(store: Store) -> int:
    """Replace the read model with what the ledger's case events say; how many cases."""
    summaries = case_summaries(store)
    sql = Sql(store)
    status, workflow = (UPSERT_STATUS_SQLITE, UPSERT_WORKFLOW_SQLITE) if sql.kind == "sqlite" else (
        UPSERT_STATUS_POSTGRES, UPSERT_WORKFLOW_POSTGRES)
    with sql.writing() as c:
        c.execute("DELETE FROM finding_cases")
        c.execute("DELETE FROM case_workflow")
        raw = Sql.raw_cursor(c)  # the upserts are written per driver, placeholders and all
        for summary in summaries:
            raw.execute(status, status_row(summary, sql.time(summary.updated_at)))
            raw.execute(workflow, workflow_row(summary))
    return len(summaries)

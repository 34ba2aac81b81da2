"""The officers' alert queue: one page of findings with their case status and assignee, the
total that matched, and the clock their age is measured on. The CLI's ``findings``, the API's
``GET /v1/findings`` and the console's findings page all read it.

Paging is by offset with a total count (an officer jumps to page 7 of 23); every sort ends in
``seq`` so pages never overlap or skip. The statement is assembled only from the constant
fragments below, one per filter given, each value bound as a parameter.

Age is measured on the monitor's clock, not the wall clock (results never depend on it): the
latest business time (``occurred_at``) of any upstream event the audit index has seen
(``ledger_clock``, projections.audit.days). On a live ledger that is a moment ago; on a
replayed one it is the end of the replay, as the findings themselves are. A late, back-dated
event recorded last does not turn the clock back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.audit.days import read_clock
from projections.sql import Sql
from projections.store.base import SEVERITY_RANK, FindingRow, Store

PAGE_ROWS_MAX = 1_000

# How each sort orders; each ends in seq so that equal keys keep one order across pages.
SORTS = {
    "detection": "seq",  # cli.md's order: as the monitor detected them
    "newest": "detected_at DESC, seq DESC",
    "age": "detected_at, seq",  # the oldest, longest waiting, first
    "severity": SEVERITY_RANK + ", detected_at DESC, seq DESC",
    "rule": "rule_id, detected_at DESC, seq DESC",
}

OWNED_BY = "seq IN (SELECT seq FROM finding_owners WHERE owner = ?)"
# Case filters as (anti-)semi-joins on the findings alone: the planner estimates them well (a
# COALESCE over a left join it took for 0.5 % of rows and sorted everything), and the page's
# seqs come from an index of findings. A finding nobody has acted on is open.
CASE_STATUS_OPEN = ("NOT EXISTS (SELECT 1 FROM finding_cases x WHERE x.finding_id = findings.finding_id"
                    " AND x.status <> 'open' AND ? = 'open')")
CASE_STATUS_IS = "EXISTS (SELECT 1 FROM finding_cases x WHERE x.finding_id = findings.finding_id AND x.status = ?)"
ASSIGNED_TO = "EXISTS (SELECT 1 FROM finding_cases x WHERE x.finding_id = findings.finding_id AND x.assignee = ?)"
# The same filters on the cases alone, for totals counted from them
CASES_STATUS_IS = "c.status = ?"
CASES_ASSIGNED_TO = "c.assignee = ?"

_CASES = " LEFT JOIN finding_cases c ON c.finding_id = findings.finding_id"
# A deferred join: the page's seqs are chosen first, from the indexes alone where the filters
# allow (a deep offset then skips index entries, not rows and their cases), and only those
# fifty rows are read whole with their cases.
_PAGE = (
    "SELECT seq, findings.finding_id, rule_id, severity, event_id, subject, occurred_at, detected_at,"  # noqa: S608  # constant fragments
    " position, message, parameters, evidence, COALESCE(c.status, 'open'), c.assignee"
    " FROM (SELECT seq AS page_seq FROM {chosen} ORDER BY {order} LIMIT ? OFFSET ?) page"
    " JOIN findings ON findings.seq = page.page_seq" + _CASES + " ORDER BY {order}"
)
_CHOSEN = "findings WHERE TRUE{where}"
# With a time range the findings in it are found first by the occurred_at index and sorted
# after: left to itself the planner walks the detection index from the newest down (it cannot
# know that detection follows occurrence closely) and passed 78,000 rows to find a day's 50.
# OFFSET 0 keeps the subquery apart on both databases (SQLite needs a LIMIT with it).
_CHOSEN_IN_RANGE = {
    "sqlite": "(SELECT seq, rule_id, severity, detected_at FROM findings WHERE TRUE{where} LIMIT -1 OFFSET 0) findings",
    "postgresql": "(SELECT seq, rule_id, severity, detected_at FROM findings WHERE TRUE{where} OFFSET 0) findings",
}
# The total, counted the cheapest way the filters allow (a count is most of a page's cost at
# 100,000 findings, ops/bench/queue.py): without the cases when no case filter is given; with
# an inner join when the filter needs a case row (any assignee, any status but open); and open
# ones as all minus those with a case that is not open (one case in five has a row at most).
_COUNT_FINDINGS = "SELECT count(*) FROM findings WHERE TRUE{0}"
_COUNT_WITH_CASES = "SELECT count(*) FROM findings JOIN finding_cases c ON c.finding_id = findings.finding_id WHERE TRUE{0}"
_COUNT_OPEN = (
    "SELECT (" + _COUNT_FINDINGS + ") - (" + _COUNT_WITH_CASES.replace("{0}", " AND c.status <> 'open'{0}") + ")"
)
_COUNT_CASES = "SELECT count(*) FROM finding_cases c WHERE TRUE{0}"
_COUNT_OPEN_ALL = "SELECT (SELECT count(*) FROM findings) - (SELECT count(*) FROM finding_cases WHERE status <> 'open')"


@dataclass(frozen=True, slots=True)
class QueueQuery:
    rule_ids: Sequence[str] = ()
    severities: Sequence[str] = ()
    subject: str | None = None  # the id itself and everything it owns
    since: datetime | None = None  # on occurred_at of the triggering event, as cli.md says
    until: datetime | None = None
    case_status: str | None = None
    assignee: str | None = None
    sort: str = "newest"
    limit: int | None = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueRow:
    finding: FindingRow
    case_status: str
    assignee: str | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    total: int  # every finding matching, over all pages
    clock: datetime | None  # what ages are measured against; None on an empty ledger


def queue_page(store: Store, query: QueueQuery) -> QueuePage:
    """One page; a ``subject`` is answered from ``finding_owners`` as filed so far (the caller
    files new findings first: ``catch_up_owners``)."""
    assert query.sort in SORTS, f"unknown sort {query.sort!r}"
    assert query.limit is None or query.limit >= 1, query.limit
    sql = Sql(store)
    where, params = _where(sql, query)
    in_range = query.since is not None or query.until is not None
    chosen = (_CHOSEN_IN_RANGE[sql.kind] if in_range else _CHOSEN).format(where=where)
    page_statement = _PAGE.format(chosen=chosen, order=SORTS[query.sort])
    count_statement, count_params = _count(sql, query)
    with sql.reading() as cursor:
        cursor.execute(page_statement, [*params, sql.store.dialect.unlimited if query.limit is None else query.limit,
                                         query.offset])
        rows = cursor.fetchall()
        if query.limit is None or (query.offset == 0 and len(rows) < query.limit):
            total = query.offset + len(rows)  # the whole answer is here: no second statement
        else:
            cursor.execute(count_statement, count_params)
            total = int(cursor.fetchone()[0])  # type: ignore[index]  # count(*) always has a row
        clock = read_clock(sql, cursor)
    return QueuePage(
        [QueueRow(FindingRow(r[0], r[1], r[2], r[3], r[4], r[5], sql.instant(r[6]), sql.instant(r[7]),
                             r[8], r[9], r[10], r[11]), r[12], r[13]) for r in rows],
        total, clock,
    )


def _where(sql: Sql, query: QueueQuery, cases: bool = True) -> tuple[str, list[Any]]:
    """The filters as fragments and their values; without ``cases``, only those on findings."""
    dialect = sql.store.dialect
    rules, severities = "rule_id " + dialect.in_texts, "severity " + dialect.in_texts
    since, until = "occurred_at >= ?" + dialect.casts["instant"], "occurred_at <= ?" + dialect.casts["instant"]
    given: list[tuple[str, Any]] = [
        (rules, sql.text_list(query.rule_ids) if query.rule_ids else None),
        (severities, sql.text_list(query.severities) if query.severities else None),
        (OWNED_BY, query.subject),
        (since, sql.time(query.since)),
        (until, sql.time(query.until)),
        (CASE_STATUS_OPEN if query.case_status == "open" else CASE_STATUS_IS, query.case_status if cases else None),
        (ASSIGNED_TO, query.assignee if cases else None),
    ]
    present = [(fragment, value) for fragment, value in given if value is not None]
    return "".join(" AND " + fragment for fragment, _ in present), [value for _, value in present]


def _count(sql: Sql, query: QueueQuery) -> tuple[str, list[Any]]:
    on_findings, params = _where(sql, query, cases=False)
    if query.case_status is None and query.assignee is None:
        return _COUNT_FINDINGS.format(on_findings), params
    if query.case_status == "open" and query.assignee is None:
        if not on_findings:
            return _COUNT_OPEN_ALL, []
        return _COUNT_OPEN.format(on_findings), [*params, *params]
    given = [(CASES_STATUS_IS, query.case_status), (CASES_ASSIGNED_TO, query.assignee)]
    on_cases = "".join(" AND " + fragment for fragment, value in given if value is not None)
    case_params = [value for _, value in given if value is not None]
    if not on_findings:  # every case row is a finding's (a case opens on a recorded finding)
        return _COUNT_CASES.format(on_cases), case_params
    return _COUNT_WITH_CASES.format(on_findings + on_cases), [*params, *case_params]

"""What every route module of the API shares: the store of the request, the role a route
requires, its bounds and the checks of its time parameters. Route modules import this one and
``ops.api.app`` imports them, so no two modules of ``ops.api`` import each other."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel

from domain.ledger import IngestSummary
from domain.values import POSITION_MAX
from ops.api.security import require
from ops.options import moment_of, report_day_problem, time_problem
from projections.queue import PAGE_ROWS_MAX
from projections.store.base import Store
from projections.tokens import Principal

__all__ = ["OFFSET_MAX", "PAGE_ROWS_MAX", "POSITION_MAX"]

OFFSET_MAX = 2**53  # far beyond any ledger, and within every database integer

Reader = Annotated[Principal, Depends(require("read"))]
CaseWorker = Annotated[Principal, Depends(require("cases"))]
Regulator = Annotated[Principal, Depends(require("replay"))]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


class IngestOutcome(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    rejections: list[dict[str, Any]]


def outcome(summary: IngestSummary) -> IngestOutcome:
    return IngestOutcome(
        accepted=summary.accepted, duplicates=summary.duplicates, rejected=summary.rejected,
        rejections=[
            {"line": r.line_no, "event_id": r.event_id,
             "errors": [{"field": x.field, "reason": x.reason} for x in r.reasons]}
            for r in summary.rejections
        ],
    )


def aware(name: str, moment: datetime | None) -> datetime | None:
    """A time query parameter, refused with 422 as ``ops.options.time_problem`` says."""
    problem = None if moment is None else time_problem(name, moment)
    if problem is not None:
        raise HTTPException(422, problem)
    return moment


def moment(name: str, value: str | None, end_of_day: bool = False) -> datetime | None:
    """A time query parameter as the CLI takes it (a timestamp with offset, or a plain Hong Kong
    day: ``2026-03-04``, ``today``, ``yesterday``), refused with 422 saying why."""
    if value is None:
        return None
    try:
        return moment_of(value, name, end_of_day=end_of_day)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def report_day(day: date) -> date:
    problem = report_day_problem("day", day)
    if problem is not None:
        raise HTTPException(422, problem)
    return day

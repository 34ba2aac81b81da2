"""The alert queue at the edge: what an officer types (rule ids, severities, plain dates, "me")
checked once and turned into a ``QueueQuery``, and a page turned into rows, for the CLI, the
API and the console alike. A bad value is one sentence naming the values that would do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

import psycopg
import structlog
from eventsourcing.persistence import PersistenceError

from domain.cases import CASE_STATUSES, FindingRef
from domain.errors import InvalidRequest, RegledgerError
from ops.options import moment_of
from ops.render import finding_json
from ops.wiring import build_audit_index, build_cases
from policies import supervisory, system
from policies.registry import RULES_BY_ID
from policies.rule import Severity
from projections.cases import find_finding
from projections.queue import (
    PAGE_ROWS_MAX,
    SORTS,
    QueuePage,
    QueueQuery,
    QueueRow,
    catch_up_owners,
    queue_page,
)
from projections.store.base import Store

RULE_IDS = (*RULES_BY_ID, system.RULE_ID, *supervisory.RULE_IDS)  # SUP-*: a regulator's store
SEVERITIES: tuple[str, ...] = get_args(Severity)
log = structlog.get_logger("regledger.queue")
ME = "me"  # the assignee filter's word for the officer asking ("my queue")


@dataclass(frozen=True, slots=True)
class QueueAsk:
    """The queue's filters as typed (by the CLI's options, the API's or the console's query)."""

    rule_ids: Sequence[str] = ()
    severities: Sequence[str] = ()
    subject: str | None = None
    since: str | None = None
    until: str | None = None
    case_status: str | None = None
    assignee: str | None = None
    sort: str = "newest"
    limit: int | None = 100
    offset: int = 0


def one_of(option: str, given: Sequence[str], valid: Sequence[str]) -> None:
    unknown = [g for g in given if g not in valid]
    if unknown:
        near = [v for u in unknown for v in valid if v.lower() == u.strip().lower()]
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise InvalidRequest(f"{option}: unknown {', '.join(map(repr, unknown))}{hint}; one of {', '.join(valid)}")


def queue_query(ask: QueueAsk, me: str | None, prefix: str = "") -> QueueQuery:
    """Checks every filter (rule ids exactly as rulebook.md spells them: ``mf-06`` is refused,
    not silently answered with nothing) and resolves ``me`` to the asking officer's name."""
    one_of(f"{prefix}rule", ask.rule_ids, RULE_IDS)
    one_of(f"{prefix}severity", ask.severities, SEVERITIES)
    one_of(f"{prefix}case-status" if prefix else "case_status", [ask.case_status] if ask.case_status else [], CASE_STATUSES)
    one_of(f"{prefix}sort", [ask.sort], tuple(SORTS))
    if ask.limit is not None and not 1 <= ask.limit <= PAGE_ROWS_MAX:
        raise InvalidRequest(f"limit: {ask.limit} is not from 1 to {PAGE_ROWS_MAX}")
    assignee = ask.assignee or None
    if assignee == ME:
        if not me:
            raise InvalidRequest("assignee: 'me' needs the operator's identity: set REGLEDGER_OPERATOR")
        assignee = me
    try:
        since = None if not ask.since else moment_of(ask.since, f"{prefix}since")
        until = None if not ask.until else moment_of(ask.until, f"{prefix}until", end_of_day=True)
    except ValueError as e:
        raise InvalidRequest(str(e)) from None
    return QueueQuery(
        rule_ids=tuple(ask.rule_ids), severities=tuple(ask.severities), subject=ask.subject or None,
        since=since, until=until, case_status=ask.case_status or None, assignee=assignee,
        sort=ask.sort, limit=ask.limit, offset=ask.offset,
    )


def read_queue(store: Store, ask: QueueAsk, me: str | None = None, prefix: str = "") -> QueuePage:
    """The page asked for; ``prefix`` is how the asker's options are spelled ("--" on the CLI)."""
    query = queue_query(ask, me, prefix)
    if query.subject is not None:
        try:
            build_audit_index(store).catch_up()  # whom the subject's ids belong to comes from it
            catch_up_owners(store)
        except (psycopg.Error, PersistenceError) as e:
            if not no_right_to_write(e):
                raise
            # a reader without the right to write (the regulator's database role) is served
            # from the owners filed so far, as `audit` serves it from the index as it is
            log.warning("finding_owners_not_caught_up", reason="no right to write the index")
    return queue_page(store, query)


def no_right_to_write(error: BaseException) -> bool:
    """The database refused a write for want of privilege (eventsourcing wraps psycopg's)."""
    return any(isinstance(e, psycopg.errors.InsufficientPrivilege) for e in (error, error.__cause__))


def queue_json(row: QueueRow, clock: datetime | None) -> dict[str, Any]:
    """A finding as ``findings --format json`` gives it (cli.md's keys) with its case status,
    assignee and age in seconds on the monitor's clock (``projections.queue.query``)."""
    age_s = None if clock is None else max(0, int((clock - row.finding.detected_at).total_seconds()))
    return {**finding_json(row.finding), "case_status": row.case_status, "assignee": row.assignee, "age_s": age_s}


# --- bulk case actions ----------------------------------------------------------------------
BULK_FINDINGS_MAX = 500  # one request, form or command: a screenful of pages, not a ledger
BULK_ACTIONS = ("acknowledge", "assign")
# One vocabulary for case actions: the API's words, with the CLI's short "ack" still accepted.
ACTION_ALIASES = {"ack": "acknowledge"}


def bulk_case_action(
    store: Store, finding_ids: Sequence[str], actor: str, action: str,
    assignee: str | None = None, note: str | None = None, actor_source: str | None = None,
) -> list[dict[str, Any]]:
    """Acknowledge or assign several findings' cases, one ledger event each; each finding's
    outcome is reported (one refused, e.g. already resolved, does not undo the others: each
    case is its own aggregate, and the officer sees exactly which were not done and why)."""
    action = ACTION_ALIASES.get(action, action)
    one_of("action", [action], BULK_ACTIONS)
    ids = list(dict.fromkeys(finding_ids))
    if not ids:
        raise InvalidRequest("choose at least one finding")
    if len(ids) > BULK_FINDINGS_MAX:
        raise InvalidRequest(f"at most {BULK_FINDINGS_MAX} findings at once, not {len(ids)}")
    if action == "assign" and not assignee:
        raise InvalidRequest("assign needs an assignee")
    cases = build_cases(store, actor_source)
    outcomes: list[dict[str, Any]] = []
    for finding_id in ids:
        row = find_finding(store, finding_id)
        if row is None:
            outcomes.append({"finding_id": finding_id, "done": False, "error": f"no finding {finding_id!r}"})
            continue
        ref = FindingRef.of(row)
        try:
            if action == "acknowledge":
                summary = cases.acknowledge(ref, actor, note)
            else:
                assert assignee is not None
                summary = cases.assign(ref, actor, assignee)
        except RegledgerError as e:
            outcomes.append({"finding_id": finding_id, "done": False, "error": str(e)})
        else:
            outcomes.append({"finding_id": finding_id, "done": True, "status": summary.status,
                             "assignee": summary.assignee})
    build_audit_index(store).catch_up()
    return outcomes

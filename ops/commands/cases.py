"""``regledger case ...``: the officers' workflow on a finding (acknowledge, assign, comment,
resolve with a code, reopen) and its history. Every action is an event on the ledger."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from domain.cases import RESOLUTION_CODES, Cases, CaseSummary, FindingRef
from domain.errors import NotFound
from ops.options import DbOption, database_url
from ops.queue import bulk_case_action
from ops.render import case_action_json, finding_json, hk_time, to_json, to_table
from ops.wiring import build_audit_index, build_cases, open_store
from projections.cases import case_history, case_summary, find_finding
from projections.store.base import Store

ActorOption = Annotated[str, typer.Option("--actor", help="the officer acting (recorded with the action)")]


class Output(StrEnum):
    json = "json"
    text = "text"


OutputOption = Annotated[Output, typer.Option("--format")]


def summary_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "finding_id": summary.finding_id, "case_id": summary.case_id, "status": summary.status,
        "assignee": summary.assignee, "resolution": summary.resolution,
        "updated_at": hk_time(summary.updated_at), "updated_by": summary.updated_by,
        "version": summary.version,
    }


def _act(db: str | None, finding_id: str, output: Output, action: Callable[[Cases, FindingRef], CaseSummary]) -> None:

    store = open_store(database_url(db))
    try:
        row = find_finding(store, finding_id)
        if row is None:
            raise NotFound(f"no finding {finding_id!r}")
        summary = action(build_cases(store), FindingRef(row.finding_id, row.rule_id, row.subject))
        build_audit_index(store).catch_up()
    finally:
        store.close()
    if output is Output.json:
        typer.echo(to_json(summary_json(summary)))
    else:
        extra = f", assigned to {summary.assignee}" if summary.assignee else ""
        code = f" ({summary.resolution})" if summary.resolution else ""
        typer.echo(f"case of {finding_id}: {summary.status}{code}{extra}; version {summary.version}")


def _bulk(db: str | None, finding_ids: list[str], output: Output, actor: str, action: str,
          assignee: str | None, note: str | None) -> None:
    """Several findings at once: each outcome is shown; exit 1 when any was not done (the
    others stay done, as ingest keeps the valid lines of a file with rejections)."""
    store = open_store(database_url(db))
    try:
        outcomes = bulk_case_action(store, finding_ids, actor, action, assignee, note)
    finally:
        store.close()
    if output is Output.json:
        typer.echo(to_json(outcomes))
    else:
        for o in outcomes:
            typer.echo(f"case of {o['finding_id']}: " + (o["status"] + (f", assigned to {o['assignee']}" if o["assignee"] else "")
                                                         if o["done"] else f"not done: {o['error']}"))
    if not all(o["done"] for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    case = typer.Typer(help="Each finding is a case: acknowledge (or ack), assign, comment, resolve, reopen.",
                       no_args_is_help=True)
    app.add_typer(case, name="case")

    # One vocabulary with the API: "acknowledge"; "ack", the older and shorter word, still works.
    def acknowledge(
        finding_ids: Annotated[list[str], typer.Argument(help="one finding id or several")], actor: ActorOption,
        note: Annotated[str | None, typer.Option(help="why, what next")] = None,
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """Acknowledge findings: someone is looking at them."""
        if len(finding_ids) == 1:
            _act(db, finding_ids[0], output, lambda cases, f: cases.acknowledge(f, actor, note))
        else:
            _bulk(db, finding_ids, output, actor, "acknowledge", None, note)

    case.command("acknowledge")(acknowledge)
    case.command("ack", help="The same as acknowledge.")(acknowledge)

    @case.command("assign")
    def assign(
        finding_ids: Annotated[list[str], typer.Argument(help="one finding id or several")], actor: ActorOption,
        to: Annotated[str, typer.Option("--to", help="the officer who takes the cases")],
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """Assign findings' cases to an officer."""
        if len(finding_ids) == 1:
            _act(db, finding_ids[0], output, lambda cases, f: cases.assign(f, actor, to))
        else:
            _bulk(db, finding_ids, output, actor, "assign", to, None)

    @case.command("comment")
    def comment(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption,
        text: Annotated[str, typer.Option("--text", help="the comment")],
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """Add a comment to the case."""
        _act(db, finding_id, output, lambda cases, f: cases.comment(f, actor, text))

    @case.command("resolve")
    def resolve(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption,
        code: Annotated[str | None, typer.Option("--code", help=" | ".join(RESOLUTION_CODES))] = None,
        note: Annotated[str | None, typer.Option(help="what was done")] = None,
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """Resolve the case with a resolution code. The finding itself is never changed."""
        _act(db, finding_id, output, lambda cases, f: cases.resolve(f, actor, code, note))

    @case.command("reopen")
    def reopen(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption,
        reason: Annotated[str | None, typer.Option(help="why it is reopened")] = None,
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """Reopen a resolved case."""
        _act(db, finding_id, output, lambda cases, f: cases.reopen(f, actor, reason))

    @case.command("show")
    def show(
        finding_id: Annotated[str, typer.Argument()],
        db: DbOption = None, output: OutputOption = Output.text,
    ) -> None:
        """The finding, the case's status and every action on it, with ledger positions."""

        store: Store = open_store(database_url(db))
        try:
            row = find_finding(store, finding_id)
            if row is None:
                raise NotFound(f"no finding {finding_id!r}")
            summary = case_summary(store, finding_id)
            actions = [case_action_json(a) for a in case_history(store, finding_id)]
        finally:
            store.close()
        result = {
            "finding": finding_json(row),
            "status": "open" if summary is None else summary.status,
            "assignee": None if summary is None else summary.assignee,
            "resolution": None if summary is None else summary.resolution,
            "actions": actions,
        }
        if output is Output.json:
            typer.echo(to_json(result))
            return
        typer.echo(f"{row.finding_id} {row.rule_id} {row.severity} {row.subject}: {row.message}")
        typer.echo(f"status {result['status']}" + (f" ({result['resolution']})" if result["resolution"] else "")
                   + (f", assigned to {result['assignee']}" if result["assignee"] else ""))
        rows = [
            {**a, "details": to_json({k: v for k, v in a.items() if k not in ("position", "recorded_at", "action", "actor", "at")})}
            for a in actions
        ]
        typer.echo(to_table(rows, ("position", "at", "action", "actor", "details"), f"{len(rows)} actions"), nl=False)

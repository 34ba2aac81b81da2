"""``regledger case ...``: the officers' workflow on a finding (acknowledge, assign, comment,
resolve with a code, approve or reject a resolution, escalate, reopen, group into an
investigation) and its history. Every action is an event on the ledger.

Who acts: the CLI has no log-in, so its operator is a setting (``REGLEDGER_OPERATOR``), set
per account by whoever administers the machine, and every event records it with
``actor_source: cli-setting``; an auditor then reads "the operator configured for the account
that ran the command", never a free-typed name. ``--actor`` stays accepted for scripts that
state who they expect to act as, but only when it matches the setting: a mismatch is refused,
so a flag can never put another officer's name on the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from domain.cases import RESOLUTION_CODES, Cases, CaseSummary, FindingRef
from domain.errors import InvalidRequest, NotFound
from ops.options import DbOption, database_url
from ops.queries import case_json
from ops.queue import bulk_case_action
from ops.render import TextFormat, finding_json, hk_time, to_json, to_table
from ops.settings import load_settings
from ops.wiring import build_audit_index, build_cases, open_store
from projections.cases import (
    case_summary,
    find_finding,
    finding_refs,
)
from projections.store.base import Store

ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="must equal REGLEDGER_OPERATOR, the officer the CLI acts as (recorded as cli-setting)")]
ACTOR_SOURCE = "cli-setting"


def operator(actor: str | None) -> str:
    """The CLI's acting officer: the configured operator; ``--actor`` only confirms it."""
    configured = load_settings().operator
    configured = configured.strip() if configured else None
    if not configured:
        raise InvalidRequest(
            "case actions from the command line act as REGLEDGER_OPERATOR, which is not set:"
            " set it to your officer name (export REGLEDGER_OPERATOR=NAME)"
        )
    if actor is not None and actor.strip() != configured:
        raise InvalidRequest(
            f"--actor {actor.strip()[:128]!r} is not REGLEDGER_OPERATOR ({configured!r}):"
            " the command line acts only as its configured operator"
        )
    return configured


OutputOption = Annotated[TextFormat, typer.Option("--format")]


def summary_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "finding_id": summary.finding_id, "case_id": summary.case_id, "status": summary.status,
        "assignee": summary.assignee, "resolution": summary.resolution,
        "updated_at": hk_time(summary.updated_at), "updated_by": summary.updated_by,
        "version": summary.version, "investigation_id": summary.investigation_id,
        "requested_by": summary.requested_by,
    }


def _act(db: str | None, finding_id: str, output: TextFormat, action: Callable[[Cases, FindingRef], CaseSummary]) -> None:
    _act_on_all(db, [finding_id], output, lambda cases, refs: [action(cases, refs[0])])


def _act_on_all(db: str | None, finding_ids: list[str], output: TextFormat,
                action: Callable[[Cases, list[FindingRef]], list[CaseSummary]]) -> None:
    store = open_store(database_url(db))
    try:
        summaries = action(build_cases(store, ACTOR_SOURCE), finding_refs(store, finding_ids))
        build_audit_index(store).catch_up()
    finally:
        store.close()
    for summary in summaries:
        if output is TextFormat.json:
            typer.echo(to_json(summary_json(summary)))
        else:
            typer.echo(f"case of {summary.finding_id}: {summary_text(summary)}; version {summary.version}")


def summary_text(summary: CaseSummary) -> str:
    """``pending_approval (remediated, asked by alice), assigned to bob, in investigation INV-1``."""
    code = f" ({summary.resolution})" if summary.resolution else ""
    asked = f" (asked by {summary.requested_by})" if summary.requested_by else ""
    extra = f", assigned to {summary.assignee}" if summary.assignee else ""
    group = f", in investigation {summary.investigation_id}" if summary.investigation_id else ""
    return f"{summary.status}{code}{asked}{extra}{group}"


def _bulk(db: str | None, finding_ids: list[str], output: TextFormat, actor: str, action: str,
          assignee: str | None, note: str | None) -> None:
    """Several findings at once: each outcome is shown; exit 1 when any was not done (the
    others stay done, as ingest keeps the valid lines of a file with rejections)."""
    store = open_store(database_url(db))
    try:
        outcomes = bulk_case_action(store, finding_ids, actor, action, assignee, note, ACTOR_SOURCE)
    finally:
        store.close()
    if output is TextFormat.json:
        typer.echo(to_json(outcomes))
    else:
        for o in outcomes:
            typer.echo(f"case of {o['finding_id']}: " + (o["status"] + (f", assigned to {o['assignee']}" if o["assignee"] else "")
                                                         if o["done"] else f"not done: {o['error']}"))
    if not all(o["done"] for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    case = typer.Typer(
        help="Each finding is a case: acknowledge (or ack), assign, comment, resolve, approve/reject"
             " (four-eyes), escalate, reopen, group. The CLI acts as REGLEDGER_OPERATOR.",
        no_args_is_help=True,
    )
    app.add_typer(case, name="case")

    # One vocabulary with the API: "acknowledge"; "ack", the older and shorter word, still works.
    def acknowledge(
        finding_ids: Annotated[list[str], typer.Argument(help="one finding id or several")],
        actor: ActorOption = None,
        note: Annotated[str | None, typer.Option(help="why, what next")] = None,
        db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Acknowledge findings: someone is looking at them."""
        if len(finding_ids) == 1:
            _act(db, finding_ids[0], output, lambda cases, f: cases.acknowledge(f, operator(actor), note))
        else:
            _bulk(db, finding_ids, output, operator(actor), "acknowledge", None, note)

    case.command("acknowledge")(acknowledge)
    case.command("ack", help="The same as acknowledge.")(acknowledge)

    @case.command("assign")
    def assign(
        finding_ids: Annotated[list[str], typer.Argument(help="one finding id or several")],
        to: Annotated[str, typer.Option("--to", help="the officer who takes the cases (a known officer)")],
        actor: ActorOption = None, db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Assign findings' cases to an officer."""
        if len(finding_ids) == 1:
            _act(db, finding_ids[0], output, lambda cases, f: cases.assign(f, operator(actor), to))
        else:
            _bulk(db, finding_ids, output, operator(actor), "assign", to, None)

    @case.command("comment")
    def comment(
        finding_id: Annotated[str, typer.Argument()],
        text: Annotated[str, typer.Option("--text", help="the comment")],
        actor: ActorOption = None, db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Add a comment to the case."""
        _act(db, finding_id, output, lambda cases, f: cases.comment(f, operator(actor), text))

    @case.command("resolve")
    def resolve(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption = None,
        code: Annotated[str | None, typer.Option("--code", help=" | ".join(RESOLUTION_CODES))] = None,
        note: Annotated[str | None, typer.Option(help="what was done")] = None,
        db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Resolve the case with a resolution code. For a severity under four-eyes closing
        (REGLEDGER_FOUR_EYES_SEVERITIES, by default critical,high) this asks a second officer's
        approval: the case is pending_approval until another officer approves or rejects it.
        The finding itself is never changed."""
        _act(db, finding_id, output, lambda cases, f: cases.resolve(f, operator(actor), code, note))

    @case.command("reopen")
    def reopen(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption = None,
        reason: Annotated[str | None, typer.Option(help="why it is reopened")] = None,
        db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Reopen a resolved case."""
        _act(db, finding_id, output, lambda cases, f: cases.reopen(f, operator(actor), reason))

    @case.command("approve")
    def approve(
        finding_id: Annotated[str, typer.Argument()], actor: ActorOption = None,
        note: Annotated[str | None, typer.Option(help="what was checked")] = None,
        db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Approve a resolution another officer asked for: the case is resolved."""
        _act(db, finding_id, output, lambda cases, f: cases.approve(f, operator(actor), note))

    @case.command("reject")
    def reject(
        finding_id: Annotated[str, typer.Argument()],
        reason: Annotated[str, typer.Option(help="why the resolution is not approved")],
        actor: ActorOption = None, db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Reject a resolution another officer asked for: the case returns to where it was."""
        _act(db, finding_id, output, lambda cases, f: cases.reject(f, operator(actor), reason))

    @case.command("escalate")
    def escalate(
        finding_id: Annotated[str, typer.Argument()],
        reason: Annotated[str, typer.Option(help="why it goes up (to whom, what is needed)")],
        actor: ActorOption = None, db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Escalate the case with a reason: its status becomes escalated."""
        _act(db, finding_id, output, lambda cases, f: cases.escalate(f, operator(actor), reason))

    @case.command("group")
    def group(
        finding_ids: Annotated[list[str], typer.Argument(help="the findings to group")],
        investigation: Annotated[str, typer.Option("--investigation", help="the investigation id, e.g. INV-2026-014")],
        reason: Annotated[str | None, typer.Option(help="why these belong together")] = None,
        actor: ActorOption = None, db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """Group several findings into one investigation (all or none)."""
        _act_on_all(db, finding_ids, output,
                    lambda cases, refs: cases.group(refs, operator(actor), investigation, reason))

    @case.command("show")
    def show(
        finding_id: Annotated[str, typer.Argument()],
        db: DbOption = None, output: OutputOption = TextFormat.text,
    ) -> None:
        """The finding, the case's status and every action on it, with ledger positions."""

        store: Store = open_store(database_url(db))
        try:
            row = find_finding(store, finding_id)
            if row is None:
                raise NotFound(f"no finding {finding_id!r}")
            summary = case_summary(store, finding_id)
            result = {"finding": finding_json(row), **case_json(store, finding_id)}
        finally:
            store.close()
        if output is TextFormat.json:
            typer.echo(to_json(result))
            return
        typer.echo(f"{row.finding_id} {row.rule_id} {row.severity} {row.subject}: {row.message}")
        typer.echo("status " + (summary_text(summary) if summary else "open"))
        if result["investigation_id"]:
            typer.echo(f"investigation {result['investigation_id']}: {', '.join(result['investigation_findings'])}")
        rows = [
            {**a, "details": to_json({k: v for k, v in a.items() if k not in CASE_ACTION_FIELDS})}
            for a in result["actions"]
        ]
        typer.echo(to_table(rows, ("position", "at", "action", "actor", "actor_source", "details"),
                            f"{len(rows)} actions"), nl=False)


CASE_ACTION_FIELDS = ("position", "recorded_at", "action", "actor", "actor_source", "at")

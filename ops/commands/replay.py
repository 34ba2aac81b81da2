"""``regledger replay``: the findings history gives as of a time, as the ledger knew it at a
time, under amended rule parameters; with ``--diff``, what that adds to and removes from the
findings recorded for the same events. Deterministic: the same inputs print the same bytes."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from domain.errors import InvalidRequest
from domain.parameters import coerce_parameter
from ops.options import DbOption, database_url, parse_time
from ops.render import Format, finding_json, to_csv, to_json, to_table
from ops.wiring import open_store
from policies.registry import RULES, parameter_catalogue
from projections.evidence.replay import ReplayWindow, as_row, diff, last_catalogue_position, replay

COLUMNS = ("finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at", "message")


def parse_override(text: str) -> tuple[tuple[str, str], object]:
    """``RULE_ID.param=value``: the value as the CLI gives it (a list for asset lists)."""
    name, equals, value = text.partition("=")
    rule_id, dot, parameter = name.partition(".")
    if not equals or not dot or not rule_id or not parameter:
        raise InvalidRequest(f"--set {text!r}: write RULE_ID.parameter=value, e.g. MF-05.min_haircut=0.7")
    catalogue = parameter_catalogue()
    if rule_id not in catalogue:
        raise InvalidRequest(f"--set {text!r}: no rule {rule_id!r} in the rulebook")
    kind = catalogue[rule_id].get(parameter)
    if kind is None:
        known = ", ".join(sorted(catalogue[rule_id])) or "none"
        raise InvalidRequest(f"--set {text!r}: rule {rule_id} has no parameter {parameter!r} (it has: {known})")
    raw: object = value
    if kind == "asset_list":
        # Reading: an asset list is a JSON array or comma-separated symbols; empty is none.
        try:
            raw = json.loads(value) if value.lstrip().startswith("[") else [s for s in value.split(",") if s]
        except json.JSONDecodeError:
            raise InvalidRequest(f"--set {text!r}: not a JSON array of asset symbols") from None
    try:
        coerce_parameter(kind, raw)
    except ValueError as e:
        raise InvalidRequest(f"--set {text!r}: {rule_id} {parameter} is a {kind}: {e}") from None
    return (rule_id, parameter), raw


def parse_overrides(texts: list[str]) -> dict[tuple[str, str], object]:
    overrides: dict[tuple[str, str], object] = {}
    for text in texts:
        key, value = parse_override(text)
        if key in overrides:  # reading: a regulator's two values for one parameter is a typo, not "last wins"
            raise InvalidRequest(f"--set: {key[0]}.{key[1]} is given twice")
        overrides[key] = value
    return overrides




def register(app: typer.Typer) -> None:

    @app.command("replay")
    def replay_command(
        db: DbOption = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="only events that occurred at or before this time (RFC 3339)")] = None,
        known_at: Annotated[str | None, typer.Option("--known-at", help="only events the ledger had recorded by this time")] = None,
        sets: Annotated[list[str] | None, typer.Option("--set", help="RULE_ID.param=value in force from the beginning of time (repeatable)")] = None,
        show_diff: Annotated[bool, typer.Option("--diff", help="list findings added and removed against those recorded")] = False,
        output: Annotated[Format, typer.Option("--format")] = Format.table,
    ) -> None:
        """Rebuild the monitor from the log in memory and print the findings it gives."""
        overrides = parse_overrides(sets or [])
        window = ReplayWindow(parse_time(as_of, "--as-of", end_of_day=True), parse_time(known_at, "--known-at", end_of_day=True))
        store = open_store(database_url(db))
        try:
            done = replay(store, window, overrides)
            changes = diff(store, done) if show_diff else None
            tracked = store.tracked_position()
            read = last_catalogue_position(store, done.through)  # case actions after it are no lag
        finally:
            store.close()
        if done.left_out_count:
            first = done.left_out[0]
            typer.echo(
                f"note: {done.left_out_count} events left out as they refer to what occurred after"
                f" --as-of (first: position {first.position}, {first.event_id}: {first.reason})",
                err=True,
            )
        if changes is not None and tracked < read:
            typer.echo(
                f"note: the live monitor has processed positions up to {tracked} of {read};"
                " findings after it are not recorded yet (run `regledger monitor`)",
                err=True,
            )
        if changes is not None:
            added = [finding_json(r) for r in changes.added]
            removed = [finding_json(r) for r in changes.removed]
            summary = by_rule(added, removed)
            if output is Format.json:
                typer.echo(to_json({"by_rule": summary, "added": added, "removed": removed}))
            else:
                if output is Format.table:
                    typer.echo(f"{len(added)} findings added, {len(removed)} removed")
                    typer.echo(to_table(summary, ("rule_id", "added", "removed"), "by rule"), nl=False)
                typer.echo(render_rows(added, output, f"{len(added)} findings added"), nl=False)
                typer.echo(render_rows(removed, output, f"{len(removed)} findings removed"), nl=False)
            return
        rows = [finding_json(as_row(f, seq)) for seq, f in enumerate(done.findings, 1)]
        if output is Format.json:
            typer.echo(to_json(rows))
        else:
            typer.echo(render_rows(rows, output, f"{len(rows)} findings replayed over {done.events} events"), nl=False)


def by_rule(added: list[dict[str, Any]], removed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the amendment changes, rule by rule (rulebook order), before the rows themselves:
    a regulator reads "MF-05: 140 added" before 140 lines."""
    order = {rule.rule_id: n for n, rule in enumerate(RULES)}
    counts: dict[str, dict[str, Any]] = {}
    for side, rows in (("added", added), ("removed", removed)):
        for row in rows:
            entry = counts.setdefault(row["rule_id"], {"rule_id": row["rule_id"], "added": 0, "removed": 0})
            entry[side] += 1
    return sorted(counts.values(), key=lambda e: (order.get(e["rule_id"], len(order)), e["rule_id"]))


def render_rows(rows: list[dict[str, Any]], output: Format, title: str) -> str:
    if output is Format.csv:
        return to_csv(rows, (*COLUMNS, "parameters"))
    return to_table(rows, COLUMNS, title)

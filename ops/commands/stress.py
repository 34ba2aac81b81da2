"""The risk manager's question: ``stress`` (who would be short, and what the firm would lose,
under shocked prices), over the state as of a moment. Never writes to the ledger."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.errors import InputUnreadable
from ops.commands.audit import opened
from ops.options import DbOption, parse_time
from ops.render import to_csv, to_json, to_table
from projections.stress.path import parse_path
from projections.stress.query import run_stress
from projections.stress.scenario import parse_shock

DETAIL_ROWS_MAX = 20  # per table in the table format; the JSON has every client
CSV_COLUMNS = (
    "scenario", "client_id", "lending_value_before", "lending_value_after", "debt",
    "shortfall_before", "shortfall_after", "margin_call",
)
TOTALS_COLUMNS = (
    "label", "total_shortfall_after", "margin_call_count", "liquidations", "loss_beyond_margin",
    "insurance_fund_before", "insurance_fund_after", "loss_sharing",
)


class StressFormat(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


def money(text: str | None) -> str:
    """An amount for people: HKD rounded to cents, thousands separated (the JSON is exact)."""
    return "" if text is None else format(Decimal(text), ",.2f")


def percent(text: str) -> str:
    return f"{Decimal(text) * 100:.2f}%"


def summary_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "scenario": s["label"],
            **({} if "total_shortfall_before" not in s else {"shortfall before": money(s["total_shortfall_before"])}),
            "shortfall after": money(s["total_shortfall_after"]),
            "calls": str(s["margin_call_count"]),
            "liquidations": str(s["liquidations"]),
            "loss beyond margin": money(s["loss_beyond_margin"]),
            "fund after": money(s["insurance_fund_after"]),
            "loss sharing": money(s["loss_sharing"]),
        }
        for s in result["scenarios"]
    ]


def _shown(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    more = len(rows) - DETAIL_ROWS_MAX
    return rows[:DETAIL_ROWS_MAX], (f"; {more} more in --format json" if more > 0 else "")


def scenario_tables(s: dict[str, Any]) -> str:
    short = sorted((c for c in s["clients"] if Decimal(c["shortfall_after"]) > 0),
                   key=lambda c: (-Decimal(c["shortfall_after"]), c["client_id"]))
    calls = {c["client_id"]: c for c in s["margin_calls"]}
    rows, more = _shown([
        {"client": c["client_id"], "LV before": money(c["lending_value_before"]),
         "LV after": money(c["lending_value_after"]), "debt": money(c["debt"]),
         "shortfall before": money(c["shortfall_before"]), "shortfall after": money(c["shortfall_after"]),
         "call due": money(calls[c["client_id"]]["amount"]) if c["client_id"] in calls else "open call"}
        for c in short
    ])
    out = to_table(rows, tuple(rows[0]) if rows else ("client",), f"{s['label']}: {len(short)} clients short{more}")
    liquidated, more = _shown([
        {"client": p["client_id"], "equity before": money(p["equity_before"]),
         "equity after": money(p["equity_after"]), "maintenance after": money(p["maintenance_after"]),
         "loss beyond margin": money(p["loss_beyond_margin"])}
        for p in s["perp_positions"] if p["liquidated"]
    ])
    out += to_table(liquidated, tuple(liquidated[0]) if liquidated else ("client",),
                    f"{s['label']}: {s['liquidations']} perpetual accounts liquidated{more}")
    c = s["concentration"]
    assets = [{"asset": a["asset"], "lending value": money(a["lending_value"]),
               "share of LV": percent(a["lending_value_share"]), "share of debt": percent(a["debt_share"])}
              for a in c["assets"]]
    out += to_table(assets, ("asset", "lending value", "share of LV", "share of debt"),
                    f"{s['label']}: concentration (LV {money(c['total_lending_value'])}, debt {money(c['total_debt'])})")
    return out


def render_table(result: dict[str, Any]) -> str:
    p = result["parameters"]
    head = (f"stress as of {result['as_of'] or 'an empty ledger'} (ledger position {result['ledger_position']}); "
            f"MF-05 min haircut {p['MF-05.min_haircut']}, eligible {', '.join(p['MF-04.eligible_assets'])}; "
            "amounts HKD\n")
    out = head + to_table(summary_rows(result), tuple(summary_rows(result)[0]), "scenarios")
    for s in result["scenarios"]:
        if s["kind"] != "ladder" and "clients" in s:  # --totals has no client
            out += scenario_tables(s)
    return out


def csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in result["scenarios"]:
        calls = {c["client_id"]: c["amount"] for c in s["margin_calls"]}
        for c in s["clients"]:
            rows.append({"scenario": s["label"], **c, "margin_call": calls.get(c["client_id"], "")})
    return rows


def register(app: typer.Typer) -> None:
    @app.command()
    def stress(
        db: DbOption = None,
        shock: Annotated[list[str] | None, typer.Option("--shock", help="ASSET=-30% or ASSET=PRICE (repeatable: applied together)")] = None,
        ladder: Annotated[list[str] | None, typer.Option("--ladder", help="ASSET: -10% to -60% in steps of 10, and its worst 1-day move (repeatable)")] = None,
        path: Annotated[str | None, typer.Option("--path", help="JSON Lines of PriceObserved-shaped prices, replayed in order")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="business time: the state as of then [default: everything]")] = None,
        known_at: Annotated[str | None, typer.Option("--known-at", help="ledger time: only what had been recorded by then")] = None,
        totals: Annotated[bool, typer.Option("--totals", help="each scenario's totals only (shortfall, calls, liquidations, losses, fund): fast enough for every price tick")] = False,
        output: Annotated[StressFormat, typer.Option("--format")] = StressFormat.table,
    ) -> None:
        """Who would be short, which margin calls and liquidations would be due, and what the
        insurance fund would cover, under shocked prices. Writes nothing."""
        moment, known = parse_time(as_of, "--as-of"), parse_time(known_at, "--known-at")
        shocks = [parse_shock(s) for s in shock or ()]
        points = parse_path(_read(path), path) if path is not None else []
        store = opened(db)
        try:
            result = run_stress(store, shocks=shocks, ladders=[a.strip() for a in ladder or ()], path=points,
                                as_of=moment, known_at=known, totals_only=totals)
        finally:
            store.close()
        if output is StressFormat.json:
            typer.echo(to_json(result))
        elif output is StressFormat.csv and totals:
            typer.echo(to_csv(result["scenarios"], TOTALS_COLUMNS), nl=False)
        elif output is StressFormat.csv:
            typer.echo(to_csv(csv_rows(result), CSV_COLUMNS), nl=False)
        else:
            typer.echo(render_table(result), nl=False)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InputUnreadable(f"--path {path}: {e.strerror or e}") from None

"""The nightly report's files: ``index.html`` (inline SVG, no external asset),
``report.json`` (sorted keys) and one CSV per table, in ``DIR/nightly-YYYY-MM-DD/``.

Nothing here reads a clock: the files are a function of the report value alone, so a rerun
on the same ledger gives byte-identical files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ops.render import csv_cell
from ops.report import charts

Report = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WrittenReport:
    directory: Path
    html: Path
    json: Path
    csv: tuple[Path, ...]


def _delta(change: int) -> Markup:
    if change > 0:
        return Markup(f'<span class="up">+{change}</span>')
    if change < 0:
        return Markup(f'<span class="down">−{-change}</span>')
    return Markup('<span class="muted">±0</span>')


def html(report: Report) -> str:
    env = Environment(loader=PackageLoader("ops.report", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["hkd"] = _hkd
    env.filters["pct"] = lambda share: f"{Decimal(share) * 100:.2f}%"
    env.filters["jv"] = lambda v: v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)
    template = env.get_template("nightly.html")
    return template.render(
        r=report, delta=_delta,
        heatmap=charts.findings_heatmap(report["history"], report["by_rule"]),
        totals=charts.daily_totals(report["history"]),
        coverage_chart=charts.coverage_histogram(report["coverage"]["distribution"]),
        stress_charts=_stress_charts(report),
    )


def _stress_charts(report: Report) -> list[Markup]:
    ladders = report["stress"]["ladders"]
    most = max((Decimal(r["total_shortfall_after"]) for ladder in ladders for r in ladder["rungs"]), default=Decimal(0))
    return [charts.stress_ladder(ladder, most) for ladder in ladders]


def _hkd(text: str | None) -> str:
    """An amount for people: to the cent, thousands separated (report.json keeps it exact)."""
    return "" if text is None else format(Decimal(text), ",.2f")


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "" if value is None else csv_cell(value)


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


# name -> (rows of the report, columns)
TABLES: dict[str, tuple[Callable[[Report], Sequence[Mapping[str, Any]]], tuple[str, ...]]] = {
    "findings-new": (lambda r: r["new_findings"], (
        "finding_id", "rule_id", "title", "severity", "subject", "event_id", "occurred_at", "detected_at",
        "position", "message", "evidence", "parameters")),
    "by-severity": (lambda r: r["by_severity"], (
        "severity", "new", "new_previous_day", "change", "open", "open_previous_day", "open_change", "resolved")),
    "by-rule": (lambda r: r["by_rule"], (
        "rule_id", "title", "severity", "new", "new_previous_day", "change", "open", "open_previous_day",
        "open_change", "resolved")),
    "by-subject": (lambda r: r["by_subject"], ("subject", "new", "new_previous_day", "change")),
    "overdue-obligations": (lambda r: r["overdue_obligations"], (
        "rule_id", "title", "subject", "started_by", "started_at", "deadline", "overdue_minutes")),
    "stale-cases": (lambda r: r["stale_cases"]["cases"], (
        "finding_id", "rule_id", "severity", "subject", "status", "opened_at", "age_days")),
    "coverage-closest": (lambda r: r["coverage"]["closest"], (
        "client_id", "debt", "lending_value", "coverage_ratio", "short")),
    "coverage-distribution": (lambda r: r["coverage"]["distribution"], ("bucket", "clients")),
    "perpetual-exposures": (lambda r: r["perpetual_exposures"]["largest"], (
        "client_id", "notional", "equity", "maintenance_requirement", "equity_to_maintenance", "positions")),
    "insurance-fund": (lambda r: r["insurance_fund"]["movements"], (
        "event_id", "occurred_at", "kind", "amount", "detail")),
    "quarantine": (lambda r: r["quarantine"]["lines"], (
        "id", "origin", "line", "event_id", "received_at", "reasons")),
    "history": (lambda r: r["history"], ("date", "total", "by_rule")),
    "stress-ladders": (lambda r: [{"asset": x["asset"], **rung} for x in r["stress"]["ladders"] for rung in x["rungs"]], (
        "asset", "label", "shock", "total_shortfall_after", "margin_call_count", "liquidations",
        "loss_beyond_margin", "insurance_fund_after", "loss_sharing")),
    "stress-first-short": (lambda r: r["stress"]["first_short"], (
        "client_id", "asset", "at", "shortfall", "lending_value", "debt")),
}


def write_report(report: Report, out_dir: Path) -> WrittenReport:
    directory = out_dir / f"nightly-{report['date']}"
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(html(report), encoding="utf-8", newline="\n")
    data = directory / "report.json"
    data.write_text(json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
    tables = []
    for name, (rows, columns) in TABLES.items():
        path = directory / f"{name}.csv"
        path.write_text(_csv(rows(report), columns), encoding="utf-8", newline="\n")
        tables.append(path)
    return WrittenReport(directory, page, data, tuple(tables))

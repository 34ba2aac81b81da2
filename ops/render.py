"""Turning rows into the output formats of cli.md: json, csv and table."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from domain.values import time_text
from projections.explain.plain import money_in_text as money_text
from projections.store.base import FindingRow

HONG_KONG = ZoneInfo("Asia/Hong_Kong")

# A spreadsheet reads a cell that starts with one of these as a formula (OWASP's list); a
# plain decimal such as a negative amount "-5000.00" is data and is written as it is.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
TABLE_WIDTH_FALLBACK = 120  # when standard output is not a terminal and COLUMNS is unset
# cli.md's keys of a finding, as ``findings --format csv`` writes them; a row of the alert queue
# adds its case's status, assignee and age in seconds.
FINDING_COLUMNS = ("finding_id", "rule_id", "severity", "event_id", "subject", "occurred_at", "detected_at", "message")
FINDING_CSV_COLUMNS = (*FINDING_COLUMNS, "parameters", "case_status", "assignee", "age_s")
# The table is what an officer scans: the case columns in, the ids a script needs in the JSON.
FINDING_TABLE_COLUMNS = ("finding_id", "rule_id", "severity", "subject", "detected_at", "case_status", "assignee", "age",
                         "message")


class Format(StrEnum):
    """``--format`` of the commands that print rows: JSON, CSV or a table."""

    json = "json"
    csv = "csv"
    table = "table"


class TextFormat(StrEnum):
    """``--format`` of the commands that print JSON or text for a reader."""

    json = "json"
    text = "text"


def hk_time(moment: datetime) -> str:
    """Business time is shown in Hong Kong time; the instant is what counts."""
    return time_text(moment, HONG_KONG)


def case_action_json(action: Any) -> dict[str, Any]:
    """A case action (``projections.cases.RecordedCaseAction``) with its times in Hong Kong time, as
    findings show theirs: one zone in everything an officer reads."""
    return {**action.as_json(), "recorded_at": hk_time(action.recorded_at), "at": hk_time(action.fact.at)}


def finding_json(row: FindingRow) -> dict[str, Any]:
    return {
        "finding_id": row.finding_id,
        "rule_id": row.rule_id,
        "severity": row.severity,
        "event_id": row.event_id,
        "subject": row.subject,
        "occurred_at": hk_time(row.occurred_at),
        "detected_at": hk_time(row.detected_at),
        "message": row.message,
        "parameters": json.loads(row.parameters),
        "evidence": json.loads(row.evidence),
        "position": row.position,
    }


def render_findings(rows: Sequence[Mapping[str, Any]], output: Format, title: str = "findings") -> str:
    """Findings as ``findings`` and ``check`` print them, rows of ``finding_json`` (with the
    case columns when the alert queue gave them): the whole text, ending in a newline."""
    if output is Format.json:
        return to_json(list(rows)) + "\n"
    if output is Format.csv:
        return to_csv(rows, FINDING_CSV_COLUMNS)
    shown = [{**row, "age": age_text(row.get("age_s")), "detected_at": table_time(row["detected_at"])} for row in rows]
    return to_table(shown, FINDING_TABLE_COLUMNS, title)


def table_time(moment_text: str) -> str:
    """``2026-03-04T18:28:21.386000+08:00`` as ``2026-03-04 18:28:21 +08:00`` for a table cell."""
    return f"{moment_text[:10]} {moment_text[11:19]} {moment_text[-6:]}"


def age_text(age_s: int | None) -> str:
    if age_s is None:
        return ""
    days, rest = divmod(age_s, 86_400)
    hours, rest = divmod(rest, 3_600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def csv_cell(value: Any) -> Any:
    """A cell that a spreadsheet cannot run: text that would start a formula (free text from
    upstream or an officer can hold anything) is prefixed with a single quote, which
    spreadsheets show as text and do not evaluate.

    A carriage return inside text is written as a line feed: Python 3.11's csv writer quotes a
    field for the characters of its line terminator only ("\n" here), so a bare CR went out
    unquoted and a spreadsheet started a new row there, whose first cell could be a formula."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) and not PLAIN_DECIMAL.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: csv_cell(to_json(v) if isinstance(v, (dict, list)) else v) for k, v in row.items()}
        )
    return out.getvalue()


def to_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str, width: int | None = None) -> str:
    """A table as wide as the terminal (long cells wrap within their column)."""
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(money_text("" if row.get(c) is None else str(row[c])) for c in columns))
    width = width or shutil.get_terminal_size((TABLE_WIDTH_FALLBACK, 24)).columns
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.export_text()


def flat_rows(value: Any, prefix: str = "") -> list[dict[str, str]]:
    """A nested JSON value as (path, value) rows, for the table format."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flat_rows(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [row for i, v in enumerate(value) for row in flat_rows(v, f"{prefix}[{i}]")]
    return [{"field": prefix, "value": to_json(value) if isinstance(value, list) else str(value)}]

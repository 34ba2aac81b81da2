"""Inline SVG charts for the nightly report, computed here: no script, no external asset.

Coordinates are integers or fixed-point text, so the same report always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

FAMILY_COLOURS = {"PI": "#7b3294", "MF": "#c2410c", "PERP": "#1d4ed8", "MM": "#047857"}
EMPTY = "#f1f5f9"
INK = "#0f172a"
MUTED = "#64748b"
OPACITY_STEPS = ("0.3", "0.55", "0.8", "1")


def _family(rule_id: str) -> str:
    return rule_id.split("-", 1)[0]


def _shade(colour: str, count: int, most: int) -> str:
    """Fill attributes: the family colour, paler for fewer findings (4 steps of opacity)."""
    if count == 0:
        return f'fill="{EMPTY}"'
    step = 1 + (3 * (count - 1)) // max(1, most - 1) if most > 1 else 4
    return f'fill="{colour}" fill-opacity="{OPACITY_STEPS[step - 1]}"'


def findings_heatmap(history: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]]) -> Markup:
    """Rules down, the last 30 days across; each cell the findings detected that day."""
    cell, gap, left, top = 22, 2, 210, 40
    width = left + len(history) * (cell + gap) + 60
    height = top + len(rules) * (cell + gap) + 40
    most = max((int(day["by_rule"].get(r["rule_id"], 0)) for day in history for r in rules), default=0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Findings per rule over the last 30 days" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">']
    for i, day in enumerate(history):
        x = left + i * (cell + gap)
        if i % 5 == 0 or i == len(history) - 1:
            parts.append(f'<text x="{x + cell // 2}" y="{top - 8}" text-anchor="middle" fill="{MUTED}">{escape(day["date"][5:])}</text>')
    for j, rule in enumerate(rules):
        y = top + j * (cell + gap)
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">{escape(rule["rule_id"])}</text>')
        colour = FAMILY_COLOURS.get(_family(rule["rule_id"]), INK)
        for i, day in enumerate(history):
            count = int(day["by_rule"].get(rule["rule_id"], 0))
            x = left + i * (cell + gap)
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="3" {_shade(colour, count, most)}>'
                         f'<title>{escape(rule["rule_id"])} on {escape(day["date"])}: {count}</title></rect>')
            if count:
                parts.append(f'<text x="{x + cell // 2}" y="{y + 15}" text-anchor="middle" fill="#ffffff">{count}</text>')
        parts.append(f'<text x="{left + len(history) * (cell + gap) + 6}" y="{y + 15}" fill="{MUTED}">'
                     f'{sum(int(d["by_rule"].get(rule["rule_id"], 0)) for d in history)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def coverage_histogram(distribution: Sequence[Mapping[str, Any]]) -> Markup:
    """Clients with debt, by coverage ratio bucket; the short bucket in red."""
    bar, gap, left, top, plot_h = 90, 14, 40, 20, 180
    width = left + len(distribution) * (bar + gap) + 20
    height = top + plot_h + 50
    most = max((int(b["clients"]) for b in distribution), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Coverage distribution" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="{MUTED}"/>']
    for i, bucket in enumerate(distribution):
        n = int(bucket["clients"])
        h = (plot_h * n) // most
        x = left + i * (bar + gap)
        colour = "#dc2626" if i == 0 else "#2563eb"
        parts.append(f'<rect x="{x}" y="{top + plot_h - h}" width="{bar}" height="{max(h, 1) if n else 0}" fill="{colour}">'
                     f'<title>{escape(bucket["bucket"])}: {n} clients</title></rect>')
        parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h - h - 4}" text-anchor="middle" fill="{INK}">{n}</text>')
        parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h + 18}" text-anchor="middle" fill="{MUTED}">{escape(bucket["bucket"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def daily_totals(history: Sequence[Mapping[str, Any]]) -> Markup:
    """Findings detected per day over the last 30 days, as bars."""
    bar, gap, left, top, plot_h = 18, 6, 30, 16, 90
    width = left + len(history) * (bar + gap) + 10
    height = top + plot_h + 24
    most = max((int(d["total"]) for d in history), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Findings per day" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">']
    for i, day in enumerate(history):
        n = int(day["total"])
        h = (plot_h * n) // most
        x = left + i * (bar + gap)
        last = i == len(history) - 1
        parts.append(f'<rect x="{x}" y="{top + plot_h - h}" width="{bar}" height="{h}" fill="{"#0f766e" if last else "#94a3b8"}">'
                     f'<title>{escape(day["date"])}: {n}</title></rect>')
        if n:
            parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h - h - 3}" text-anchor="middle" fill="{INK}">{n}</text>')
        if i % 5 == 0 or last:
            parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h + 14}" text-anchor="middle" fill="{MUTED}">{escape(day["date"][5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stress_ladder(ladder: Mapping[str, Any], most: Decimal) -> Markup:
    """One asset's ladder: the total shortfall after each shock as a bar (on a scale shared by
    every ladder, ``most``), the margin calls that would be due written above it."""
    bar, gap, left, top, plot_h = 64, 16, 16, 30, 150
    rungs = ladder["rungs"]
    width = left + len(rungs) * (bar + gap) + 10
    height = top + plot_h + 44
    asset = escape(ladder["asset"])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Stress ladder of {asset}: shortfall and calls by shock" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="14" fill="{INK}" font-weight="bold">{asset}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="{MUTED}"/>']
    for i, rung in enumerate(rungs):
        shortfall = Decimal(rung["total_shortfall_after"])
        h = int(shortfall * plot_h / most) if most > 0 else 0
        x = left + i * (bar + gap)
        calls = int(rung["margin_call_count"])
        parts.append(f'<rect x="{x}" y="{top + plot_h - h}" width="{bar}" height="{max(h, 1) if shortfall else 0}" fill="#dc2626">'
                     f'<title>{escape(rung["label"])}: shortfall HKD {escape(rung["total_shortfall_after"])}, {calls} calls</title></rect>')
        parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h - h - 4}" text-anchor="middle" fill="{INK}">{calls} calls</text>')
        move = escape(format(Decimal(rung["shock"]) * 100, "f").rstrip("0").rstrip("."))
        parts.append(f'<text x="{x + bar // 2}" y="{top + plot_h + 16}" text-anchor="middle" fill="{MUTED}">{move}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

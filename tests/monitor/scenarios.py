"""The shared scenarios as recorded events, and their expected findings."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from domain.events import RecordedEvent, parse_line
from policies.finding import Finding
from tests.monitor.builders import RECORDED_AT

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
NAMES = ("mf-day", "perp-day", "mm-day")
Triple = tuple[str, str, str]


def recorded(name: str) -> list[RecordedEvent]:
    lines = (SCENARIOS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [RecordedEvent(i, RECORDED_AT, parse_line(line)[0]) for i, line in enumerate(lines, 1)]


def expected(name: str) -> Counter[Triple]:
    rows = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))
    return Counter((r["rule_id"], r["event_id"], r["subject"]) for r in rows)


def triples(findings: Iterable[Finding]) -> Counter[Triple]:
    return Counter((f.rule_id, f.event_id, f.subject) for f in findings)

"""Parameters in force: amendments, their effective dates, and what-if overrides."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from domain.errors import InvalidRequest
from domain.events import RecordedEvent, parse_line
from projections.monitor.engine import MonitorEngine
from tests.monitor.builders import RECORDED_AT, Stream, instant
from tests.monitor.scenarios import expected, recorded, triples


def with_inserted(events: list[RecordedEvent], after: int, line: dict[str, object]) -> list[RecordedEvent]:
    envelopes = [e.envelope for e in events]
    envelopes.insert(after, parse_line(json.dumps(line))[0])
    return [RecordedEvent(i, RECORDED_AT, env) for i, env in enumerate(envelopes, 1)]


def amendment(event_id: str, at: str, value: str, effective_from: str) -> dict[str, object]:
    return {"event_id": event_id, "type": "RuleParameterAmended", "occurred_at": at,
            "data": {"rule_id": "MF-05", "parameter": "min_haircut", "value": value,
                     "effective_from": effective_from, "notice_ref": "SFC notice"}}


def test_override_of_min_haircut_on_mf_day_gives_the_findings_the_rulebook_implies() -> None:
    engine = MonitorEngine({("MF-05", "min_haircut"): Decimal("0.7")})
    findings = [f for e in recorded("mf-day") for f in engine.process(e)]
    # At 0.7: P1's 0.6 and P2's 0.65 are under-haircut; C1's lending value at the draw is
    # exactly its debt (10 x 500000 x 0.3 = 1500000, not short), the 447000 tick leaves it
    # short (1341000) and the 60-minute deadline passes at the next tick; it then stays short
    # to the end, so no second obligation opens.
    assert triples(findings) == Counter({
        ("MF-05", "mf-day-0015", "P1"): 1, ("MF-07", "mf-day-0017", "C1"): 1,
        ("MF-05", "mf-day-0028", "P2"): 1, ("MF-01", "mf-day-0029", "L2"): 1,
        ("MF-04", "mf-day-0035", "P3"): 1, ("MF-05", "mf-day-0036", "P4"): 1,
        ("MF-02", "mf-day-0037", "C3"): 1, ("MF-10", "mf-day-0038", "P1"): 1,
    })
    late = next(f for f in findings if f.rule_id == "MF-07")
    assert late.detected_at == instant("2026-03-02T12:00:17+08:00")
    assert late.parameters == {"margin_call_within_minutes": 60, "eligible_assets": ["BTC", "ETH"],
                               "min_haircut": "0.7"}
    haircut = next(f for f in findings if f.subject == "P4")
    assert haircut.parameters == {"min_haircut": "0.7", "eligible_assets": ["BTC", "ETH"]}


def test_future_dated_raise_of_min_haircut_takes_effect_at_the_first_event_at_or_after_it() -> None:
    raised = amendment("notice-1", "2026-03-02T09:30:00+08:00", "0.65", "2026-03-02T11:30:00+08:00")
    events = with_inserted(recorded("mf-day"), 16, raised)
    engine = MonitorEngine()
    findings = [f for e in events for f in engine.process(e)]
    # P1 (BTC at 0.6) was open when the raise took effect, at the 12:00:17 tick; P2 at exactly
    # 0.65 complies; P4 at 0.5 is caught when pledged.
    assert triples(findings) == expected("mf-day") + Counter({("MF-05", "notice-1", "P1"): 1})
    effect = next(f for f in findings if f.event_id == "notice-1")
    assert (effect.occurred_at, effect.detected_at) == (
        instant("2026-03-02T09:30:00+08:00"), instant("2026-03-02T12:00:17+08:00"))
    assert effect.parameters == {"min_haircut": "0.65", "eligible_assets": ["BTC", "ETH"]}
    assert effect.evidence["previous_min_haircut"] == "0.6"


def test_an_amendment_already_effective_takes_effect_with_its_own_event() -> None:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.pledge("P1", "C1", "BTC", "1", "0.6")
    found = s.amend("MF-05", "min_haircut", "0.7", "2026-03-01T00:00:00+08:00")
    assert [(f.rule_id, f.event_id, f.subject, f.detected_at) for f in found] == [
        ("MF-05", s.last_id, "P1", s.last_at)]


def test_lowering_min_haircut_raises_nothing() -> None:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.pledge("P1", "C1", "BTC", "1", "0.6")
    assert s.amend("MF-05", "min_haircut", "0.5", "2026-03-01T00:00:00+08:00") == []


def test_raise_is_judged_against_the_value_in_force_just_before_its_effective_time() -> None:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.pledge("P1", "C1", "BTC", "1", "0.6")
    # 0.8 from 12:00, then a later notice of 0.7 from 13:00: the second lowers, raising nothing.
    s.amend("MF-05", "min_haircut", "0.8", "2026-03-02T12:00:00+08:00")
    s.amend("MF-05", "min_haircut", "0.7", "2026-03-02T13:00:00+08:00")
    found = s.price("BTC", "500000", at="2026-03-02T14:00:00+08:00")
    assert [(f.rule_id, f.subject, f.parameters["min_haircut"]) for f in found] == [
        ("MF-05", "P1", "0.8")]


def test_a_late_event_is_judged_with_the_parameters_in_force_at_its_own_time() -> None:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.amend("MF-05", "min_haircut", "0.7", "2026-03-02T12:00:00+08:00")
    s.price("BTC", "500000", at="2026-03-02T12:30:00+08:00")
    assert s.pledge("P1", "C1", "BTC", "1", "0.65", at="2026-03-02T11:00:00+08:00") == []
    found = s.pledge("P2", "C1", "BTC", "1", "0.65", at="2026-03-02T12:00:00+08:00")
    assert [(f.rule_id, f.subject) for f in found] == [("MF-05", "P2")]


def test_of_two_amendments_with_the_same_effective_time_the_later_recorded_wins() -> None:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.amend("MF-05", "min_haircut", "0.9", "2026-03-02T10:00:00+08:00")
    s.amend("MF-05", "min_haircut", "0.65", "2026-03-02T10:00:00+08:00")
    found = s.pledge("P1", "C1", "BTC", "1", "0.7", at="2026-03-02T10:30:00+08:00")
    assert found == []


def test_unknown_or_mistyped_overrides_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        MonitorEngine({("MF-05", "max_haircut"): Decimal("0.7")})
    with pytest.raises(InvalidRequest):
        MonitorEngine({("MF-07", "margin_call_within_minutes"): "soon"})


def test_amendments_survive_a_restore_including_the_pending_ones() -> None:
    raised = amendment("notice-1", "2026-03-02T09:30:00+08:00", "0.65", "2026-03-02T11:30:00+08:00")
    events = with_inserted(recorded("mf-day"), 16, raised)
    whole = MonitorEngine()
    findings = [f for e in events for f in whole.process(e)]
    first = MonitorEngine()
    head = [f for e in events[:17] for f in first.process(e)]
    restored = MonitorEngine.restore(list(first.iter_records()))
    assert head + [f for e in events[17:] for f in restored.process(e)] == findings

"""Any event the validator accepts goes through ingest, the monitor, the audit index, `state`,
`explain`, `findings`, the nightly report, `export`, `verify --projections` and `replay`
without an unhandled error (exit 70) or a SYS-01 finding, on both stores.

The events are a day of all 35 catalogue types (``catalogue_day``) with some of their values
replaced by extreme but valid ones of their field's type: Decimals of 40 digits, large and
tiny, Timestamps at both ends of events.md's range with any offset, Dates from year 1 to 9999,
integers of 40 digits, free text of 1000 characters (tabs, line breaks, any script, CSV formula
starters), sources of 64. A replacement ingest refuses is quarantined, which the report shows.
"""

from __future__ import annotations

import json
import string
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

import ops.cli
from domain.ledger import InputLine
from domain.values import TIME_END, TIME_MIN, time_in_range
from ops.options import REPORT_DAY_FIRST, REPORT_DAY_LAST
from ops.wiring import build_audit_index, build_ledger, build_monitor
from policies import system
from projections.nightly.window import HONG_KONG
from projections.store import open_store
from projections.store.base import FindingFilter
from tests.conftest import fresh_store_url
from tests.downstream.catalogue_day import envelopes

DEFAULT_EXAMPLES = 4
SLOW_EXAMPLES = 60
REPLACEMENTS_MAX = 6
EXPLAINED_MAX = 6
DIGITS_MAX = 40
OFFSET_MINUTES_MAX = 23 * 60 + 59
ID_CHARS = string.ascii_letters + string.digits + "._:-"

# Counted over a session, for the closing note: examples run and values put in.
TRIED = {"examples": 0, "values": 0}


def _decimal_text(digits: str, point: int, negative: bool) -> str:
    whole, fraction = digits[:point] or "0", digits[point:]
    text = f"{whole}.{fraction}" if fraction else whole
    if len(text.replace(".", "")) > DIGITS_MAX:  # "0." before 40 fraction digits is one more
        text = text[1:] if text.startswith("0.") else text
        text = f"0{text}" if text.startswith(".") else text
    return f"-{text}" if negative and Decimal(text) != 0 else text


@st.composite
def decimals(draw: st.DrawFn) -> str:
    """Plain decimals of 1-40 digits: the largest, the tiniest and anything between."""
    shape = draw(st.sampled_from(["max", "tiny", "any"]))
    if shape == "max":
        return "9" * DIGITS_MAX
    if shape == "tiny":
        return "0." + "0" * (DIGITS_MAX - 2) + "1"
    digits = draw(st.text("0123456789", min_size=1, max_size=DIGITS_MAX))
    point = draw(st.integers(1, len(digits)))
    return _decimal_text(digits, point, draw(st.booleans()))


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Any instant of [1970, 2200) UTC, at any offset, to the microsecond, edges included."""
    minutes = draw(st.integers(-OFFSET_MINUTES_MAX, OFFSET_MINUTES_MAX))
    offset = timezone(timedelta(minutes=minutes))
    edge = draw(st.sampled_from(["first", "last", "any"]))
    if edge == "first":
        moment = TIME_MIN
    elif edge == "last":
        moment = TIME_END - timedelta(microseconds=1)
    else:
        moment = draw(st.datetimes(TIME_MIN.replace(tzinfo=None),
                                   (TIME_END - timedelta(microseconds=1)).replace(tzinfo=None)))
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(offset)
    assert time_in_range(local)
    text = local.isoformat()
    return text if minutes else text.replace("+00:00", draw(st.sampled_from(["Z", "+00:00"])))


def dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([date.min, date.max]), st.dates()
    ).map(date.isoformat)


def texts(max_size: int) -> st.SearchStrategy[str]:
    allowed = st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(
        chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
    starters = st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\tx", "\rx",
                                "<script>alert(1)</script>", "' OR 1=1 --"])
    return st.one_of(starters, st.text(allowed, min_size=1, max_size=max_size),
                     st.just("x" * max_size))


def ids() -> st.SearchStrategy[str]:
    return st.one_of(st.text(ID_CHARS, min_size=1, max_size=128), st.just("x" * 128))


def _leaves(obj: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, obj


def _kind(path: tuple[str, ...], value: Any) -> str | None:
    """The value type of a field, read off the skeleton's own value and name."""
    name = path[-1]
    if name in ("type",) or path == ("event_id",):
        return None  # which model, and the idempotency key: not values
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if value is None:
        return "decimal" if name == "limit_price" else None
    if name in ("occurred_at", "due_by", "effective_from"):
        return "timestamp"
    if name == "assessed_on":
        return "date"
    if name == "source":
        return "source"
    if name in ("reason", "purpose", "issuer", "legal_entity", "notice_ref", "price_source",
                "destination", "version", "actor_id"):
        return "text"
    if name.endswith("_id") or name in ("mm_id",):
        return "id"
    try:
        Decimal(value)
    except ArithmeticError:
        return None  # an enumeration or an asset symbol: a reference, left as it is
    return "decimal"


def _value_for(kind: str) -> st.SearchStrategy[Any]:
    return {
        "bool": st.booleans(), "int": st.one_of(st.just(10**DIGITS_MAX - 1), st.integers(0, 10**DIGITS_MAX - 1)),
        "timestamp": timestamps(), "date": dates(), "source": texts(64), "text": texts(1000),
        "id": ids(), "decimal": decimals(),
    }[kind]


@st.composite
def days_with_extremes(draw: st.DrawFn) -> list[dict[str, Any]]:
    events = envelopes()
    slots = [(n, path, kind) for n, event in enumerate(events)
             for path, value in _leaves(event) if (kind := _kind(path, value)) is not None]
    for n, path, kind in draw(st.lists(st.sampled_from(slots), min_size=1, max_size=REPLACEMENTS_MAX)):
        target = events[n]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(_value_for(kind))
        note(f"{events[n]['event_id']} {'.'.join(path)} = {target[path[-1]]!r}")
        TRIED["values"] += 1
    return events


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str,
         *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["regledger", *args, "--db", url])
    with pytest.raises(SystemExit) as done:
        ops.cli.main()
    captured = capsys.readouterr()
    code = int(done.value.code or 0)
    assert code != 70 and "internal error" not in captured.err, (args, captured.err)
    return code, captured.out


def _report_days(events: list[dict[str, Any]]) -> list[str]:
    days = {REPORT_DAY_FIRST, REPORT_DAY_LAST, date(2026, 3, 2)}
    for event in events:
        try:
            moment = datetime.fromisoformat(event["occurred_at"])
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None and time_in_range(moment):
            day = moment.astimezone(HONG_KONG).date()
            if REPORT_DAY_FIRST <= day <= REPORT_DAY_LAST:
                days.add(day)
    return sorted(d.isoformat() for d in days)[:6]


def goes_through_everything(url: str, events: list[dict[str, Any]], out: Path,
                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    TRIED["examples"] += 1
    monkeypatch.setattr(ops.cli, "configure_logging", lambda *args: None)
    lines = [InputLine("day", n, json.dumps(e, ensure_ascii=False).encode()) for n, e in enumerate(events, 1)]
    with capture_logs() as logs:
        store = open_store(url, create=True)
        try:
            build_ledger(store).ingest(iter(lines))
            build_monitor(store).catch_up()
            build_audit_index(store).catch_up()
            found = store.findings(FindingFilter())
        finally:
            store.close()
        assert [f.message for f in found if f.rule_id == system.RULE_ID] == []
        for output in ("json", "csv", "table"):
            _cli(monkeypatch, capsys, url, "findings", "--format", output)
            _cli(monkeypatch, capsys, url, "audit", "--format", output)
            _cli(monkeypatch, capsys, url, "quarantine", "list", "--format", output)
        for subject in (["C1"], ["C2"], ["M1"], ["--contract", "BTC-PERP"], ["--market-maker", "MM-A"]):
            _cli(monkeypatch, capsys, url, "state", *subject)
            _cli(monkeypatch, capsys, url, "state", *subject, "--as-of", "2199-12-31T23:59:59Z")
        for row in found[:EXPLAINED_MAX]:
            code, _ = _cli(monkeypatch, capsys, url, "explain", row.finding_id)
            assert code == 0
        for day in _report_days(events):
            code, _ = _cli(monkeypatch, capsys, url, "report", "nightly", "--date", day,
                           "--out", str(out))
            assert code in (0, 4)
            report = json.loads((out / f"nightly-{day}" / "report.json").read_text())
            assert report["date"] == day
        assert _cli(monkeypatch, capsys, url, "export", "--out", str(out / "export.jsonl"))[0] == 0
        assert _cli(monkeypatch, capsys, url, "verify", "--projections")[0] == 0
        assert _cli(monkeypatch, capsys, url, "replay")[0] == 0
    assert [entry for entry in logs if entry["log_level"] in ("error", "critical")] == []


def test_the_unchanged_catalogue_day_goes_through_everything(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    goes_through_everything(store_url, envelopes(), tmp_path, monkeypatch, capsys)
    store = open_store(store_url)
    try:
        assert store.tip().position == len(envelopes())  # every event of the skeleton accepted
    finally:
        store.close()


def _property(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str], events: list[dict[str, Any]]) -> None:
    out = tmp_path / f"run-{TRIED['examples']}"
    with fresh_store_url(kind, out) as url:
        goes_through_everything(url, events, out, monkeypatch, capsys)


def _examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@_examples(DEFAULT_EXAMPLES)
@given(events=days_with_extremes())
def test_a_day_with_extreme_valid_values_goes_through_everything(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], events: list[dict[str, Any]],
) -> None:
    _property(kind, tmp_path, monkeypatch, capsys, events)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@_examples(SLOW_EXAMPLES)
@given(events=days_with_extremes())
def test_many_days_with_extreme_valid_values_go_through_everything(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], events: list[dict[str, Any]],
) -> None:
    _property(kind, tmp_path, monkeypatch, capsys, events)

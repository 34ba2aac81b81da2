"""The admitted-event decoder (``domain.ledger.decode_admitted``) builds exactly what the
validating one (``decode_entry``) builds, for every event of the scenarios, every type's
example varied, and a generated set of every type: equal, same type for every field (Decimal
exponents, offsets, tuples), same fields set, same JSON. A row it cannot rebuild is decoded
(or refused, for the same reasons) by the validating one."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.errors import EventRejected
from domain.events import EVENT_TYPES, RecordedEvent
from domain.events.admitted import NotAdmitted, admitted_envelope
from domain.ledger import decode_admitted, decode_entry
from domain.ledger_storage import StoredEntry
from domain.values import ID_PATTERN, parsed_timestamp, shared_zone
from ops.bench.stream import simulated_stream
from tests.conftest import SCENARIOS
from tests.domain.test_events import EXAMPLES
from tests.store.test_prefetch import SIMULATED_EVENTS, _assert_same, _example_lines

RECORDED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _entry(line: bytes, position: int = 1) -> StoredEntry:
    event_type = json.loads(line).get("type", "PriceObserved")
    return StoredEntry(position, "e", event_type, line, RECORDED_AT, b"", 1)


def _assert_same_everywhere(mine: BaseModel, theirs: BaseModel) -> None:
    """Field by field, down into nested models: equal and of the same type."""
    assert type(mine) is type(theirs)
    assert list(mine.__dict__) == list(theirs.__dict__)
    assert mine.model_fields_set == theirs.model_fields_set
    for name, value in mine.__dict__.items():
        other = theirs.__dict__[name]
        assert type(value) is type(other), name
        if isinstance(value, BaseModel):
            _assert_same_everywhere(value, other)
        elif isinstance(value, Decimal):
            assert value.as_tuple() == other.as_tuple(), name
        elif isinstance(value, datetime):
            assert (value, value.utcoffset(), value.tzname(), value.fold) == (other, other.utcoffset(), other.tzname(), other.fold)
            assert value.tzinfo is other.tzinfo, name  # one shared object per offset, both ways
        elif isinstance(value, tuple):
            assert [type(v) for v in value] == [type(v) for v in other], name
        assert value == other, name


def _assert_decoded_alike(entry: StoredEntry) -> RecordedEvent:
    slow, fast = decode_entry(entry), decode_admitted(entry)
    _assert_same(fast, slow)
    _assert_same_everywhere(fast.envelope, slow.envelope)
    return fast


def _corpus_lines() -> list[bytes]:
    """The lines of the prefetch codec's corpus, as sent: the scenarios (their rejects too),
    each type's example varied (no source, offsets, fractions, Decimals written oddly) and a
    simulated stream."""
    lines = [line.rstrip(b"\n") for name in sorted(SCENARIOS.glob("*.jsonl")) for line in name.open("rb")]
    return lines + list(_example_lines()) + list(simulated_stream(SIMULATED_EVENTS))


def test_every_event_of_the_scenarios_the_examples_and_a_simulation_decodes_alike() -> None:
    types, refused = set(), 0
    for position, line in enumerate(_corpus_lines(), 1):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        event_type = obj.get("type") if isinstance(obj, dict) else None
        entry = StoredEntry(position, "e", event_type if event_type in EVENT_TYPES else "PriceObserved", line, RECORDED_AT, b"", 1)
        try:
            decode_entry(entry)
        except EventRejected:  # a reject of the scenarios: never admitted (nor for decode_admitted)
            refused += 1
            continue
        types.add(_assert_decoded_alike(entry).envelope.type)
    assert types == set(EVENT_TYPES) and len(EVENT_TYPES) == 35  # a new type must be covered
    assert refused > 0


# --- generated events of every type ---------------------------------------------------------

_DIGITS = st.text("0123456789", min_size=1, max_size=12)
_DECIMAL_TEXTS = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    _DIGITS,
    st.one_of(st.just(""), _DIGITS.map(lambda d: f".{d}")),
    st.one_of(st.just(""), st.just(""), st.integers(-20, 20).map(lambda e: f"E{e:+d}"), st.integers(0, 9).map(lambda e: f"e-{e}")),
)
_DECIMALS = st.one_of(_DECIMAL_TEXTS, st.integers(-(10**40) + 1, 10**40 - 1))
_OFFSETS = st.sampled_from(["Z", "z", "+00:00", "-00:00", "+08:00", "-05:30", "+05:45", "+14:00", "-23:59", "+23:59"])
_TIMESTAMPS = st.builds(
    lambda moment, separator, fraction, offset: f"{moment.replace(microsecond=0).isoformat(separator)}{fraction}{offset}",
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)),
    st.sampled_from(["T", "T", "t", " "]),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=6).map(lambda d: f".{d}"), st.just(".1234560000")),
    _OFFSETS,
)
_TEXTS = st.text(max_size=20)  # escapes, non-ASCII, control characters (refused) included
_SOURCES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20) | _TEXTS
_IDS = st.from_regex(ID_PATTERN[:-1] + r"\Z", fullmatch=True)
_PARAMETER_VALUES = st.one_of(_TEXTS, st.integers(), st.integers(2**64, 2**70), st.booleans(), st.lists(_TEXTS, max_size=3))


def _literals(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [v for argument in typing.get_args(annotation) for v in _literals(argument)]


def _value_strategy(model: type[BaseModel], name: str) -> st.SearchStrategy[Any]:
    """Values of the JSON type a field takes (now and then one it refuses)."""
    field = model.model_fields[name]
    text = repr(field)
    nullable = st.none() if type(None) in typing.get_args(field.annotation) else st.nothing()
    if "_decimal" in text:
        return _DECIMALS | nullable
    if "_timestamp" in text:
        return _TIMESTAMPS
    if "_date" in text:
        return st.dates().map(str)
    if "_parameter_value" in text:
        return _PARAMETER_VALUES
    if literals := _literals(field.annotation):
        return st.sampled_from(literals) | nullable
    if "bool" in text:
        return st.booleans() | nullable
    if "pattern='^[A-Za-z0-9" in text:
        return _IDS | nullable
    if "int" in text:
        return st.integers(-5, 2**64)
    return _TEXTS | nullable


@st.composite
def _lines(draw: Any) -> bytes:
    event_type = draw(st.sampled_from(sorted(EXAMPLES)))
    model = EVENT_TYPES[event_type]
    data = dict(EXAMPLES[event_type])
    for name in model.model_fields:
        choice = draw(st.integers(0, 3))
        if choice == 0 and not model.model_fields[name].is_required():
            data.pop(name, None)
        elif choice == 1 and name in data and not isinstance(data[name], dict):
            data[name] = draw(_value_strategy(model, name))
    envelope: dict[str, Any] = {"event_id": draw(_IDS), "type": event_type, "occurred_at": draw(_TIMESTAMPS), "data": data}
    if draw(st.booleans()):
        envelope["source"] = draw(_SOURCES)
    text = json.dumps(envelope, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines())
def test_any_admissible_line_decodes_alike(line: bytes) -> None:
    entry = _entry(line)
    try:
        decode_entry(entry)
    except EventRejected:  # never admitted, so never given to ``decode_admitted``
        event("refused")
        return
    event(f"admitted {entry.type}")
    _assert_decoded_alike(entry)


# --- rows it cannot rebuild -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b'{"event_id": 1}',
        b'{"event_id":"e1","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00Z","data":{"asset":"BTC","price":1.5,"price_source":"a"}}',
        b'{"event_id":"e1","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00","data":{"asset":"BTC","price":"1","price_source":"a"}}',
        b'{"event_id":"e1","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00Z","data":{"asset":"BTC","price":"1","price_source":"a","x":1}}',
        b'{"event_id":"e1","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00Z","data":{"asset":"BTC","price_source":"a"}}',
        b'{"event_id":"e1","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00Z","data":[]}',
        b'[1]',
        b'not json',
    ],
)
def test_a_row_it_cannot_rebuild_is_refused_by_the_validating_decoder_as_before(line: bytes) -> None:
    with pytest.raises(NotAdmitted):
        admitted_envelope(line)
    entry = _entry(line) if line.startswith(b"{") else StoredEntry(1, "e", "PriceObserved", line, RECORDED_AT, b"", 1)
    with pytest.raises(EventRejected) as slow:
        decode_entry(entry)
    with pytest.raises(EventRejected) as fast:
        decode_admitted(entry)
    assert fast.value.reasons == slow.value.reasons


def test_a_parameter_beyond_64_bits_takes_the_validating_decoder_and_stays_exact() -> None:
    value = 2**70 + 1
    line = json.dumps({"event_id": "e1", "type": "RuleParameterAmended", "occurred_at": "2026-03-02T09:00:00Z",
                       "data": {**EXAMPLES["RuleParameterAmended"], "value": value}}).encode()
    with pytest.raises(NotAdmitted):
        admitted_envelope(line)
    assert decode_admitted(_entry(line)).envelope.data.value == value  # type: ignore[attr-defined]


# --- one tzinfo object per offset ----------------------------------------------------------


@pytest.mark.parametrize("stored", [False, True])
def test_timestamps_of_one_offset_share_one_tzinfo_and_keep_their_value(stored: bool) -> None:
    texts = ["2026-03-02T09:00:00+08:00", "2026-03-02T10:30:00.5+08:00", "2026-03-02 10:30:00.5000000+08:00",
             "2026-03-02T09:00:00-05:30", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00+00:00", "2026-03-02t09:00:00z"]
    if not stored:
        texts = [t for t in texts if "T" in t and "0000+" not in t]
    parsed = [parsed_timestamp(t, stored) for t in texts]
    for text, moment in zip(texts, parsed, strict=True):
        plain = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T").replace("5000000", "5"))
        assert (moment, moment.utcoffset(), moment.tzname(), moment.fold) == (plain, plain.utcoffset(), plain.tzname(), 0)
        assert moment.replace(tzinfo=None) == plain.replace(tzinfo=None)  # the offset as given, not converted
    by_offset: dict[Any, set[int]] = {}
    for moment in parsed:
        by_offset.setdefault(moment.utcoffset(), set()).add(id(moment.tzinfo))
    assert all(len(ids) == 1 for ids in by_offset.values())
    assert all(m.tzinfo is UTC for m in parsed if m.utcoffset() == timedelta(0))


def test_a_time_whose_utc_is_out_of_reach_keeps_its_fields_with_the_shared_zone() -> None:
    early, late = parsed_timestamp("0001-01-01T00:00:00+08:00", True), parsed_timestamp("9999-12-31T23:59:59-23:59", True)
    assert early.replace(tzinfo=None) == datetime(1, 1, 1) and early.utcoffset() == timedelta(hours=8)
    assert late.replace(tzinfo=None) == datetime(9999, 12, 31, 23, 59, 59) and late.utcoffset() == -timedelta(hours=23, minutes=59)
    assert early.tzinfo is parsed_timestamp("2026-03-02T09:00:00+08:00", True).tzinfo
    assert shared_zone(early) is early


def test_both_decoders_give_the_shared_tzinfo() -> None:
    line = json.dumps({"event_id": "e1", "type": "MarginCallIssued", "occurred_at": "2026-03-02T09:00:00+08:00",
                       "data": {**EXAMPLES["MarginCallIssued"], "due_by": "2026-03-02T15:00:00+08:00"}}).encode()
    slow, fast = decode_entry(_entry(line)), decode_admitted(_entry(line))
    zones = {id(e.envelope.occurred_at.tzinfo) for e in (slow, fast)} | {id(e.envelope.data.due_by.tzinfo) for e in (slow, fast)}  # type: ignore[attr-defined]
    assert len(zones) == 1

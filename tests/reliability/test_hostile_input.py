"""Hostile input never raises an unhandled error: each line is accepted or rejected with a
reason, and nothing valid around it is lost. Lines over the bound are refused unread."""

from __future__ import annotations

import io
import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ledger import InputLine
from ops.lines import LINE_BYTES_MAX, read_lines
from ops.wiring import build_ledger
from projections.store.base import Store
from tests.conftest import SOAK_SCALE

counter = itertools.count()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.text(max_size=200) | st.integers(),
        "type": st.sampled_from(["PriceObserved", "AssetListed", "ClientOnboarded", "Nope", ""]) | json_values,
        "occurred_at": st.sampled_from(["2026-03-02T09:00:00+08:00", "2026-03-02T09:00:00", "yesterday"]) | json_values,
        "source": json_values,
        "data": json_values,
        "extra": json_values,
    },
)
hostile_lines = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    envelope_like.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=50).map(lambda n: b'{"event_id": "' + b"x" * (n * 1000) + b'"}'),
    st.just(b'{"event_id":"d","event_id":"d","type":"AssetListed"}'),
    st.just('{"event_id":"n\u0000ul","type":"AssetListed"}'.encode()),
    st.just(b'{"event_id":"big","type":"PriceObserved","occurred_at":"2026-03-02T09:00:00+08:00","data":{"asset":"HKD","price":' + b"9" * 5000 + b',"price_source":"x"}}'),
)


def valid_line(n: int) -> bytes:
    return json.dumps({"event_id": f"ok-{n}", "type": "AssetListed", "occurred_at": "2026-03-02T09:00:00+08:00",
                       "data": {"asset": f"A{n}", "asset_kind": "virtual_asset"}}).encode()


@settings(max_examples=60 * SOAK_SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hostile=st.lists(hostile_lines, min_size=1, max_size=8))
def test_hostile_lines_are_rejected_with_reasons_and_valid_neighbours_kept(store: Store, hostile: list[bytes]) -> None:
    valid_numbers = [next(counter) for _ in range(len(hostile) + 1)]
    lines: list[bytes] = []
    for n, bad in zip(valid_numbers, [*hostile, None], strict=True):
        lines.append(valid_line(n))
        if bad is not None:
            lines.append(bad)
    summary = build_ledger(store).ingest_batch([InputLine("fuzz", i, x) for i, x in enumerate(lines, 1)])
    assert summary.accepted + summary.duplicates + summary.rejected == len(lines)
    assert all(r.reasons and all(x.field and x.reason for x in r.reasons) for r in summary.rejections)
    stored = {e.event_id for e in store.read_entries(0, 10**6)}
    assert {f"ok-{n}" for n in valid_numbers} <= stored


def test_a_line_over_the_bound_is_refused_without_being_held_whole() -> None:
    huge = b'{"event_id": "' + b"x" * (LINE_BYTES_MAX * 3) + b'"}\n'
    stream = io.BytesIO(valid_line(1) + b"\n" + huge + valid_line(2) + b"\n")
    lines = list(read_lines(stream, "big.jsonl"))
    assert [line.line_no for line in lines] == [1, 2, 3]
    assert lines[1].refusal is not None and "over the limit" in lines[1].refusal
    assert len(lines[1].raw) <= 4096
    assert lines[0].refusal is None and lines[2].raw == valid_line(2)


def test_a_line_exactly_at_the_bound_is_read(tmp_path: object) -> None:
    body = b'{"event_id": "' + b"x" * (LINE_BYTES_MAX - 17) + b'"}'
    assert len(body) + 1 == LINE_BYTES_MAX
    [line] = list(read_lines(io.BytesIO(body + b"\n"), "edge.jsonl"))
    assert line.refusal is None and line.raw == body

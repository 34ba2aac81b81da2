"""Event batches over HTTP: a JSON array or JSON Lines, split into raw lines without parsing
them twice, so each event is validated and stored exactly as sent, like a file line."""

from __future__ import annotations

import json

from domain.ledger import InputLine
from ops.lines import LINE_BYTES_MAX, over_limit

BATCH_EVENTS_MAX = 10_000
BODY_BYTES_MAX = 16 << 20


class BatchRefused(ValueError):
    """The body as a whole is not a batch of events."""


def split_batch(body: bytes, origin: str) -> list[InputLine]:
    text = body.lstrip()
    if text.startswith(b"["):
        lines = _array_elements(text, origin)
    else:
        lines = [bounded(origin, n, line) for n, line in enumerate(body.splitlines(), 1) if line.strip()]
    if not lines:
        raise BatchRefused("the body holds no events")
    if len(lines) > BATCH_EVENTS_MAX:
        raise BatchRefused(f"{len(lines)} events: a batch holds at most {BATCH_EVENTS_MAX}")
    return lines


def _array_elements(text: bytes, origin: str) -> list[InputLine]:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BatchRefused(f"the body is not valid UTF-8 (byte {e.start})") from e
    decoder = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)
    index, lines, n = 1, [], 0
    while True:
        index = _skip_space(decoded, index)
        if index < len(decoded) and decoded[index] == "]":
            break
        start = index
        try:
            _, index = decoder.raw_decode(decoded, start)
        except (ValueError, RecursionError) as e:
            raise BatchRefused(f"element {n + 1} of the array is not valid JSON") from e
        n += 1
        lines.append(bounded(origin, n, decoded[start:index].encode("utf-8")))
        index = _skip_space(decoded, index)
        if index < len(decoded) and decoded[index] == ",":
            index += 1
        elif index < len(decoded) and decoded[index] == "]":
            break
        else:
            raise BatchRefused(f"expected ',' or ']' after element {n} of the array")
    if decoded[index + 1 :].strip():
        raise BatchRefused("text follows the closing ']' of the array")
    return lines


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def bounded(origin: str, n: int, line: bytes) -> InputLine:
    """A line (or an array's element) under the per-line limit of file ingest, or its refusal."""
    if len(line) > LINE_BYTES_MAX:
        return over_limit(origin, n, line, len(line))
    return InputLine(origin, n, line.strip())

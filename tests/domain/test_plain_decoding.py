"""The plain line's decoder (orjson) gives what the standard one gives, or leaves the line to it."""

from __future__ import annotations

import pytest

from domain.events.decoding import _decode, _plain_object

LEFT_TO_STANDARD = [
    b'{"a":1,"a":2}',  # a repeated key: orjson keeps the last
    b'{"a":{"b":1,"b":"x"}}',
    b'{"a":":","a":":"}',
    b'{"a":18446744073709551616}',  # beyond 64 bits: orjson gives a float
    b'{"a":1.5}',
    b'{"a":"\\u0041"}',  # any backslash
    b'{"a":NaN}',
    b'\xef\xbb\xbf{"a":1}',
    b'{"a":[[1]]}',
    b'{"a":' * 9 + b"1" + b"}" * 9,
    b"[1]",
]

DECODED_ALIKE = [
    b'{"a":1,"b":"x:y","c":null,"d":true,"e":[ "s", 1, false ],"f":{"g":-0}}',
    b' {"a" : "\xc3\xa9"} ',
    '{"a":"é","b":18446744073709551615}',
]


@pytest.mark.parametrize("line", LEFT_TO_STANDARD)
def test_a_line_it_cannot_vouch_for_is_left_to_the_standard_decoder(line: bytes) -> None:
    assert _plain_object(line) is None


@pytest.mark.parametrize("line", DECODED_ALIKE)
def test_a_plain_line_decodes_as_the_standard_decoder_decodes_it(line: str | bytes) -> None:
    text = line if isinstance(line, str) else line.decode()
    assert _decode(text) == (_plain_object(line), [])

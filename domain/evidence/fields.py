"""Strict reading of the JSON files regledger writes for regulators (digests and proofs).

Every field is checked against the one form regledger writes (lower-case hex, canonical
times, exact names), so that no change to a file, not even one flipped bit, can leave its
meaning intact: it is either refused here or changes a value that a hash or signature covers.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from domain.errors import EvidenceUnreadable

HEX_32 = re.compile(r"[0-9a-f]{64}")
HEX_64 = re.compile(r"[0-9a-f]{128}")
HEX_ANY = re.compile(r"(?:[0-9a-f]{2})*")
INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
FILE_BYTES_MAX = 64 * 1024 * 1024  # a proof holds one envelope and O(log n) hashes


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise EvidenceUnreadable(f"the key {key!r} appears twice")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise EvidenceUnreadable(f"{name} is not a JSON number regledger writes")


def read_object(raw: bytes, what: str, fmt: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object of a ``what`` file of format ``fmt`` with exactly ``keys``."""
    if len(raw) > FILE_BYTES_MAX:
        raise EvidenceUnreadable(f"{what}: larger than any file regledger writes")
    try:
        value = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EvidenceUnreadable(f"{what}: not a JSON file ({e})") from None
    except EvidenceUnreadable as e:
        raise EvidenceUnreadable(f"{what}: {e}") from None
    if not isinstance(value, dict):
        raise EvidenceUnreadable(f"{what}: not a JSON object")
    if value.get("format") != fmt:
        raise EvidenceUnreadable(f"{what}: not a {fmt} file (its format is {value.get('format')!r})")
    missing = [k for k in keys if k not in value]
    extra = sorted(set(value) - set(keys))
    if missing or extra:
        raise EvidenceUnreadable(f"{what}: missing fields {missing}, unknown fields {extra}")
    return value


def exact(obj: dict[str, Any], key: str, expected: str, what: str) -> str:
    if obj[key] != expected:
        raise EvidenceUnreadable(f"{what}: {key} must be {expected!r}, not {obj[key]!r}")
    return expected


def count(obj: dict[str, Any], key: str, what: str, minimum: int = 1) -> int:
    value = obj[key]
    if type(value) is not int or value < minimum:
        raise EvidenceUnreadable(f"{what}: {key} must be a whole number >= {minimum}")
    return value


def text(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj[key]
    if type(value) is not str:
        raise EvidenceUnreadable(f"{what}: {key} must be a string")
    return value


def hex_bytes(obj: dict[str, Any], key: str, what: str, pattern: re.Pattern[str] = HEX_32) -> bytes:
    value = obj[key]
    if type(value) is not str or not pattern.fullmatch(value):
        raise EvidenceUnreadable(f"{what}: {key} must be lower-case hex of the right length")
    return bytes.fromhex(value)


def hex_list(obj: dict[str, Any], key: str, what: str) -> list[bytes]:
    value = obj[key]
    if type(value) is not list:
        raise EvidenceUnreadable(f"{what}: {key} must be a list of hashes")
    return [hex_bytes({key: item}, key, what) for item in value]


def instant(obj: dict[str, Any], key: str, what: str) -> datetime:
    value = obj[key]
    if type(value) is not str or not INSTANT.fullmatch(value):
        raise EvidenceUnreadable(f"{what}: {key} must be a UTC time like 2026-03-02T01:00:00.000000Z")
    try:
        return datetime.strptime(value, INSTANT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise EvidenceUnreadable(f"{what}: {key} is not a real date and time") from None


def dump(obj: dict[str, Any]) -> str:
    """The file text regledger writes: the fields in their order, two-space indent, a newline."""
    return json.dumps(obj, indent=2, ensure_ascii=True) + "\n"

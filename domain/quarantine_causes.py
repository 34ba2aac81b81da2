"""Which rejected line caused which: the entities a rejected line would have created, and the
ones it was refused for not finding.

Reading (issue 18): a line refused with "unknown client 'C1'" is a consequence of an earlier
rejected line that would have created client C1 (its ``ClientOnboarded`` was refused). Both
are read from the raw line loosely, as far as it parses: a line refused for its schema (the
usual reason an onboarding is refused) is not a valid envelope, but its ``type`` and the
``data`` field that names the entity usually still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from domain.registry.aggregates import EntityKey
from domain.registry.references import REFERENCES, Reference, unknown


def _loose(raw: bytes) -> tuple[tuple[Reference, ...], dict[str, Any]]:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, an over-long integer, deep nesting
        return (), {}
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict):
        return (), {}
    kind = obj.get("type")
    return (REFERENCES.get(kind, ()) if isinstance(kind, str) else ()), obj["data"]


def _named(raw: bytes) -> Iterator[tuple[Reference, str]]:
    references, data = _loose(raw)
    for reference in references:
        value = data.get(reference.field)
        if isinstance(value, str) and value != reference.unless:
            yield reference, value


def created_keys(raw: bytes) -> set[EntityKey]:
    """The entities the line would have created, had it been accepted."""
    return {(r.kind, value) for r, value in _named(raw) if r.creates}


def missing_keys(raw: bytes, reasons: list[dict[str, str]]) -> dict[EntityKey, str]:
    """The entities the line was refused for not finding, each with the refusal's text."""
    refused = {(r.get("field"), r.get("reason")) for r in reasons}
    return {
        (r.kind, value): unknown(r, value)
        for r, value in _named(raw)
        if not r.creates and (f"data.{r.field}", unknown(r, value)) in refused
    }

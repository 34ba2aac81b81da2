"""Pydantic's validation errors, reworded as ``Reason``s a person can act on.

Pydantic's own text and documentation links never reach a reason: each error type this
contract can produce has a sentence here, and anything else gets a neutral one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.errors import Reason
from domain.values import PATTERN_RULES, REASON_ERROR

QUOTED_CHARS_MAX = 64
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_LITERAL_OPTION = re.compile(r"'([^']*)'")

_FIXED_REASONS = {
    "missing": "is required",
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text (it has an unpaired surrogate)",
    "string_too_short": "must not be empty",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "decimal_type": "must be a decimal",
    "finite_number": "must be a finite number",
    "datetime_type": "must be a timestamp",
    "date_type": "must be a date",
    "timezone_aware": "timestamp must include a UTC offset",
}

_BOUNDS = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def quoted(value: object) -> str:
    """``value`` as JSON text, ASCII only and cut short, safe to echo in a reason."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(type(value).__name__)
    if len(text) > QUOTED_CHARS_MAX:
        text = text[: QUOTED_CHARS_MAX - 3] + "..."
    return text


def field_path(loc: Sequence[str | int]) -> str:
    """``data.pi_assessment.portfolio``; a key that is not a plain name is quoted."""
    parts = []
    for part in loc:
        if isinstance(part, str) and _PLAIN_KEY.fullmatch(part):
            parts.append(part)
        else:
            parts.append(str(part) if isinstance(part, int) else quoted(part))
    return ".".join(parts)


def reasons_from(error: ValidationError, prefix: tuple[str, ...], owner: str) -> list[Reason]:
    """One ``Reason`` per failing field; ``owner`` names the object at ``prefix``."""
    return [
        Reason(field_path(prefix + tuple(detail["loc"])), _reason(detail, owner))
        for detail in error.errors(include_url=False)
    ]


def _reason(detail: ErrorDetails, owner: str) -> str:
    kind = detail["type"]
    ctx: dict[str, Any] = detail.get("ctx") or {}
    loc = detail["loc"]
    if kind == REASON_ERROR:
        return detail["msg"]
    if kind == "extra_forbidden":
        parent = owner if len(loc) == 1 else field_path(loc[-2:-1])
        return f"unknown field (not part of {parent})"
    if kind == "literal_error":
        if loc == ("type",) and owner == "the envelope":
            return f"unknown event type {quoted(detail['input'])}"
        return "must be one of: " + ", ".join(_LITERAL_OPTION.findall(str(ctx["expected"])))
    if kind == "string_pattern_mismatch":
        return PATTERN_RULES.get(str(ctx["pattern"]), "has characters that are not allowed")
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind in ("int_type", "int_from_float") and isinstance(detail["input"], float):
        return "must be an integer, not a floating-point number"
    if kind in _BOUNDS:
        return _bound(kind, ctx)
    return _FIXED_REASONS.get(kind, "is not valid")


def _bound(kind: str, ctx: dict[str, Any]) -> str:
    key, phrase = _BOUNDS[kind]
    return f"{phrase} {ctx[key]}"

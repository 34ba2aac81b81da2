"""A price path: JSON Lines of ``PriceObserved``-shaped prices, replayed in order over the
state, each point on top of the ones before it.

A line is a ``PriceObserved`` payload (``{"asset": "PAXG", "price": "23244"}``, with or
without ``price_source``) or a whole event whose ``data`` is one (so a slice of an exported
ledger is a path). Bad lines are refused together, each named by line, field and reason.
"""

from __future__ import annotations

import json
from decimal import Decimal

from pydantic import ValidationError

from domain.book.entities import HKD
from domain.errors import InvalidRequest
from domain.events import PriceObserved

PATH_POINTS_MAX = 10_000
PATH_ERRORS_SHOWN = 20
PATH_SOURCE = "path"


def parse_path(raw: bytes, origin: str = "path") -> list[tuple[str, Decimal]]:
    points: list[tuple[str, Decimal]] = []
    errors: list[str] = []
    for line_no, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        if len(points) >= PATH_POINTS_MAX:
            raise InvalidRequest(f"{origin}: a path has at most {PATH_POINTS_MAX} points")
        try:
            point = _point(line)
        except ValueError as e:
            errors.append(f"{origin} line {line_no}: {e}")
            continue
        points.append(point)
    if errors:
        shown = errors[:PATH_ERRORS_SHOWN]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        raise InvalidRequest("; ".join(shown) + more)
    if not points:
        raise InvalidRequest(f"{origin}: no price in the path")
    return points


def _point(line: bytes) -> tuple[str, Decimal]:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not JSON ({e.msg if isinstance(e, json.JSONDecodeError) else 'not UTF-8'})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    prefix = ""
    if "data" in value:
        if value.get("type", "PriceObserved") != "PriceObserved":
            raise ValueError(f"type: {value.get('type')!r} is not PriceObserved")
        value, prefix = value["data"], "data."
        if not isinstance(value, dict):
            raise ValueError("data: not a JSON object")
    try:
        price = PriceObserved.model_validate({"price_source": PATH_SOURCE, **value})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValueError(f"{prefix}{where}: {first['msg']}") from None
    if price.asset == HKD:
        raise ValueError(f"{prefix}asset: HKD is the unit of account, its price is always 1")
    return price.asset, price.price

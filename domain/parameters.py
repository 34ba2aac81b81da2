"""Rule parameter types (rulebook.md, "Parameter types") and how an amended value is read.

A ``RuleParameterAmended`` carries its value as JSON sent it; ``coerce_parameter`` decides
whether it fits the parameter and gives the value the rules compute with.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal, get_args

from domain.values import ASSET_PATTERN, ASSET_RULE, decimal_from_json

ParameterType = Literal["rate", "decimal", "positive_int", "asset_list"]
ParameterValue = Decimal | int | tuple[str, ...]

PARAMETER_TYPES: tuple[ParameterType, ...] = get_args(ParameterType)
# A window or an age in days beyond this is a typo, and would overflow ``timedelta``.
POSITIVE_INT_MAX = 1_000_000_000

_ASSET = re.compile(ASSET_PATTERN)
_DIGITS = re.compile(r"[0-9]{1,10}")


def coerce_parameter(kind: ParameterType, raw: object, stored: bool = False) -> ParameterValue:
    """The value of parameter type ``kind`` that ``raw`` stands for; ``ValueError`` if none.
    ``stored``: a value the ledger or the monitor's records already hold, in the stored form
    (``domain.values``): records write a decimal as ``str`` does (``1E-8``)."""
    if kind == "rate":
        rate = decimal_from_json(raw, stored)
        if not 0 <= rate <= 1:
            raise ValueError(f"a rate must be between 0 and 1, not {rate:f}")
        return rate
    if kind == "decimal":
        return decimal_from_json(raw, stored)
    if kind == "positive_int":
        return _positive_int(raw)
    if kind == "asset_list":
        return _asset_list(raw)
    raise AssertionError(f"unknown parameter type {kind!r}")


def _positive_int(raw: object) -> int:
    if type(raw) is int:
        number = raw
    elif type(raw) is str and _DIGITS.fullmatch(raw):
        number = int(raw)
    else:
        raise ValueError("must be a whole number greater than 0 (an integer or a string of digits)")
    if not 0 < number <= POSITIVE_INT_MAX:
        raise ValueError(f"must be a whole number from 1 to {POSITIVE_INT_MAX}")
    return number


def _asset_list(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        raise ValueError('must be a list of asset symbols, like ["BTC", "ETH"]')
    symbols = []
    for index, symbol in enumerate(raw):
        if type(symbol) is not str or not _ASSET.fullmatch(symbol):
            raise ValueError(f"item {index} {ASSET_RULE}")
        symbols.append(symbol)
    return tuple(symbols)

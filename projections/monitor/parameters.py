"""The parameter values in force from the beginning of time: the rulebook defaults, or the
overrides of a what-if replay."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from domain.errors import InvalidRequest
from domain.parameters import ParameterValue, coerce_parameter
from policies.registry import default_parameters, parameter_catalogue


def base_values(overrides: Mapping[tuple[str, str], object]) -> dict[tuple[str, str], ParameterValue]:
    """Defaults with ``overrides`` applied; an unknown parameter or a value of the wrong type
    is an ``InvalidRequest``."""
    values = default_parameters()
    catalogue = parameter_catalogue()
    for (rule_id, name), raw in overrides.items():
        kind = catalogue.get(rule_id, {}).get(name)
        if kind is None:
            raise InvalidRequest(f"{rule_id} has no parameter {name!r} to override")
        value = str(raw) if isinstance(raw, Decimal) else raw  # Python callers pass Decimals
        try:
            values[(rule_id, name)] = coerce_parameter(kind, value)
        except ValueError as error:
            raise InvalidRequest(f"override of {rule_id} {name}: {error}") from None
    return values

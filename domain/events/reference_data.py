"""Reference data: assets, prices and rule parameters (events.md, "Reference data")."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, model_validator

from domain.events.payload import Payload
from domain.values import Asset, PositiveDecimal, Text, Timestamp, invalid

AssetKind = Literal["virtual_asset", "index", "fiat", "stablecoin", "tokenized_deposit"]
AmendedValue = str | int | bool | tuple[str, ...]  # as sent; see domain.parameters

PARAMETER_LIST_ITEMS_MAX = 256
_PARAMETER_VALUE_RULE = "must be a string, an integer, true or false, or a list of strings"
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\ud800-\udfff]")


def _parameter_value(value: object) -> AmendedValue:
    """Keep the value as sent; whether it fits the parameter is the registry's question."""
    if isinstance(value, str | int):  # bool included: an int to Python
        if isinstance(value, str) and _UNSAFE_TEXT.search(value):
            raise invalid("must not contain control characters")
        return value
    if isinstance(value, float):
        raise invalid(f'{_PARAMETER_VALUE_RULE}; write a decimal as a string, like "0.65"')
    if isinstance(value, list | tuple):
        if len(value) > PARAMETER_LIST_ITEMS_MAX:
            raise invalid(f"must list at most {PARAMETER_LIST_ITEMS_MAX} items")
        if all(isinstance(item, str) and not _UNSAFE_TEXT.search(item) for item in value):
            return tuple(value)
    raise invalid(_PARAMETER_VALUE_RULE)


class AssetListed(Payload):
    asset: Asset
    asset_kind: AssetKind
    retail_spot_approved: bool = False
    iosco_compliant: bool = False
    hkma_licensed: bool = False
    issuer: Text | None = None


class AssetStatusChanged(Payload):
    asset: Asset
    retail_spot_approved: bool | None = None
    iosco_compliant: bool | None = None
    hkma_licensed: bool | None = None

    @model_validator(mode="after")
    def check_some_status_changes(self) -> Self:
        if (self.retail_spot_approved, self.iosco_compliant, self.hkma_licensed) == (None,) * 3:
            raise invalid(
                "must set at least one of retail_spot_approved, iosco_compliant, hkma_licensed"
            )
        return self


class PriceObserved(Payload):
    asset: Asset
    price: PositiveDecimal
    price_source: Text


class RuleParameterAmended(Payload):
    rule_id: Text
    parameter: Text
    value: Annotated[AmendedValue, BeforeValidator(_parameter_value)]
    effective_from: Timestamp
    notice_ref: Text

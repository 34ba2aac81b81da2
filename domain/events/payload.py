"""The base of every event payload and of the objects nested in one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """An event's ``data`` (or an object inside it): strict, closed and immutable.

    Strict, so that ``"5"`` is never an integer nor ``1`` a string; closed, so that a misspelt
    field is refused rather than ignored (events.md, "Value conventions").
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

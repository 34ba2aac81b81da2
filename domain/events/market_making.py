"""Market makers and their access to data (events.md, "Market making")."""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le

from domain.events.payload import Payload
from domain.values import Id, Text

Dataset = Literal["client_orders", "client_positions", "client_identities", "market_data"]
RECORD_COUNT_MAX = 2**63 - 1  # fits the store's BIGINT
PLATFORM = "platform"


class MarketMakerControls(Payload):
    """The safeguards an affiliated market maker must keep (MM-01)."""

    information_barrier: bool
    functional_independence: bool
    conflict_monitoring: bool
    client_priority: bool


class MarketMakerRegistered(Payload):
    mm_id: Id
    legal_entity: Text
    affiliate: bool
    controls: MarketMakerControls


class MarketMakerControlsChanged(Payload):
    mm_id: Id
    controls: MarketMakerControls


class DataAccessed(Payload):
    actor_id: Text
    actor_entity: Id  # "platform" or a registered mm_id
    dataset: Dataset
    record_count: Annotated[int, Ge(0), Le(RECORD_COUNT_MAX)]

"""Derived state at a moment of business time, as known at a moment of ledger time."""

from projections.asof.replay import LeftOut, Replay, replay
from projections.asof.state import (
    check_one_target,
    client_state,
    contract_state,
    market_maker_state,
)

__all__ = [
    "LeftOut", "Replay", "check_one_target", "client_state", "contract_state",
    "market_maker_state", "replay",
]

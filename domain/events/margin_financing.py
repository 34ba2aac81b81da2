"""VA margin financing by a broker (events.md, "VA margin financing (broker)")."""

from __future__ import annotations

from typing import Literal

from domain.events.payload import Payload
from domain.values import Asset, Id, PositiveDecimal, Rate, Text, Timestamp

DestinationKind = Literal["segregated_custody", "liquidation", "broker_house", "third_party"]
Resolution = Literal["topped_up", "repaid", "liquidated", "withdrawn"]


class CollateralPledged(Payload):
    pledge_id: Id
    client_id: Id
    asset: Asset
    quantity: PositiveDecimal
    haircut: Rate


class CollateralHaircutChanged(Payload):
    pledge_id: Id
    haircut: Rate


class CollateralReleased(Payload):
    pledge_id: Id
    quantity: PositiveDecimal


class CollateralTransferred(Payload):
    pledge_id: Id
    quantity: PositiveDecimal
    destination_kind: DestinationKind
    destination: Text
    purpose: Text


class VAFinancingDrawn(Payload):
    loan_id: Id
    client_id: Id
    account_id: Id
    amount: PositiveDecimal
    purpose_asset: Asset


class VAFinancingRepaid(Payload):
    loan_id: Id
    amount: PositiveDecimal


class MarginCallIssued(Payload):
    call_id: Id
    client_id: Id
    shortfall: PositiveDecimal
    due_by: Timestamp


class MarginCallResolved(Payload):
    call_id: Id
    resolution: Resolution

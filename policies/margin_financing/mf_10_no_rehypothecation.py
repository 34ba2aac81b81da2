"""MF-10 No re-pledging, re-use or encumbrance of client collateral.

Pledged client collateral must not be moved to the broker's house account or to any third
party; it may be sold to cover a default only while the client has an open margin call or is
short.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.money import number_text
from domain.events import CollateralTransferred
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR, COLLATERAL_TERMS, debt_and_lending_value
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-10"
TITLE = "No re-pledging, re-use or encumbrance of client collateral"
SEVERITY: Severity = "critical"
CITATION = CIRCULAR
PARAMETERS: tuple[Parameter, ...] = ()
FORBIDDEN = ("broker_house", "third_party")


def on_transfer(ctx: Context) -> Iterator[Finding]:
    move = ctx.data(CollateralTransferred)
    pledge = ctx.book.pledge(move.pledge_id)
    client = None if pledge is None else ctx.book.client(pledge.client_id)
    if pledge is None or client is None:
        return
    evidence: dict[str, object] = {
        "asset": pledge.asset, "quantity": move.quantity, "destination_kind": move.destination_kind,
        "destination": move.destination,
    }
    where = f"{move.quantity:f} {pledge.asset} of pledge {move.pledge_id} (client {client.client_id})"
    if move.destination_kind in FORBIDDEN:
        yield finding(
            RULE, ctx, move.pledge_id,
            f"{where} was moved to {move.destination_kind.replace('_', ' ')} {move.destination}.",
            evidence,
        )
    elif move.destination_kind == "liquidation" and not client.open_calls:
        # Reading: "is short" is judged afresh on the state before E with the terms in force
        # at E, not taken from the status stored by the previous event's step (5).
        owed, lending = debt_and_lending_value(ctx.book, client, ctx.params)
        if owed <= lending:
            yield finding(
                RULE, ctx, move.pledge_id,
                f"{where} was liquidated although the client had no open margin call and was "
                f"not short (debt HKD {number_text(owed)}, lending value HKD {number_text(lending)}).",
                {**evidence, "debt": owed, "lending_value": lending, "open_calls": []},
            )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    uses=COLLATERAL_TERMS,
    triggers=(Trigger(CollateralTransferred, "before", on_transfer),),
)

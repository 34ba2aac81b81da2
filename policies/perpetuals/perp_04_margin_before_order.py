"""PERP-04 Margin collected before the order.

A client may place an order that increases its absolute position in a contract only if its
equity covers the initial margin requirement of its positions with that order fully filled
(the order's contract at its mark, or at the order's limit price where it has none); other
unfilled orders are ignored (reading 10). A margin withdrawal must not leave equity below
the initial requirement of the open positions (with none, below zero).
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.money import ZERO, number_text
from domain.book.valuation import equity, quantities, requirement
from domain.events import PerpMarginWithdrawn, PerpOrderPlaced
from policies.finding import Finding, finding
from policies.perpetuals.framework import FRAMEWORK
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PERP-04"
TITLE = "Margin collected before the order"
SEVERITY: Severity = "critical"
CITATION = FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    client = ctx.book.client(order.client_id)
    if client is None or ctx.book.contract(order.contract_id) is None:
        return
    held = quantities(client)
    before = held.get(order.contract_id, ZERO)
    after = before + (order.quantity if order.side == "buy" else -order.quantity)
    if abs(after) <= abs(before):
        return  # reduces or keeps the position: no new margin needed
    held[order.contract_id] = after
    # Reading: a market order on a contract with no mark at all (reference never priced,
    # never traded) is valued at 0, as the rulebook values anything never priced.
    fallback = None if order.limit_price is None else {order.contract_id: order.limit_price}
    needed = requirement(ctx.book, held, maintenance=False, fallback_marks=fallback)
    available = equity(ctx.book, client)
    if available < needed:
        yield finding(
            RULE, ctx, order.client_id,
            f"Client {order.client_id} placed order {order.order_id} to {order.side} "
            f"{order.quantity:f} {order.contract_id} with equity of HKD {number_text(available)} short of "
            f"the HKD {number_text(needed)} initial margin its positions would need once filled.",
            {"order_id": order.order_id, "equity": available, "initial_requirement": needed,
             "position_before": before, "position_after": after},
        )


def after_withdrawal(ctx: Context) -> Iterator[Finding]:
    withdrawal = ctx.data(PerpMarginWithdrawn)
    client = ctx.book.client(withdrawal.client_id)
    if client is None:
        return
    needed = requirement(ctx.book, quantities(client), maintenance=False)
    available = equity(ctx.book, client)
    if available < needed:
        yield finding(
            RULE, ctx, withdrawal.client_id,
            f"Client {withdrawal.client_id} withdrew {withdrawal.amount:f} {withdrawal.asset} of "
            f"margin, leaving equity of HKD {number_text(available)} below the HKD {number_text(needed)} initial "
            "margin requirement.",
            {"asset": withdrawal.asset, "amount": withdrawal.amount, "equity": available,
             "initial_requirement": needed},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpOrderPlaced, "before", on_order),
        Trigger(PerpMarginWithdrawn, "after", after_withdrawal),
    ),
)

"""MF-05 Minimum prudential haircut.

Collateral of an eligible asset must carry a haircut of at least ``min_haircut``: (a) when it
is pledged or its haircut is changed (open or not), and (b) when an amendment raising
``min_haircut`` takes effect, every open eligible pledge below the new value is a finding of
that amendment. "Raises" compares the new value with the one in force just before its
``effective_from`` (reading 5).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from domain.book.entities import Amendment
from domain.events import CollateralHaircutChanged, CollateralPledged
from domain.parameters import ParameterValue
from policies.finding import Finding, earlier_event_finding, finding
from policies.margin_financing.collateral import CIRCULAR, ELIGIBLE_ASSETS, eligible_assets
from policies.rule import AmendmentWatch, Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-05"
TITLE = "Minimum prudential haircut"
SEVERITY: Severity = "high"
CITATION = CIRCULAR
PARAMETERS = (Parameter("min_haircut", "rate", Decimal("0.6")),)


def _below_minimum(ctx: Context, pledge_id: str, asset: str, haircut: Decimal, what: str) -> Iterator[Finding]:
    minimum = ctx.params.decimal(RULE_ID, "min_haircut")
    if asset in eligible_assets(ctx.params) and haircut < minimum:
        yield finding(
            RULE, ctx, pledge_id,
            f"Pledge {pledge_id} of {asset} {what} a haircut of {haircut:f}, below the minimum "
            f"of {minimum:f}.",
            {"asset": asset, "haircut": haircut},
        )


def on_pledge(ctx: Context) -> Iterator[Finding]:
    pledge = ctx.data(CollateralPledged)
    return _below_minimum(ctx, pledge.pledge_id, pledge.asset, pledge.haircut, "was taken at")


def on_haircut_changed(ctx: Context) -> Iterator[Finding]:
    change = ctx.data(CollateralHaircutChanged)
    pledge = ctx.book.pledge(change.pledge_id)
    if pledge is None:
        return iter(())
    return _below_minimum(ctx, pledge.pledge_id, pledge.asset, change.haircut, "was given")


def on_raise(ctx: Context, amendment: Amendment, previous: ParameterValue) -> Iterator[Finding]:
    raised_to, before = amendment.value, previous
    assert isinstance(raised_to, Decimal) and isinstance(before, Decimal)
    # Reading: ``previous`` is the value in force just before the amendment's effective
    # time, so of several amendments effective at the same instant each one above that value
    # counts as a raise (each is a notice the firm received), not only the last recorded.
    if raised_to <= before:
        return
    # Reading: the finding reports the amendment's value (a later amendment taking effect at
    # the same event may already supersede it) and the eligible assets in force now.
    eligible = eligible_assets(ctx.params)
    parameters = (("min_haircut", raised_to), (ELIGIBLE_ASSETS[1], eligible))
    for pledge in ctx.book.all_pledges():
        if pledge.is_open and pledge.asset in eligible and pledge.haircut < raised_to:
            yield earlier_event_finding(
                RULE, ctx, (amendment.event_id, amendment.occurred_at), pledge.pledge_id,
                f"Pledge {pledge.pledge_id} of client {pledge.client_id} ({pledge.quantity:f} "
                f"{pledge.asset}) has a haircut of {pledge.haircut:f}, below the minimum raised "
                f"from {before:f} to {raised_to:f} with effect from "
                f"{amendment.effective_from.isoformat()}.",
                {"asset": pledge.asset, "haircut": pledge.haircut, "quantity": pledge.quantity,
                 "previous_min_haircut": before, "effective_from": amendment.effective_from},
                parameters,
            )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    uses=(ELIGIBLE_ASSETS,),
    triggers=(
        Trigger(CollateralPledged, "before", on_pledge),
        Trigger(CollateralHaircutChanged, "before", on_haircut_changed),
    ),
    amendment_watch=AmendmentWatch("min_haircut", on_raise),
)

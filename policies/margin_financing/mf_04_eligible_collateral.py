"""MF-04 Eligible VA collateral.

Only the virtual assets in ``eligible_assets`` may be taken as collateral for VA financing;
a pledge of any other asset gives no lending value.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import CollateralPledged
from policies.finding import Finding, finding
from policies.margin_financing.collateral import CIRCULAR
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "MF-04"
TITLE = "Eligible VA collateral"
SEVERITY: Severity = "medium"
CITATION = CIRCULAR
PARAMETERS = (Parameter("eligible_assets", "asset_list", ("BTC", "ETH")),)


def on_pledge(ctx: Context) -> Iterator[Finding]:
    pledge = ctx.data(CollateralPledged)
    eligible = ctx.params.assets(RULE_ID, "eligible_assets")
    if pledge.asset not in eligible:
        yield finding(
            RULE, ctx, pledge.pledge_id,
            f"Client {pledge.client_id} pledged {pledge.quantity:f} {pledge.asset} as pledge "
            f"{pledge.pledge_id}, but {pledge.asset} is not eligible collateral "
            f"({', '.join(eligible) or 'none'}); it gives no lending value.",
            {"asset": pledge.asset, "quantity": pledge.quantity},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(CollateralPledged, "before", on_pledge),),
)

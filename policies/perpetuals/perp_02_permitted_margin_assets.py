"""PERP-02 Permitted margin assets.

Perpetual margin may be posted only in fiat currency, HKMA-licensed stablecoins or tokenized
deposits of HKMA-authorized institutions, judged by the asset's status at the deposit. A
deposit of anything else still counts in the margin balance: the finding is the breach.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.book.entities import HKD, Asset
from domain.events import PerpMarginDeposited
from policies.finding import Finding, finding
from policies.perpetuals.framework import FRAMEWORK, describe_asset
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PERP-02"
TITLE = "Permitted margin assets"
SEVERITY: Severity = "critical"
CITATION = FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()
LICENSED_KINDS = ("stablecoin", "tokenized_deposit")


def is_permitted(symbol: str, asset: Asset | None) -> bool:
    if asset is None:
        return symbol == HKD  # reading: the home currency is fiat even if never listed
    return asset.kind == "fiat" or (asset.kind in LICENSED_KINDS and asset.hkma_licensed)


def on_deposit(ctx: Context) -> Iterator[Finding]:
    deposit = ctx.data(PerpMarginDeposited)
    asset = ctx.book.asset(deposit.asset)
    if not is_permitted(deposit.asset, asset):
        yield finding(
            RULE, ctx, deposit.client_id,
            f"Client {deposit.client_id} deposited {deposit.amount:f} "
            f"{describe_asset(asset, deposit.asset)} as perpetual margin ({deposit.deposit_id}); "
            "only fiat and HKMA-licensed stablecoins or tokenized deposits are permitted.",
            {"asset": deposit.asset, "amount": deposit.amount, "deposit_id": deposit.deposit_id,
             "asset_kind": None if asset is None else asset.kind,
             "hkma_licensed": asset is not None and asset.hkma_licensed},
        )


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(Trigger(PerpMarginDeposited, "before", on_deposit),),
)

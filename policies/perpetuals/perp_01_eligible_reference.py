"""PERP-01 Eligible reference asset.

A perpetual contract may reference only a virtual asset approved for retail spot trading on
the platform or an index whose administrator complies with the IOSCO Principles; this is
judged when the contract is listed and at every order on it, with the asset's status then.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.events import PerpContractListed, PerpOrderPlaced
from policies.finding import Finding, finding
from policies.perpetuals.framework import FRAMEWORK, describe_asset, is_eligible_reference
from policies.rule import Context, Parameter, Rule, Severity, Trigger

RULE_ID = "PERP-01"
TITLE = "Eligible reference asset"
SEVERITY: Severity = "high"
CITATION = FRAMEWORK
PARAMETERS: tuple[Parameter, ...] = ()


def _judge(ctx: Context, contract_id: str, reference: str, action: str) -> Iterator[Finding]:
    asset = ctx.book.asset(reference)
    if not is_eligible_reference(asset):
        yield finding(
            RULE, ctx, contract_id,
            f"Perpetual contract {contract_id} {action} on reference asset "
            f"{describe_asset(asset, reference)}, which is neither a retail-approved virtual "
            "asset nor an IOSCO-compliant index.",
            {"reference_asset": reference, "asset_kind": None if asset is None else asset.kind,
             "retail_spot_approved": asset is not None and asset.retail_spot_approved,
             "iosco_compliant": asset is not None and asset.iosco_compliant},
        )


def on_listed(ctx: Context) -> Iterator[Finding]:
    listed = ctx.data(PerpContractListed)
    return _judge(ctx, listed.contract_id, listed.reference_asset, "was listed")


def on_order(ctx: Context) -> Iterator[Finding]:
    order = ctx.data(PerpOrderPlaced)
    contract = ctx.book.contract(order.contract_id)
    if contract is None:
        return iter(())
    return _judge(ctx, contract.contract_id, contract.reference_asset,
                  f"received order {order.order_id}")


RULE = Rule(
    RULE_ID, TITLE, SEVERITY, CITATION, __doc__ or TITLE, PARAMETERS,
    triggers=(
        Trigger(PerpContractListed, "before", on_listed),
        Trigger(PerpOrderPlaced, "before", on_order),
    ),
)

"""What the perpetual-contract rules share."""

from __future__ import annotations

from domain.book.entities import Asset

FRAMEWORK = "High-Level Framework for VATPs offering VA perpetual contracts"


def is_eligible_reference(asset: Asset | None) -> bool:
    """A VA approved for retail spot trading, or an IOSCO-compliant index."""
    if asset is None:
        return False
    return (asset.kind == "virtual_asset" and asset.retail_spot_approved) or (
        asset.kind == "index" and asset.iosco_compliant
    )


def describe_asset(asset: Asset | None, symbol: str) -> str:
    if asset is None:
        return f"{symbol} (not listed)"
    flags = [name for name, on in (
        ("retail_spot_approved", asset.retail_spot_approved),
        ("iosco_compliant", asset.iosco_compliant),
        ("hkma_licensed", asset.hkma_licensed),
    ) if on]
    return f"{symbol} ({asset.kind}{', ' + ', '.join(flags) if flags else ''})"

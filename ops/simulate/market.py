"""Price paths in integer cents: a random walk with rare jumps, and one shock.

Every step moves a price by whole basis points drawn from integers, so no price ever passes
through binary floating point. The shock is shaped on the PAXG moves of October 2025: a fall
of 10.6 % on the shock day and a rise of 9.7 % a few days later; BTC and ETH fall with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

BPS = 10_000
STEP_BPS_MAX = 18  # one of three integers summed per step: a daily volatility near 3 %
JUMP_PER_STEP = 0.002
JUMP_BPS = (150, 450)
FLOOR_CENTS = 100

# (fall, rise) in basis points, per asset that the shock moves.
SHOCK_BPS: dict[str, tuple[int, int]] = {
    "PAXG": (-1_060, 970), "BTC": (-750, 500), "ETH": (-900, 600), "VAIDX": (-750, 500),
}


@dataclass(frozen=True, slots=True)
class AssetSpec:
    symbol: str
    kind: str
    cents: int  # the first price, HKD cents per unit; 0: never priced
    walks: bool = False  # a traded asset whose price moves every step
    retail_spot_approved: bool = False
    iosco_compliant: bool = False
    hkma_licensed: bool = False
    issuer: str | None = None


ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("HKD", "fiat", 0),
    AssetSpec("USD", "fiat", 780),
    AssetSpec("HKDX", "stablecoin", 100, hkma_licensed=True, issuer="HKDX Issuer Ltd"),
    AssetSpec("HKTD", "tokenized_deposit", 100, hkma_licensed=True, issuer="Harbour Bank"),
    AssetSpec("USDT", "stablecoin", 780, issuer="Tether"),
    AssetSpec("BTC", "virtual_asset", 54_000_000, walks=True, retail_spot_approved=True),
    AssetSpec("ETH", "virtual_asset", 2_100_000, walks=True, retail_spot_approved=True),
    AssetSpec("PAXG", "virtual_asset", 3_100_000, walks=True, retail_spot_approved=True),
    AssetSpec("SOL", "virtual_asset", 120_000, walks=True),
    AssetSpec("VAIDX", "index", 540_000, walks=True, iosco_compliant=True),
)


def price_text(cents: int) -> str:
    return format(Decimal(cents).scaleb(-2), "f")


def cents_price(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@dataclass(slots=True)
class Market:
    cents: dict[str, int] = field(default_factory=dict)
    pending_bps: dict[str, int] = field(default_factory=dict)  # a shock waiting for the next step

    def price(self, symbol: str) -> Decimal:
        """HKD is 1; anything never priced is worth 0, as the rulebook values it."""
        if symbol == "HKD":
            return Decimal(1)
        return cents_price(self.cents.get(symbol, 0))

    def step(self, symbol: str, rng: random.Random) -> int:
        bps = sum(rng.randint(-STEP_BPS_MAX, STEP_BPS_MAX) for _ in range(3))
        if rng.random() < JUMP_PER_STEP:
            bps += rng.choice((-1, 1)) * rng.randint(*JUMP_BPS)
        bps += self.pending_bps.pop(symbol, 0)
        return self.move(symbol, bps)

    def move(self, symbol: str, bps: int) -> int:
        cents = max(FLOOR_CENTS, self.cents[symbol] * (BPS + bps) // BPS)
        self.cents[symbol] = cents
        return cents

    def shock(self, rise: bool) -> None:
        for symbol, (fall_bps, rise_bps) in SHOCK_BPS.items():
            self.pending_bps[symbol] = self.pending_bps.get(symbol, 0) + (rise_bps if rise else fall_bps)

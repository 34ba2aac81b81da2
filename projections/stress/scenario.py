"""What a stress scenario is: shocked prices, written as a risk manager writes them.

A shock is relative (``BTC=-30%``: the asset's price in the state times 0.7) or absolute
(``BTC=250000``: that price, HKD). A scenario is one or more shocks applied together; a ladder
is the same asset shocked -10 % to -60 % in steps of 10, and by the worst one-day move the
ledger has seen for it (``worst_daily_move``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation, localcontext
from zoneinfo import ZoneInfo

from domain.book.entities import HKD
from domain.book.money import EXACT, ONE, ZERO, number_text
from domain.errors import InvalidRequest

LADDER_STEPS = tuple(Decimal(f"-0.{n}") for n in range(1, 7))  # -10 % .. -60 %
SHOCKS_PER_SCENARIO_MAX = 64
ASSET = re.compile(r"[A-Z0-9._-]{1,32}")
NUMBER = re.compile(r"[+-]?[0-9]{1,18}(\.[0-9]{1,18})?")
MOVE_PLACES = Decimal("0.0001")  # a worst move is shown to a hundredth of a per cent
HONG_KONG = ZoneInfo("Asia/Hong_Kong")  # a "day" of prices is a Hong Kong calendar day


@dataclass(frozen=True, slots=True)
class Shock:
    asset: str
    relative: Decimal | None = None  # -0.3 for -30 %
    price: Decimal | None = None  # an absolute price, HKD

    def __post_init__(self) -> None:
        assert (self.relative is None) != (self.price is None), "relative or absolute, not both"

    def shocked(self, current: Decimal) -> Decimal:
        """The price after the shock, exact (the caller runs under ``money.exact``)."""
        return current * (ONE + self.relative) if self.relative is not None else self.price  # type: ignore[return-value]  # one of them is set

    def label(self) -> str:
        if self.relative is not None:
            return f"{self.asset} {number_text(self.relative * 100)}%"
        return f"{self.asset} = {number_text(self.price or ZERO)}"


@dataclass(frozen=True, slots=True)
class Scenario:
    shocks: tuple[Shock, ...]
    name: str = ""  # how a table shows it: "BTC -30%", "worst 1-day move ..."
    kind: str = "shock"  # or "ladder": a rung of one

    @property
    def label(self) -> str:
        return self.name or ", ".join(s.label() for s in self.shocks)

    def shocks_json(self) -> dict[str, str]:
        """The relative shocks, as the JSON contract has them: ``{"BTC": "-0.3"}``."""
        return {s.asset: number_text(s.relative) for s in self.shocks if s.relative is not None}

    def prices_json(self) -> dict[str, str]:
        """The absolute shocks (a price set outright)."""
        return {s.asset: number_text(s.price) for s in self.shocks if s.price is not None}


def parse_shock(text: str, separator: str = "=") -> Shock:
    """``ASSET=-30%`` (or ``-0.3%``... any percentage above -100 %) or ``ASSET=250000``.
    The API writes ``ASSET:-30%`` (``=`` would need escaping in a query string)."""
    asset, sep, value = text.strip().partition(separator)
    where = f"shock {text!r}"
    if not sep or not ASSET.fullmatch(asset):
        raise InvalidRequest(f"{where}: write ASSET{separator}-30% or ASSET{separator}PRICE, e.g. BTC{separator}-30%")
    check_asset(asset, where)
    percent = value.endswith("%")
    number = value[:-1] if percent else value
    if not NUMBER.fullmatch(number):
        raise InvalidRequest(f"{where}: {value!r} is neither a percentage (-30%) nor a price (250000)")
    amount = Decimal(number)
    if percent:
        relative = amount.scaleb(-2, EXACT)
        if relative <= -1:
            raise InvalidRequest(f"{where}: a fall of 100 % or more leaves no positive price to observe")
        return Shock(asset, relative=relative)
    if amount <= 0:
        raise InvalidRequest(f"{where}: a price must be positive (a relative shock ends with %)")
    return Shock(asset, price=amount)


def check_asset(asset: str, where: str) -> None:
    if not ASSET.fullmatch(asset):
        raise InvalidRequest(f"{where}: {asset!r} is not an asset symbol (A-Z, 0-9, '.', '_', '-')")
    if asset == HKD:
        raise InvalidRequest(f"{where}: HKD is the unit of account, its price is always 1")


def scenario_of(shocks: Sequence[Shock]) -> Scenario:
    if not shocks:
        raise InvalidRequest("name at least one shock")
    if len(shocks) > SHOCKS_PER_SCENARIO_MAX:
        raise InvalidRequest(f"at most {SHOCKS_PER_SCENARIO_MAX} shocks in one scenario")
    assets = [s.asset for s in shocks]
    twice = sorted({a for a in assets if assets.count(a) > 1})
    if twice:
        raise InvalidRequest(f"{', '.join(twice)} shocked twice in one scenario")
    return Scenario(tuple(shocks))


def ladder(asset: str, worst: tuple[Decimal, str] | None = None) -> list[Scenario]:
    """-10 % to -60 %, then the worst one-day move (a fall) if the ledger has one, labelled
    with the day it happened."""
    check_asset(asset, f"ladder {asset!r}")
    rungs = [Scenario((Shock(asset, relative=step),), kind="ladder") for step in LADDER_STEPS]
    if worst is not None and worst[0] < 0:
        move, day = worst
        rungs.append(Scenario((Shock(asset, relative=move),),
                              f"{asset} {number_text(move * 100)}% (worst 1-day move, {day})", "ladder"))
    return rungs


def worst_daily_move(observations: Iterable[tuple[datetime, Decimal]]) -> tuple[Decimal, str] | None:
    """The largest one-day fall in a price history, close to close: each Hong Kong calendar
    day's last observation against the previous observed day's, rounded down (more severe) to
    a hundredth of a per cent. None without two observed days or without any fall.

    Reading: close to close is how a risk manager reads "a 1-day move"; a fall within a day
    that recovers by the close is not one (a path, ``--path``, replays such moves)."""
    closes: dict[str, Decimal] = {}
    for at, price in observations:  # in ledger order: the last one of a day is its close
        closes[at.astimezone(HONG_KONG).date().isoformat()] = price
    worst: tuple[Decimal, str] | None = None
    days = sorted(closes)
    with localcontext(Context(prec=34)):
        for previous, day in zip(days, days[1:], strict=False):
            before = closes[previous]
            if before <= 0:
                continue
            try:
                move = (closes[day] / before - ONE).quantize(MOVE_PLACES, rounding=ROUND_FLOOR)
            except InvalidOperation:  # pragma: no cover - prices are bounded decimals
                continue
            if move < 0 and (worst is None or move < worst[0]):
                worst = (move, day)
    return worst

"""The broker's haircuts: the ones it grants, its occasional reviews of a pledge, and an SFC
notice raising MF-05's minimum with prior notice.

On the notice the broker at once grants no haircut below the new minimum, and during the
notice period raises every open eligible pledge below it, so that no pledge is left for
MF-05 (b) when the new value takes effect. The lending value, like the monitor's, uses the
minimum in force: the higher one only from ``effective_from`` on.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from ops.simulate.accounts import ELIGIBLE_COLLATERAL, SimulatedClient
from ops.simulate.timeline import DAY_MS, HOUR_MS, MINUTE_MS
from ops.simulate.world import World, text

SOURCE = "risk"
HAIRCUTS = (Decimal("0.6"), Decimal("0.65"), Decimal("0.7"))
RAISED_MIN_HAIRCUT = Decimal("0.65")
NOTICE_AT_MS = 16 * HOUR_MS  # the first afternoon
NOTICE_PERIOD_DAYS_MAX = 7  # in force on the day after the notice period, or the run's last day
NOTICE_RUN_DAYS_MIN = 3  # a notice day, a day to re-haircut, a day with the new minimum in force
NOTICE_REF = "SFC notice on circular 26EC5: minimum haircut on VA collateral raised to 65 %"


def granted(w: World) -> tuple[Decimal, ...]:
    """The haircuts the broker grants now: none below its floor."""
    return tuple(h for h in HAIRCUTS if h >= w.haircut_floor)


def review(w: World, c: SimulatedClient) -> None:
    """A periodic review of one eligible pledge: another haircut the broker grants."""
    pledges = sorted(pid for pid, p in c.pledges.items() if p.asset in ELIGIBLE_COLLATERAL)
    if not pledges:
        return
    pledge_id = w.rng.choice(pledges)
    choices = [h for h in granted(w) if h != c.pledges[pledge_id].haircut]
    if choices:
        change(w, c, pledge_id, w.rng.choice(choices))


def change(w: World, c: SimulatedClient, pledge_id: str, haircut: Decimal) -> None:
    w.emit("CollateralHaircutChanged", {"pledge_id": pledge_id, "haircut": text(haircut)}, SOURCE)
    c.pledges[pledge_id].haircut = haircut
    w.refresh_broker(c)  # a higher haircut may leave the client short: a margin call follows


def schedule(w: World) -> None:
    """One notice in a run of at least ``NOTICE_RUN_DAYS_MIN`` days: notified on the first
    afternoon, in force from midnight at the start of the eighth day or of the last one."""
    days = w.config.days
    if days < NOTICE_RUN_DAYS_MIN:
        return
    effective_ms = min(NOTICE_PERIOD_DAYS_MAX, days - 1) * DAY_MS
    # Scheduled first, the change of value runs before anything else due at that instant.
    w.tl.at(effective_ms, lambda: _take_effect(w, RAISED_MIN_HAIRCUT))
    w.tl.at(NOTICE_AT_MS, lambda: _notice(w, RAISED_MIN_HAIRCUT, effective_ms))


def _notice(w: World, value: Decimal, effective_ms: int) -> None:
    w.emit("RuleParameterAmended", {
        "rule_id": "MF-05", "parameter": "min_haircut", "value": text(value),
        "effective_from": w.tl.stamp(effective_ms), "notice_ref": NOTICE_REF,
    }, "compliance")
    w.haircut_floor = value
    for c in w.clients.values():
        if _below(c, value):
            when_ms = w.between_ms(w.tl.now_ms + 30 * MINUTE_MS, effective_ms - HOUR_MS)
            w.tl.at(when_ms, partial(_raise_all, w, c, value))


def _below(c: SimulatedClient, value: Decimal) -> list[str]:
    return sorted(pid for pid, p in c.pledges.items() if p.asset in ELIGIBLE_COLLATERAL and p.haircut < value)


def _raise_all(w: World, c: SimulatedClient, value: Decimal) -> None:
    for pledge_id in _below(c, value):
        change(w, c, pledge_id, value)


def _take_effect(w: World, value: Decimal) -> None:
    w.min_haircut = value
    for c in w.clients.values():
        if _below(c, value):  # only pledges left below it (injected breaches) lend less now
            w.refresh_broker(c)

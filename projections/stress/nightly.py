"""The nightly report's "stress" section: at the cut-off, the ladders of BTC and ETH (as a
table and a chart), the ten clients who go short first, and collateral concentration.

Reading: "go short first" is by the ladder: a client short already comes first, then the
mildest rung (of either ladder) at which it is short, the larger shortfall there first, then
the client id. Only figures are kept, not every client of every rung (the JSON of
``regledger stress`` has those): the section stays small and the report byte-identical on
rerun (nothing in it reads a clock).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.book.money import number_text
from projections.asof.replay import replay
from projections.store.base import Store
from projections.stress.concentration import concentration
from projections.stress.query import ladder_of
from projections.stress.run import StressRun

REPORT_LADDERS = ("BTC", "ETH")
FIRST_SHORT_MAX = 10
RUNG_FIELDS = ("total_shortfall_after", "margin_call_count", "liquidations", "loss_beyond_margin",
               "insurance_fund_after", "loss_sharing")


def stress_section(store: Store, cutoff: datetime, through: int) -> dict[str, Any]:
    """Over the state of the events that occurred by ``cutoff`` within the first ``through``
    positions (the report's own bound), from the newest usable snapshot."""
    state = replay(store, as_of=cutoff, through=through, from_snapshot=True)
    run = StressRun(state)
    ladders: list[dict[str, Any]] = []
    first: dict[str, tuple[Decimal, Decimal, str, str]] = {}  # client -> (severity, -shortfall, asset, label)
    for client_id, f in run.before.clients.items():
        if f.shortfall > 0:
            first[client_id] = (Decimal(0), -f.shortfall, "", "short at the cut-off")
    for asset in REPORT_LADDERS:
        rungs = []
        for scenario in ladder_of(store, state, asset):
            result = run.scenario(scenario)
            rungs.append({"label": scenario.label, "shock": result["shocks"][asset],
                          **{k: result[k] for k in RUNG_FIELDS}})
            severity = -Decimal(result["shocks"][asset])
            for row in result["clients"]:
                shortfall = Decimal(row["shortfall_after"])
                if shortfall > 0:
                    mine = (severity, -shortfall, asset, scenario.label)
                    if _milder(first.get(row["client_id"]), mine):
                        first[row["client_id"]] = mine
        ladders.append({"asset": asset, "rungs": sorted(rungs, key=lambda r: -Decimal(r["shock"]))})
    ranked = sorted(first.items(), key=lambda item: (item[1][0], item[1][1], item[0]))[:FIRST_SHORT_MAX]
    return {
        **run.header(),
        "ladders": ladders,
        "first_short": [
            {"client_id": c, "asset": asset or None, "at": label, "shortfall": number_text(-short),
             "lending_value": number_text(run.before.clients[c].lending_value),
             "debt": number_text(run.before.clients[c].debt)}
            for c, (_, short, asset, label) in ranked
        ],
        "concentration": concentration(run.book, run.before.clients, run.terms),
    }


def _milder(known: tuple[Decimal, Decimal, str, str] | None, found: tuple[Decimal, Decimal, str, str]) -> bool:
    return known is None or found[:2] < known[:2]

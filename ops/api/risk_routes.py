"""The risk views over HTTP: stress (``GET /v1/stress``, ``/console/stress``) and the
deadlines board (``GET /v1/obligations``, ``/console/obligations``), for the officer and the
regulator (the "read" permission). Both only read; the shock form is a GET form."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from domain.errors import RegledgerError
from ops.api.console import page, signed_in
from ops.api.deps import Reader, aware, store_of
from ops.commands.obligations import obligations_board
from ops.commands.stress import money, percent
from ops.render import hk_time
from projections.asof.state import collateral_terms
from projections.store.base import Store
from projections.stress.query import LADDERS_MAX, run_stress, state_for_stress
from projections.stress.scenario import SHOCKS_PER_SCENARIO_MAX, parse_shock

CONSOLE_ROWS_MAX = 200  # clients short, per scenario shown on the page


def shock_of(text: str) -> Any:
    """``BTC:-30%`` as the API writes it (``=`` also taken, as the CLI writes it)."""
    return parse_shock(text, ":" if ":" in text else "=")


def console_stress(store: Store, shocks: list[str], as_of: datetime | None) -> dict[str, Any]:
    """The ladder of each eligible collateral asset (MF-04) by the fast ladder (totals only:
    the page stays quick on a large book), and the shock scenario, if one is asked, in full
    through the engine; the figures formatted for the page."""
    state = state_for_stress(store, as_of)
    assets = list(collateral_terms(state)[0])
    result = run_stress(store, ladders=assets, state=state, totals_only=True)
    if shocks:
        shocked = run_stress(store, shocks=[shock_of(s) for s in shocks], state=state)["scenarios"]
        result["scenarios"] = shocked + result["scenarios"]
    for scenario in result["scenarios"]:
        for key in ("total_shortfall_after", "loss_beyond_margin", "insurance_fund_after", "loss_sharing"):
            scenario[f"{key}_shown"] = money(scenario[key])
        if scenario["kind"] == "ladder":
            continue
        scenario["short"] = sorted(
            ({**c, "shown": (money(c["lending_value_after"]), money(c["debt"]), money(c["shortfall_after"]))}
             for c in scenario["clients"] if c["shortfall_after"] != "0"),
            key=lambda c: (-Decimal(c["shortfall_after"]), c["client_id"]),
        )[:CONSOLE_ROWS_MAX]
        for p in scenario["perp_positions"]:
            p["shown"] = (money(p["equity_after"]), money(p["maintenance_after"]), money(p["loss_beyond_margin"]))
        for asset in scenario["concentration"]["assets"]:
            asset["shown"] = (money(asset["lending_value"]), percent(asset["lending_value_share"]),
                              percent(asset["debt_share"]))
    return result


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("as of needs a UTC offset, e.g. +08:00")
    return moment


def register_risk_routes(app: FastAPI) -> None:
    @app.get("/v1/stress", tags=["risk"])
    async def get_stress(
        request: Request, principal: Reader,
        shock: Annotated[list[str] | None, Query(max_length=64, description="ASSET:-30% or ASSET:PRICE (repeatable: applied together)")] = None,
        ladder: Annotated[list[str] | None, Query(max_length=32, description="ASSET: -10% to -60% and its worst 1-day move (repeatable)")] = None,
        as_of: datetime | None = None, known_at: datetime | None = None,
        totals: Annotated[bool, Query(description="each scenario's totals only, by the fast ladder")] = False,
    ) -> dict[str, Any]:
        """Stress of the margin book and perpetual positions under shocked prices, as
        ``regledger stress --format json`` gives it (``totals``: as ``--totals``). Writes nothing."""
        if len(shock or ()) > SHOCKS_PER_SCENARIO_MAX or len(ladder or ()) > LADDERS_MAX:
            raise HTTPException(422, "too many shocks or ladders")
        shocks = [shock_of(s) for s in shock or ()]
        result: dict[str, Any] = await run_in_threadpool(
            run_stress, store_of(request), shocks=shocks, ladders=list(ladder or ()),
            as_of=aware("as_of", as_of), known_at=aware("known_at", known_at), totals_only=totals,
        )
        return result

    @app.get("/v1/obligations", tags=["risk"])
    async def get_obligations(
        request: Request, principal: Reader, now: datetime | None = None, as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """Every open obligation of the deadline rules, soonest first, with the time left by
        the wall clock (or from ``now``); findings stay in event time."""
        result: dict[str, Any] = await run_in_threadpool(
            obligations_board, store_of(request), aware("now", now), aware("as_of", as_of),
        )
        return result

    @app.get("/console/stress", include_in_schema=False)
    async def stress_page(request: Request, shock: Annotated[list[str] | None, Query(max_length=64)] = None,
                          as_of: str | None = None) -> HTMLResponse:
        principal = signed_in(request, "read")
        shocks = [s for s in shock or () if s.strip()][:SHOCKS_PER_SCENARIO_MAX]
        try:
            result = await run_in_threadpool(console_stress, store_of(request), shocks, _moment(as_of))
        except (RegledgerError, ValueError) as e:
            return page(request, "stress.html", principal, status=400, error=str(e), shocks=shocks,
                        as_of=as_of, result=None)
        return page(request, "stress.html", principal, shocks=shocks, as_of=as_of, result=result)

    @app.get("/console/obligations", include_in_schema=False)
    async def obligations_page(request: Request) -> HTMLResponse:
        principal = signed_in(request, "read")
        result = await run_in_threadpool(obligations_board, store_of(request))
        for row in result["obligations"]:
            row["deadline_shown"] = hk_time(datetime.fromisoformat(row["deadline"]))
        return page(request, "obligations.html", principal, result=result,
                    now_shown=hk_time(datetime.fromisoformat(result["now"])))

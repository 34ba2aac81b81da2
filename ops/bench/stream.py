"""The event streams benchmarks ingest.

``simulated_stream(events)``: what every benchmark measures, a run of the market simulator of
``regledger simulate`` (a broker and a platform over 30 Hong Kong days: several assets and
perpetual contracts, market makers, pledges, loans, margin calls, breaches injected at a low
rate), cut at exactly ``events`` lines.

``bench_stream(events)``: a crude, cheap generator (one contract, one asset, trades left
unsettled) kept for the reliability and monitor-runner tests that rely on its shape.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from ops.simulate import SimConfig, simulate

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BENCH_DAYS = 30
MARKET_EVENTS_PER_DAY = 4_700  # prices, quotes, funding and access logs, whatever the clients
# Measured: ~7.9 per client per day at 2,863 clients (821k events in 30 days). Sized a little
# low so that the run overshoots and the stream is cut at exactly the size asked for.
CLIENT_EVENTS_PER_DAY = 7
BENCH_VIOLATIONS = 0.002  # per rule and simulated hour: findings at a realistic, low rate


def simulated_config(events: int, seed: int = 7, violations: float = BENCH_VIOLATIONS) -> SimConfig:
    """A 30-day run of about ``events`` events (more clients for more events)."""
    clients = max(20, (events // BENCH_DAYS - MARKET_EVENTS_PER_DAY) // CLIENT_EVENTS_PER_DAY)
    return SimConfig(clients=clients, days=BENCH_DAYS, seed=seed, violations=violations)


def simulated_stream(events: int, seed: int = 7, violations: float = BENCH_VIOLATIONS) -> Iterator[bytes]:
    """Exactly ``events`` lines of a simulated run (cut short if the run is longer)."""
    run = simulate(simulated_config(events, seed, violations))
    return islice((json.dumps(e, separators=(",", ":")).encode() for e in run), events)


def _line(n: int, kind: str, at: datetime, data: dict[str, object]) -> bytes:
    envelope = {"event_id": f"b-{n:09d}", "type": kind, "occurred_at": at.isoformat(), "source": "bench", "data": data}
    return json.dumps(envelope, separators=(",", ":")).encode()


def bench_stream(
    events: int, clients: int = 10_000, seed: int = 7, retail_share: float = 0.0
) -> Iterator[bytes]:
    """Yield exactly ``events`` lines (at least a few hundred for the reference data).
    ``retail_share`` of the clients are retail, so their deposits and orders breach PI-01."""
    rng = random.Random(seed)
    at = START
    n = 0

    def emit(kind: str, data: dict[str, object]) -> bytes:
        nonlocal n, at
        n += 1
        at += timedelta(milliseconds=rng.randint(1, 40))
        return _line(n, kind, at, data)

    yield emit("AssetListed", {"asset": "HKD", "asset_kind": "fiat"})
    yield emit("AssetListed", {"asset": "BTC", "asset_kind": "virtual_asset", "retail_spot_approved": True})
    yield emit("PriceObserved", {"asset": "BTC", "price": "500000", "price_source": "bench"})
    yield emit("PerpContractListed", {"contract_id": "BTC-PERP", "reference_asset": "BTC", "settlement_asset": "HKD",
                                      "contract_size": "0.01", "initial_margin_rate": "0.1", "maintenance_margin_rate": "0.05"})
    price = 500000
    onboarded = 0
    order_no = trade_no = 0
    open_trades: list[str] = []
    while n < events:
        if onboarded < clients and (onboarded < 2 or rng.random() < 0.3):
            cid = f"C{onboarded}"
            onboarded += 1
            investor_class = "retail" if rng.random() < retail_share else "professional"
            yield emit("ClientOnboarded", {"client_id": cid, "client_type": "individual", "investor_class": investor_class,
                                           "pi_assessment": {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"},
                                           "market_maker_id": None})
            onboarding: tuple[tuple[str, dict[str, object]], ...] = (
                ("DerivativesKnowledgeAssessed", {"client_id": cid, "has_knowledge": True, "basis": "training"}),
                ("RiskDisclosureAcknowledged", {"client_id": cid, "product": "perpetuals", "version": "2026.1"}),
            )
            for kind, data in onboarding:
                if n < events:
                    yield emit(kind, data)
            if n < events:
                yield emit("PerpMarginDeposited", {"deposit_id": f"D{cid}", "client_id": cid, "asset": "HKD",
                                                   "amount": "1000000", "funding_source": "client_funds"})
            continue
        roll = rng.random()
        if roll < 0.15:
            price = max(1000, price + rng.randint(-2000, 2000))
            yield emit("PriceObserved", {"asset": "BTC", "price": str(price), "price_source": "bench"})
        elif roll < 0.85 and n + 3 <= events:
            buyer, seller = rng.sample(range(onboarded), 2)
            qty = str(rng.randint(1, 5))
            order_no += 2
            buy, sell = f"O{order_no - 1}", f"O{order_no}"
            yield emit("PerpOrderPlaced", {"order_id": buy, "client_id": f"C{buyer}", "contract_id": "BTC-PERP", "side": "buy",
                                           "quantity": qty, "limit_price": str(price), "market_maker": False})
            yield emit("PerpOrderPlaced", {"order_id": sell, "client_id": f"C{seller}", "contract_id": "BTC-PERP", "side": "sell",
                                           "quantity": qty, "limit_price": str(price), "market_maker": False})
            trade_no += 1
            open_trades.append(f"T{trade_no}")
            yield emit("PerpTradeExecuted", {"trade_id": f"T{trade_no}", "contract_id": "BTC-PERP", "buy_order_id": buy,
                                             "sell_order_id": sell, "quantity": qty, "price": str(price)})
        elif open_trades:
            yield emit("PerpTradeSettled", {"trade_id": open_trades.pop(0), "settled_by": "platform"})
        else:
            yield emit("FundingSettled", {"contract_id": "BTC-PERP", "funding_rate": "0.0001"})

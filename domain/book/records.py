"""The book as persisted records: ``(kind, key, canonical JSON)``, one per row of a table.

Decimals are written as exact strings, instants in ISO 8601 with their offset. Reading a
record back and writing it again gives the same text, so the digest of a restored book equals
the digest of the book it was saved from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.book.entities import (
    Account,
    Amendment,
    Asset,
    Client,
    Contract,
    MarketMaker,
    Obligation,
    Order,
    PIEvidence,
    Pledge,
    Position,
)
from domain.parameters import ParameterType, coerce_parameter

Json = dict[str, Any]
ParameterTypes = Mapping[str, Mapping[str, ParameterType]]


# One encoder for every record (``json.dumps`` with options builds one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(obj: object) -> str:
    return _CANONICAL.encode(obj)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _pi(pi: PIEvidence | None) -> Json | None:
    if pi is None:
        return None
    return {"portfolio": str(pi.portfolio), "total_assets": _dec(pi.total_assets),
            "assessed_on": pi.assessed_on.isoformat()}


def _unpi(obj: Json | None) -> PIEvidence | None:
    if obj is None:
        return None
    return PIEvidence(Decimal(obj["portfolio"]), _undec(obj["total_assets"]),
                      date.fromisoformat(obj["assessed_on"]))


def encode_client(c: Client) -> Json:
    return {
        "client_type": c.client_type, "investor_class": c.investor_class,
        "pi_assessment": _pi(c.pi_assessment), "market_maker_id": c.market_maker_id,
        "has_knowledge": c.has_knowledge, "disclosures": sorted(c.disclosures),
        "accounts": {k: [str(a.credit_limit), a.open, str(a.marginable_value), str(a.loan_balance)]
                     for k, a in c.accounts.items()},
        "pledges": {k: [p.asset, str(p.quantity), str(p.haircut)] for k, p in c.pledges.items()},
        "loans": {k: str(v) for k, v in c.loans.items()},
        "open_calls": sorted(c.open_calls),
        "margin": {k: str(v) for k, v in c.margin.items()},
        "closed_pnl": str(c.closed_pnl),
        "positions": {k: [str(p.quantity), str(p.cost), str(p.entry_cost), str(p.entry_quantity)]
                      for k, p in c.positions.items()},
        "short": c.short, "below_maintenance": c.below_maintenance,
    }


def decode_client(key: str, o: Json) -> Client:
    return Client(
        key, o["client_type"], o["investor_class"], _unpi(o["pi_assessment"]),
        o["market_maker_id"], o["has_knowledge"], frozenset(o["disclosures"]),
        {k: Account(k, key, Decimal(a[0]), a[1], Decimal(a[2]), Decimal(a[3]))
         for k, a in o["accounts"].items()},
        {k: Pledge(k, key, p[0], Decimal(p[1]), Decimal(p[2])) for k, p in o["pledges"].items()},
        {k: Decimal(v) for k, v in o["loans"].items()},
        frozenset(o["open_calls"]),
        {k: Decimal(v) for k, v in o["margin"].items()},
        Decimal(o["closed_pnl"]),
        {k: Position(Decimal(p[0]), Decimal(p[1]), Decimal(p[2]), Decimal(p[3]))
         for k, p in o["positions"].items()},
        o["short"], o["below_maintenance"],
    )


def encode_asset(a: Asset) -> Json:
    return {"kind": a.kind, "retail_spot_approved": a.retail_spot_approved,
            "iosco_compliant": a.iosco_compliant, "hkma_licensed": a.hkma_licensed,
            "price": _dec(a.price)}


def decode_asset(key: str, o: Json) -> Asset:
    return Asset(key, o["kind"], o["retail_spot_approved"], o["iosco_compliant"],
                 o["hkma_licensed"], _undec(o["price"]))


def encode_contract(c: Contract) -> Json:
    return {"reference_asset": c.reference_asset, "settlement_asset": c.settlement_asset,
            "contract_size": str(c.contract_size), "initial_margin_rate": str(c.initial_margin_rate),
            "maintenance_margin_rate": str(c.maintenance_margin_rate), "delisted": c.delisted,
            "last_trade_price": _dec(c.last_trade_price)}


def decode_contract(key: str, o: Json) -> Contract:
    return Contract(key, o["reference_asset"], o["settlement_asset"], Decimal(o["contract_size"]),
                    Decimal(o["initial_margin_rate"]), Decimal(o["maintenance_margin_rate"]),
                    o["delisted"], _undec(o["last_trade_price"]))


def encode_order(o: Order) -> Json:
    return {"client_id": o.client_id, "contract_id": o.contract_id, "side": o.side,
            "remaining": str(o.remaining), "limit_price": _dec(o.limit_price),
            "market_maker_account": o.market_maker_account}


def decode_order(key: str, o: Json) -> Order:
    return Order(key, o["client_id"], o["contract_id"], o["side"], Decimal(o["remaining"]),
                 _undec(o["limit_price"]), o["market_maker_account"])


def encode_obligation(o: Obligation) -> Json:
    return {"rule_id": o.rule_id, "subject": o.subject, "start_event_id": o.start_event_id,
            "start_occurred_at": o.start_occurred_at.isoformat(),
            "deadline": o.deadline.isoformat(), "parameters": dict(o.parameters),
            "evidence": dict(o.evidence)}


def decode_obligation(key: str, o: Json) -> Obligation:
    return Obligation(o["rule_id"], o["subject"], o["start_event_id"],
                      datetime.fromisoformat(o["start_occurred_at"]),
                      datetime.fromisoformat(o["deadline"]), tuple(o["parameters"].items()),
                      tuple(o["evidence"].items()))


def parameter_json(value: object) -> str | int | bool | list[str]:
    """A parameter value as JSON: decimals as exact strings, asset lists as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [str(item) for item in value]
    assert isinstance(value, str | int | bool), f"not a parameter value: {value!r}"
    return value


def encode_amendment(a: Amendment) -> Json:
    return {"rule_id": a.rule_id, "parameter": a.parameter, "value": parameter_json(a.value),
            "effective_from": a.effective_from.isoformat(), "event_id": a.event_id,
            "occurred_at": a.occurred_at.isoformat(), "position": a.position,
            "pending": a.pending}


def amendment_decoder(types: ParameterTypes) -> Callable[[str, Json], Amendment]:
    def decode(key: str, o: Json) -> Amendment:
        kind = types[o["rule_id"]][o["parameter"]]
        return Amendment(o["rule_id"], o["parameter"], coerce_parameter(kind, o["value"], stored=True),
                         datetime.fromisoformat(o["effective_from"]), o["event_id"],
                         datetime.fromisoformat(o["occurred_at"]), o["position"], o["pending"])
    return decode


def encode_market_maker(m: MarketMaker) -> Json:
    return {"affiliate": m.affiliate, "controls": list(m.controls)}


def decode_market_maker(key: str, o: Json) -> MarketMaker:
    a, b, c, d = o["controls"]
    return MarketMaker(key, o["affiliate"], (a, b, c, d))


def encode_regime(r: tuple[tuple[str, ...], Decimal]) -> Json:
    return {"eligible_assets": list(r[0]), "min_haircut": str(r[1])}


def decode_regime(key: str, o: Json) -> tuple[tuple[str, ...], Decimal]:
    return (tuple(o["eligible_assets"]), Decimal(o["min_haircut"]))


def encode_decimal(d: Decimal) -> Json:
    return {"value": str(d)}


def decode_decimal(key: str, o: Json) -> Decimal:
    return Decimal(o["value"])


"""Test builders: events written as the JSON upstream sends, parsed by ``parse_line`` and fed
to a ``MonitorEngine`` in ledger order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import Envelope, RecordedEvent, parse_line
from policies.finding import Finding, JsonParameter
from projections.monitor.engine import MonitorEngine

START = "2026-03-02T09:00:00+08:00"
RECORDED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def expected_id(rule_id: str, event_id: str, subject: str, ordinal: int = 0) -> str:
    text = f"{rule_id}|{event_id}|{subject}|{ordinal}".encode()
    return "F-" + hashlib.sha256(text).hexdigest()[:24]


def key(f: Finding) -> tuple[str, str, str, datetime, Mapping[str, object]]:
    """What most assertions compare: rule, event, subject, detection time, parameters."""
    return (f.rule_id, f.event_id, f.subject, f.detected_at, dict(f.parameters))


class Stream:
    """A ledger in miniature: each event gets the next position and, unless ``at`` says
    otherwise, a time one second after the previous one."""

    def __init__(self, engine: MonitorEngine | None = None, start: str = START) -> None:
        self.engine = engine or MonitorEngine()
        self.now = instant(start)
        self.position = 0
        self.events: list[RecordedEvent] = []
        self.last: Envelope | None = None

    def envelope(self, type_: str, data: Mapping[str, Any], at: str | None = None,
                 event_id: str | None = None) -> Envelope:
        when = instant(at) if at else self.now + timedelta(seconds=1)
        line = json.dumps({
            "event_id": event_id or f"e-{self.position + 1:04d}", "type": type_,
            "occurred_at": when.isoformat(), "source": "test", "data": dict(data),
        })
        return parse_line(line)[0]

    def send(self, type_: str, at: str | None = None, event_id: str | None = None,
             **data: Any) -> list[Finding]:
        envelope = self.envelope(type_, data, at, event_id)
        self.position += 1
        self.now = max(self.now, envelope.occurred_at)
        event = RecordedEvent(self.position, RECORDED_AT, envelope)
        self.events.append(event)
        self.last = envelope
        return self.engine.process(event)

    def check(self, type_: str, at: str | None = None, **data: Any) -> list[Finding]:
        """The pre-trade gate: what the event would raise, without processing it."""
        return self.engine.preview(self.envelope(type_, data, at), self.position + 1)

    @property
    def last_id(self) -> str:
        assert self.last is not None
        return self.last.event_id

    @property
    def last_at(self) -> datetime:
        assert self.last is not None
        return self.last.occurred_at

    # -- reference data and clients ------------------------------------------------------
    def asset(self, asset: str, kind: str = "virtual_asset", **flags: Any) -> None:
        assert self.send("AssetListed", asset=asset, asset_kind=kind, **flags) == []

    def price(self, asset: str, price: str, at: str | None = None) -> list[Finding]:
        return self.send("PriceObserved", at=at, asset=asset, price=price, price_source="feed")

    def standard_assets(self) -> None:
        self.asset("HKD", "fiat")
        self.asset("USD", "fiat")
        self.asset("BTC", retail_spot_approved=True)
        self.asset("ETH", retail_spot_approved=True)
        self.asset("SOL", retail_spot_approved=True)
        self.price("USD", "7.8")
        self.price("BTC", "500000")
        self.price("ETH", "20000")
        self.price("SOL", "1200")

    def client(self, client_id: str, *, client_type: str = "individual",
               investor_class: str = "professional", pi: dict[str, Any] | None = None,
               market_maker_id: str | None = None, ready: bool = True) -> None:
        """Onboard a client; ``ready``: with knowledge and both disclosures acknowledged."""
        if pi is None and investor_class == "professional" and client_type != "institutional":
            pi = {"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"}
        self.send("ClientOnboarded", client_id=client_id, client_type=client_type,
                  investor_class=investor_class, pi_assessment=pi, market_maker_id=market_maker_id)
        if ready:
            self.send("DerivativesKnowledgeAssessed", client_id=client_id, has_knowledge=True,
                      basis="training")
            for product in ("perpetuals", "va_financing"):
                self.send("RiskDisclosureAcknowledged", client_id=client_id, product=product,
                          version="2026.1")

    # -- margin financing ----------------------------------------------------------------
    def margin_account(self, client_id: str, account_id: str, credit_limit: str) -> None:
        self.send("SecuritiesMarginAccountOpened", client_id=client_id, account_id=account_id,
                  credit_limit=credit_limit)

    def pledge(self, pledge_id: str, client_id: str, asset: str, quantity: str,
               haircut: str = "0.6", at: str | None = None) -> list[Finding]:
        return self.send("CollateralPledged", at=at, pledge_id=pledge_id, client_id=client_id,
                         asset=asset, quantity=quantity, haircut=haircut)

    def draw(self, loan_id: str, client_id: str, account_id: str, amount: str,
             at: str | None = None) -> list[Finding]:
        return self.send("VAFinancingDrawn", at=at, loan_id=loan_id, client_id=client_id,
                         account_id=account_id, amount=amount, purpose_asset="BTC")

    def margin_call(self, call_id: str, client_id: str, due_by: str,
                    at: str | None = None) -> list[Finding]:
        return self.send("MarginCallIssued", at=at, call_id=call_id, client_id=client_id,
                         shortfall="1000", due_by=due_by)

    # -- perpetuals ------------------------------------------------------------------------
    def contract(self, contract_id: str, reference: str = "BTC", size: str = "0.01",
                 initial: str = "0.1", maintenance: str = "0.05") -> list[Finding]:
        return self.send("PerpContractListed", contract_id=contract_id, reference_asset=reference,
                         settlement_asset="HKD", contract_size=size, initial_margin_rate=initial,
                         maintenance_margin_rate=maintenance)

    def deposit(self, deposit_id: str, client_id: str, amount: str, asset: str = "HKD",
                source: str = "client_funds") -> list[Finding]:
        return self.send("PerpMarginDeposited", deposit_id=deposit_id, client_id=client_id,
                         asset=asset, amount=amount, funding_source=source)

    def order(self, order_id: str, client_id: str, side: str, quantity: str,
              limit: str | None = None, contract: str = "BTC-PERP", mm: bool = False,
              at: str | None = None) -> list[Finding]:
        return self.send("PerpOrderPlaced", at=at, order_id=order_id, client_id=client_id,
                         contract_id=contract, side=side, quantity=quantity, limit_price=limit,
                         market_maker=mm)

    def trade(self, trade_id: str, buy: str, sell: str, quantity: str, price: str,
              contract: str = "BTC-PERP", at: str | None = None) -> list[Finding]:
        return self.send("PerpTradeExecuted", at=at, trade_id=trade_id, contract_id=contract,
                         buy_order_id=buy, sell_order_id=sell, quantity=quantity, price=price)

    def fill(self, trade_id: str, buyer: str, seller: str, quantity: str, price: str,
             contract: str = "BTC-PERP") -> list[Finding]:
        """Both orders and the trade between them; the findings of the trade."""
        self.order(f"{trade_id}-B", buyer, "buy", quantity, price, contract)
        self.order(f"{trade_id}-S", seller, "sell", quantity, price, contract)
        return self.trade(trade_id, f"{trade_id}-B", f"{trade_id}-S", quantity, price, contract)

    def amend(self, rule_id: str, parameter: str, value: Any, effective_from: str,
              at: str | None = None) -> list[Finding]:
        return self.send("RuleParameterAmended", at=at, rule_id=rule_id, parameter=parameter,
                         value=value, effective_from=effective_from, notice_ref="notice")


def of_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def whole(
    stream: Stream, rule_id: str, severity: str, subject: str, message: str,
    parameters: Mapping[str, JsonParameter], evidence: Mapping[str, object], *,
    origin: tuple[str, str] | None = None, ordinal: int = 0,
) -> Finding:
    """The complete finding expected from the event just sent (or, with ``origin``, from an
    earlier event (id, occurred_at) detected by it)."""
    event_id, occurred_at = (stream.last_id, stream.last_at) if origin is None else (
        origin[0], instant(origin[1]))
    return Finding(
        expected_id(rule_id, event_id, subject, ordinal), rule_id, severity, event_id, subject,
        occurred_at, stream.last_at, stream.position, message, dict(parameters), dict(evidence),
    )

"""Small margin books and perpetual books written as upstream JSON lines, for the stress
tests: each line one event, one second after the one before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


class Lines:
    def __init__(self, start: datetime = START) -> None:
        self.lines: list[bytes] = []
        self.now = start

    def send(self, kind: str, **data: Any) -> None:
        self.now += timedelta(seconds=1)
        self.lines.append(self.line(f"s-{len(self.lines) + 1:05d}", kind, self.now, data))

    @staticmethod
    def line(event_id: str, kind: str, at: datetime, data: dict[str, Any]) -> bytes:
        return json.dumps({
            "event_id": event_id, "type": kind, "occurred_at": at.isoformat(), "source": "test", "data": data,
        }).encode()

    def market(self, btc: str = "500000", eth: str = "20000") -> None:
        self.send("AssetListed", asset="HKD", asset_kind="fiat")
        for asset, price in (("BTC", btc), ("ETH", eth)):
            self.send("AssetListed", asset=asset, asset_kind="virtual_asset", retail_spot_approved=True)
            self.send("PriceObserved", asset=asset, price=price, price_source="feed")

    def client(self, client_id: str) -> None:
        self.send("ClientOnboarded", client_id=client_id, client_type="individual",
                  investor_class="professional", market_maker_id=None,
                  pi_assessment={"portfolio": "9000000", "total_assets": None, "assessed_on": "2026-01-15"})
        self.send("DerivativesKnowledgeAssessed", client_id=client_id, has_knowledge=True, basis="training")
        for product in ("perpetuals", "va_financing"):
            self.send("RiskDisclosureAcknowledged", client_id=client_id, product=product, version="2026.1")

    def borrower(self, client_id: str, pledges: list[tuple[str, str, str]], loan: str) -> None:
        """A client with a margin account, pledges (asset, quantity, haircut) and a loan."""
        self.client(client_id)
        self.send("SecuritiesMarginAccountOpened", client_id=client_id, account_id=f"A-{client_id}",
                  credit_limit="100000000000")
        for n, (asset, quantity, haircut) in enumerate(pledges):
            self.send("CollateralPledged", pledge_id=f"P-{client_id}-{n}", client_id=client_id,
                      asset=asset, quantity=quantity, haircut=haircut)
        if loan != "0":
            self.send("VAFinancingDrawn", loan_id=f"L-{client_id}", client_id=client_id,
                      account_id=f"A-{client_id}", amount=loan, purpose_asset="BTC")

    def contract(self, contract_id: str = "ETH-PERP", reference: str = "ETH", size: str = "1",
                 initial: str = "0.2", maintenance: str = "0.1") -> None:
        self.send("PerpContractListed", contract_id=contract_id, reference_asset=reference,
                  settlement_asset="HKD", contract_size=size, initial_margin_rate=initial,
                  maintenance_margin_rate=maintenance)

    def trader(self, client_id: str, margin: str) -> None:
        self.client(client_id)
        self.send("PerpMarginDeposited", deposit_id=f"D-{client_id}", client_id=client_id,
                  asset="HKD", amount=margin, funding_source="client_funds")

    def fill(self, trade_id: str, buyer: str, seller: str, quantity: str, price: str,
             contract: str = "ETH-PERP") -> None:
        for side, who in (("buy", buyer), ("sell", seller)):
            self.send("PerpOrderPlaced", order_id=f"{trade_id}-{side}", client_id=who,
                      contract_id=contract, side=side, quantity=quantity, limit_price=price,
                      market_maker=False)
        self.send("PerpTradeExecuted", trade_id=trade_id, contract_id=contract,
                  buy_order_id=f"{trade_id}-buy", sell_order_id=f"{trade_id}-sell",
                  quantity=quantity, price=price)

    def fund(self, delta: str) -> None:
        self.send("InsuranceFundChanged", delta=delta, reason="top-up")

"""A perpetuals platform: assets of every kind, BTC-PERP (0.01 BTC, 10 % / 5 %) and
professional clients ready to trade."""

from __future__ import annotations

from tests.monitor.builders import Stream


def perp_stream(*clients: str) -> Stream:
    s = Stream()
    s.standard_assets()
    s.asset("PAXG", retail_spot_approved=False)
    s.asset("VAIDX", "index", iosco_compliant=True)
    s.asset("USDT", "stablecoin", hkma_licensed=False)
    s.asset("HKDX", "stablecoin", hkma_licensed=True)
    s.asset("TDHK", "tokenized_deposit", hkma_licensed=True)
    for asset, price in (("PAXG", "26000"), ("USDT", "7.8"), ("HKDX", "1"), ("TDHK", "1")):
        s.price(asset, price)
    s.contract("BTC-PERP")
    for client_id in clients:
        s.client(client_id)
    return s


def eth_book() -> Stream:
    """ETH-PERP (1 ETH, 20 % / 10 %), ETH at 100; L1 long 2 at 100 on 56 HKD of margin:
    equity 2m - 144 against maintenance 0.2 m, so below maintenance exactly when m < 80."""
    s = perp_stream("L1", "S1")
    s.price("ETH", "100")
    s.contract("ETH-PERP", reference="ETH", size="1", initial="0.2", maintenance="0.1")
    s.deposit("D-L1", "L1", "56")
    s.deposit("D-S1", "S1", "1000000")
    s.fill("T0", "L1", "S1", "2", "100", contract="ETH-PERP")
    return s

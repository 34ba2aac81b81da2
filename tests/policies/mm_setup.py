"""Market makers: MM-A (affiliate, all controls), MM-B (affiliate, no information barrier),
MM-C (not affiliated, no controls); their accounts MMA-1, MMB-1, MMC-1; clients K1, K2;
ETH-PERP at 20000."""

from __future__ import annotations

from tests.monitor.builders import Stream

ALL = {"information_barrier": True, "functional_independence": True,
       "conflict_monitoring": True, "client_priority": True}


def mm_stream() -> Stream:
    s = Stream()
    s.standard_assets()
    s.contract("ETH-PERP", reference="ETH", size="1", initial="0.2", maintenance="0.1")
    for mm_id, affiliate, controls in (
        ("MM-A", True, ALL),
        ("MM-B", True, {**ALL, "information_barrier": False}),
        ("MM-C", False, dict.fromkeys(ALL, False)),
    ):
        s.send("MarketMakerRegistered", mm_id=mm_id, legal_entity=f"{mm_id} Ltd",
               affiliate=affiliate, controls=controls)
    accounts: tuple[tuple[str, str | None], ...] = (("MMA-1", "MM-A"), ("MMB-1", "MM-B"), ("MMC-1", "MM-C"),
                                                     ("K1", None), ("K2", None))
    for client_id, account_of in accounts:
        s.client(client_id, client_type="corporation", market_maker_id=account_of,
                 pi={"portfolio": "10000000", "total_assets": None, "assessed_on": "2026-01-15"})
        s.deposit(f"dep-{client_id}", client_id, "100000000")
    return s

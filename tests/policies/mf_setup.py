"""A margin-financing client: C1, account A1 (credit limit 2000000), BTC at 500000."""

from __future__ import annotations

from policies.finding import JsonParameter
from tests.monitor.builders import Stream

COLLATERAL: dict[str, JsonParameter] = {"eligible_assets": ["BTC", "ETH"], "min_haircut": "0.6"}


def mf_stream(credit_limit: str = "2000000") -> Stream:
    s = Stream()
    s.standard_assets()
    s.client("C1")
    s.margin_account("C1", "A1", credit_limit)
    return s

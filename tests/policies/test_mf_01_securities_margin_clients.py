from __future__ import annotations

from tests.monitor.builders import of_rule, whole
from tests.policies.mf_setup import mf_stream


def test_drawing_on_a_closed_account_is_a_whole_finding() -> None:
    s = mf_stream()
    s.send("SecuritiesMarginAccountClosed", client_id="C1", account_id="A1")
    found = of_rule(s.draw("L1", "C1", "A1", "1000"), "MF-01")
    assert found == [whole(
        s, "MF-01", "critical", "L1",
        "VA financing L1 of HKD 1000 for client C1 was drawn on securities margin account A1, "
        "which is closed.",
        {}, {"account_id": "A1", "account_client_id": "C1", "account_open": False, "amount": "1000"},
    )]


def test_drawing_on_another_clients_account_is_a_finding() -> None:
    s = mf_stream()
    s.client("C2")
    found = of_rule(s.draw("L1", "C2", "A1", "1000"), "MF-01")
    assert [(f.subject, f.evidence["account_client_id"]) for f in found] == [("L1", "C1")]


def test_drawing_on_the_clients_own_open_account_is_compliant() -> None:
    s = mf_stream()
    assert of_rule(s.draw("L1", "C1", "A1", "1000"), "MF-01") == []

"""A value the database cannot hold (NUL, which PostgreSQL refuses even to compare) is the
request's fault on either store: a 4xx naming it, never a 500 (schemathesis found the bulk
case action answering 500 on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.api.conftest import LiveApi


@pytest.mark.parametrize("finding_id", ["F-\x00", "F-ok\x00x", "F-é"])
def test_an_id_no_finding_can_have_is_refused_in_bulk_and_grouping(live_api: LiveApi, finding_id: str) -> None:
    with live_api.client("officer") as officer:
        for path, body in (("/v1/cases/bulk", {"finding_ids": [finding_id], "action": "ack"}),
                           ("/v1/investigations/INV-1", {"finding_ids": [finding_id]})):
            answer = officer.post(path, json=body)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["detail"][0]["loc"][:2] == ["body", "finding_ids"]


def test_a_well_formed_unknown_id_is_still_not_found(live_api: LiveApi) -> None:
    with live_api.client("officer") as officer:
        assert officer.get("/v1/findings/F-none/explain").status_code == 404
        acked = officer.post("/v1/cases/bulk", json={"finding_ids": ["F-none"], "action": "ack"})
        assert acked.status_code == 200 and acked.json()["done"] == 0


def test_a_nul_in_a_path_is_refused_not_a_server_error(live_api: LiveApi) -> None:
    with live_api.client("officer") as officer:
        for path in ("/v1/findings/F-%00/explain", "/console/findings/F-%00", "/v1/quarantine/Q-%00"):
            answer = officer.get(path)
            assert answer.status_code < 500, (path, answer.status_code, answer.text[:200])
            assert answer.status_code != 200, path

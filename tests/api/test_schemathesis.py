"""Property-based requests generated from the OpenAPI document (schemathesis): no request,
however odd, with or without a token of any role, makes the server answer 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import LiveApi

EXAMPLES_MAX = 150


def test_no_generated_request_makes_the_server_answer_5xx(live_api: LiveApi) -> None:
    # schemathesis' own pytest plugin does not load under pytest 9, so its strategies are
    # driven by hypothesis directly: one strategy per operation of the live document.
    schema = schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    roles = st.sampled_from([None, *sorted(live_api.tokens)])
    failures: list[str] = []

    @settings(max_examples=EXAMPLES_MAX, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=st.one_of([op.as_strategy() for op in operations]), role=roles)
    def request_anything(case: schemathesis.Case, role: str | None) -> None:
        headers = {"Authorization": f"Bearer {live_api.tokens[role]}"} if role else {}
        response = case.call(base_url=live_api.url, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{role} {case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

    request_anything()
    assert failures == []

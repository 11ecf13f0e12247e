"""Schemathesis generates requests from the OpenAPI schema for every route: none may answer 500,
and every error is `{error, detail}`."""

import os

import schemathesis
from conftest import AUTH
from hypothesis import HealthCheck, given, settings


def is_error_json(response) -> bool:
    try:
        return set(response.json()) == {"error", "detail"}
    except ValueError:
        return False


def test_no_route_answers_500(server):
    schema = schemathesis.openapi.from_url(f"{server['client'].base_url}/openapi.json", headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=int(os.environ.get("DAM_FUZZ_EXAMPLES", "6")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def probe(case):
            response = case.call(headers=AUTH, timeout=60)
            body_expected = case.method != "HEAD"  # HEAD answers carry no body by definition
            if response.status_code >= 500 or (response.status_code >= 400 and body_expected and not is_error_json(response)):
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        probe()
    assert failures == [], "\n".join(sorted(set(failures)))

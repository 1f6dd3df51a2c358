"""Property-based fuzzing of the terminal API from its own OpenAPI: no 5xx, every error is problem+json."""
from __future__ import annotations

import uuid

import orjson
import schemathesis
from hypothesis import HealthCheck, given, settings

from support.intake import ADMIN, TOWNSHIP
from support.problems import assert_sound


@schemathesis.serializer("application/x-ndjson")
def ndjson(_context, value) -> bytes:
    """Imports take NDJSON: one generated object a line."""
    return orjson.dumps(value) + b"\n"


def check(case, intake) -> None:
    token = ADMIN if case.path.startswith("/v1/terminals") else intake.terminal(TOWNSHIP)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    response = case.call(headers=headers, timeout=30)
    assert_sound(response, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")


def test_no_server_errors_and_every_error_is_problem_json(intake):
    schema = schemathesis.openapi.from_url(f"{intake.proc.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            check(case, intake)

        fuzz()

"""Property-based testing of the terminal API against its own published OpenAPI document: at least 2,000
generated cases on a running intake, with valid tokens and, from schemathesis hooks, the ids of real matters,
petitioners, receipts and imports — no server error, and every answer's status, media type and body as the
document says (schemathesis' four checks)."""
from __future__ import annotations

import time
import uuid
from collections import Counter

import orjson
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.intake import ADMIN, BUREAU, TOWNSHIP, matter, ndjson, post_import

CASES = 2_000  # at least, over every operation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# cases per operation: the most where the rules are; the import's nested bodies take ~0.2 s each to generate
BUDGET = {"POST /v1/petitions/{petition_id}/actions": 400, "POST /v1/petitions": 260, "POST /v1/imports": 60,
          "GET /v1/units": 20, "GET /v1/categories": 20}  # the last two take no parameter
OTHERS = 180


@schemathesis.serializer("application/x-ndjson")
def ndjson_body(_context, value) -> bytes:
    """The NDJSON import's body is text (the document: a binary string): as generated, or an object a line."""
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else orjson.dumps(value) + b"\n"


def real_ids(intake) -> dict[str, list[str]]:
    """Matters of the township (registered and imported), their petitioners' refs and receipt numbers, and
    terminals the fuzzer may revoke (never the one it acts through)."""
    matters = [intake.register(TOWNSHIP) for _ in range(4)]
    for registered in matters:  # held by the township, as escalation would route them: its actions can succeed
        intake.route(registered["petition_id"], TOWNSHIP, "township")
    imported = [f"fuzz-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    r = post_import(intake, ndjson(*(matter(e) for e in imported)), unit=BUREAU)
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    ids = [m["petition_id"] for m in matters] + [x["petition_id"] for x in r.json()["results"]]
    refs = [p["ref"] for pid in ids for p in intake.get(f"/v1/petitions/{pid}", unit=BUREAU).json()["petitioners"]]
    spare = [intake.terminal_id(intake.terminal(TOWNSHIP, (role,))) for role in ("registrar", "handler", "auditor")]
    return {"petition_id": ids, "ref": refs, "terminal_id": spare, "receipt_no": [m["receipt_no"] for m in matters],
            "external_id": imported}


def test_two_thousand_generated_cases_find_no_server_error_and_every_answer_as_documented(intake):
    schema = schemathesis.openapi.from_url(f"{intake.proc.url}/openapi.json")  # = the published one (unit test)
    known = real_ids(intake)
    token = intake.terminal(TOWNSHIP)  # registrar, handler and supervisor of 城关街道

    @schema.hook
    def flatmap_path_parameters(_context, path_parameters):
        """Mostly a real id (so the case reaches the rules), sometimes the generated one (404)."""
        if not path_parameters:
            return st.just(path_parameters)
        choices = {name: st.sampled_from(known[name] + [value]) for name, value in path_parameters.items()
                   if name in known}
        return st.fixed_dictionaries(choices).map(lambda real: {**path_parameters, **real})

    @schema.hook
    def flatmap_query(context, query):
        if context.operation.path != "/v1/petitions" or query is None:
            return st.just(query)
        return st.one_of(st.just(query), *(st.sampled_from(known[name]).map(lambda v, name=name: {name: v})
                                           for name in ("receipt_no", "external_id")))

    @schema.hook
    def map_headers(_context, headers):
        """A fresh Idempotency-Key mostly (a generated one is kept when it is not printable ASCII: 400)."""
        if headers and "Idempotency-Key" in headers and str(headers["Idempotency-Key"]).isascii():
            return {**headers, "Idempotency-Key": uuid.uuid4().hex}
        return headers

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    counted: Counter[str] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    for operation in operations:
        as_admin = operation.path.startswith("/v1/terminals") or operation.path.endswith("/erasure")
        bearer = {"Authorization": f"Bearer {ADMIN if as_admin else token}"}

        @given(case=operation.as_strategy())
        @settings(max_examples=BUDGET.get(operation.label, OTHERS), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=True)
        def fuzz(case):
            response = case.call_and_validate(headers=bearer, checks=CHECKS, timeout=30)  # noqa: B023
            counted[case.operation.label] += 1
            statuses[(case.operation.label, response.status_code)] += 1

        started = time.monotonic()
        fuzz()
        print(f"{operation.label}: {counted[operation.label]} cases in {time.monotonic() - started:.1f} s")
    assert sum(counted.values()) >= CASES, counted
    assert statuses[("POST /v1/imports", 200)] >= 5, statuses  # the import exercised, not only refused
    assert statuses[("POST /v1/petitions/{petition_id}/actions", 200)] >= 1, statuses
    assert statuses[("GET /v1/petitions", 200)] >= 10, statuses

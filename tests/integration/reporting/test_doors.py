"""Every reporting door locked: each endpoint × each kind of caller against a real intake and reporting — tokens
learnt from xinfang.terminals, scope by jurisdiction subtree, revocation within 2 s, fail closed without the topic,
and schemathesis with valid tokens."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reporting.queries import DRILL
from support.intake import BUREAU, OTHER_VILLAGE_CODE, TOWNSHIP, VILLAGE, VILLAGE_CODE, Intake, intake_env
from support.kafka import delete_run_topics, run_settings
from support.problems import assert_problem
from support.process import ServiceProcess, free_port
from support.reporting import DEMO, drop_schema, start_reporting, wait_projected
from support.tokens import wait_known
from support.waiting import until
from xinfang.county import load_county

TOWNSHIP_CODE = "361402001000"
OUTSIDE_CODE = "361402101201"  # 青石村, under another township (青石镇)
OUTSIDE_NAMES = ("青石", "上坊村", "柳溪", "白沙")  # places and units outside 城关街道
YEAR = str(datetime.now().year)
CASES = 2_000  # generated, at least, over every operation and both callers
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ENDPOINTS = [
    ("/v1/stats", {}), ("/v1/stats", {"format": "csv"}), ("/v1/stats", {"format": "xlsx"}),
    ("/v1/stats/drilldown", {"figure": "cases"}), ("/v1/stats/series", {}),
    ("/v1/reports/summary", {}), ("/v1/reports/summary", {"format": "text"}),
    ("/v1/reports/summary", {"format": "docx"}), ("/v1/supervision-notices", {}), ("/v1/hotspots", {}),
]


@pytest.fixture(scope="module")
def doors(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    dsn = pg_dsn.rsplit("/", 1)[0] + "/xinfang_test"
    topics = run_settings(settings.model_copy(update={"database_url": dsn}), f"doors{run}")
    logs = tmp_path_factory.mktemp("doors")
    intake_schema, schema = f"intake_doors_{run}", f"rep_doors_{run}"
    port = free_port()
    intake_proc = ServiceProcess("intake", intake_env(topics, intake_schema, port), port=port, log=logs / "intake.log")
    reporting, intake = None, None
    try:
        intake = Intake(intake_proc.start(timeout=60), topics, intake_schema)
        reporting = start_reporting(topics, dsn, schema, logs / "reporting.log")
        for code in (VILLAGE_CODE, VILLAGE_CODE, OTHER_VILLAGE_CODE):
            intake.register(TOWNSHIP, jurisdiction=code)
        intake.register(BUREAU, jurisdiction=OUTSIDE_CODE, summary="青石村道路损毁")
        asyncio.run(wait_projected(dsn, schema, 4))
        tokens = {"village": intake.terminal(VILLAGE, ("supervisor",)),
                  "township": intake.terminal(TOWNSHIP, ("supervisor",)),
                  "bureau": intake.terminal(BUREAU, ("auditor",))}
        revoked = intake.terminal(BUREAU, ("auditor", "supervisor"))
        for token in (*tokens.values(), revoked):
            wait_known(reporting.url, token)
        yield {"intake": intake, "reporting": reporting, "tokens": tokens, "revoked": revoked, "run": run,
               "topics": topics, "dsn": dsn, "logs": logs}
    finally:
        if reporting is not None:
            reporting.stop()
        intake_proc.stop()
        if intake is not None:
            intake.http.close()
            intake.producer.close()
        asyncio.run(drop_schema(dsn, schema, intake_schema))
        delete_run_topics(topics)


def get(doors, path: str, params: dict, header: str | None) -> httpx.Response:
    headers = {} if header is None else {"Authorization": header}
    return httpx.get(f"{doors['reporting'].url}{path}", params={"year": YEAR, **params}, headers=headers, timeout=30)


def test_a_revoked_token_is_refused_by_reporting_within_two_seconds(doors):
    token = doors["revoked"]
    assert get(doors, "/v1/stats", {}, f"Bearer {token}").status_code == 200
    terminal = doors["intake"].terminal_id(token)
    started = time.monotonic()
    doors["intake"].revoke(terminal)
    answered = time.monotonic() - started
    until(lambda: get(doors, "/v1/stats/definitions", {}, f"Bearer {token}").status_code == 401,
          "reporting refusing the revoked token (401)", timeout=10, every=0.02)  # fine-grained: the time is measured
    took = time.monotonic() - started
    print(f"revocation: DELETE answered after {answered:.3f}s, refused by reporting after {took:.3f}s")
    assert took < 2.0, f"reporting refused the revoked token only after {took:.2f}s"


@pytest.mark.parametrize("path,params", ENDPOINTS, ids=[f"{p}{q.get('format', '')}" for p, q in ENDPOINTS])
def test_every_endpoint_answers_each_caller_as_its_token_and_scope_allow(doors, path, params):
    tokens = doors["tokens"]
    assert_problem(get(doors, path, params, None), 401)
    assert_problem(get(doors, path, params, "Bearer not-a-token"), 401)
    assert_problem(get(doors, path, params, "Basic dXNlcjpwYXNz"), 401)
    revoked = doors["revoked"]
    if get(doors, "/v1/stats/definitions", {}, f"Bearer {revoked}").status_code == 200:
        doors["intake"].revoke(doors["intake"].terminal_id(revoked))  # the revocation test may not have run first
        until(lambda: get(doors, "/v1/stats/definitions", {}, f"Bearer {revoked}").status_code == 401,
              "reporting refusing the revoked token (401)", timeout=10, every=0.05)
    assert_problem(get(doors, path, params, f"Bearer {revoked}"), 401)
    # a village's terminal: another village, its township, another township → 404, as if they did not exist
    for code in (OTHER_VILLAGE_CODE, TOWNSHIP_CODE, OUTSIDE_CODE):
        assert_problem(get(doors, path, {**params, "jurisdiction": code}, f"Bearer {tokens['village']}"), 404)
    assert_problem(get(doors, path, {**params, "unit": "station.361402101000"}, f"Bearer {tokens['village']}"), 404)
    # a township's terminal: its township and villages yes, the county and another township no
    township = f"Bearer {tokens['township']}"
    assert_problem(get(doors, path, {**params, "jurisdiction": OUTSIDE_CODE}, township), 404)
    assert_problem(get(doors, path, {**params, "jurisdiction": "361402000000"}, township), 404)
    for asked in ({}, {"jurisdiction": TOWNSHIP_CODE}, {"jurisdiction": VILLAGE_CODE}):
        r = get(doors, path, {**params, **asked}, township)
        assert r.status_code == 200, r.text[:300]
        within_township(r)
    # the county bureau's auditor: the whole county, the other township included
    r = get(doors, path, params, f"Bearer {tokens['bureau']}")
    assert r.status_code == 200, r.text[:300]


def within_township(r: httpx.Response) -> None:
    """No figure or matter outside 城关街道 in a 200 body."""
    kind = r.headers["content-type"]
    if kind.startswith("application/json"):
        body = r.json()
        scope = body.get("scope", {}).get("jurisdiction", {}).get("code")
        assert scope in (None, TOWNSHIP_CODE, VILLAGE_CODE), scope
        for unit in body.get("units", []):
            assert unit["unit"].startswith(("station.361402001", "room.361402001")), unit
        for matter in body.get("matters", []):
            assert matter["jurisdiction"].startswith("361402001"), matter
        if "figures" in body and scope == TOWNSHIP_CODE:
            assert body["figures"]["cases"]["value"] == 3  # the three matters of its villages, not the fourth
    if kind.startswith(("application/json", "text/")):
        assert not any(name in r.text for name in OUTSIDE_NAMES), r.text[:500]


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_the_assessment_answers_each_caller_as_its_token_and_scope_allow(doors, fmt):
    """No token, a wrong one or a revoked one: 401; a place outside the terminal's subtree, or a caller without a
    supervisor's, auditor's or admin's role: 404; within: only the units and places below the place asked."""
    params, tokens = {"format": fmt}, doors["tokens"]
    for header in (None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"):
        assert_problem(get(doors, "/v1/assessment", params, header), 401)
    township = f"Bearer {tokens['township']}"
    for code in (OUTSIDE_CODE, "361402000000"):
        assert_problem(get(doors, "/v1/assessment", {**params, "jurisdiction": code}, township), 404)
    for code in (OTHER_VILLAGE_CODE, TOWNSHIP_CODE):
        assert_problem(get(doors, "/v1/assessment", {**params, "jurisdiction": code},
                           f"Bearer {tokens['village']}"), 404)
    handler = doors["intake"].terminal(VILLAGE, ("handler", "registrar"))
    wait_known(doors["reporting"].url, handler)
    assert_problem(get(doors, "/v1/assessment", params, f"Bearer {handler}"), 404)
    r = get(doors, "/v1/assessment", params, township)
    assert r.status_code == 200, r.text[:300]
    within_township(r)
    if fmt == "json":
        body = r.json()
        assert body["jurisdiction"]["code"] == TOWNSHIP_CODE
        assert {row["jurisdiction"] for row in body["jurisdictions"]} == {
            j.code for j in load_county(DEMO).descendants(TOWNSHIP_CODE)}
        assert body["units"] and all(row["unit"].startswith(("station.361402001", "room.361402001"))
                                     for row in body["units"])
    whole = get(doors, "/v1/assessment", params, f"Bearer {tokens['bureau']}")
    assert whole.status_code == 200, whole.text[:300]
    if fmt == "json":
        assert any(row["name"].startswith("青石") for row in whole.json()["jurisdictions"])


def test_the_definitions_need_a_token_but_no_scope_and_the_health_pages_none(doors):
    assert_problem(get(doors, "/v1/stats/definitions", {}, None), 401)
    assert get(doors, "/v1/stats/definitions", {}, f"Bearer {doors['tokens']['village']}").status_code == 200
    for path in ("/livez", "/readyz", "/metrics"):
        assert httpx.get(f"{doors['reporting'].url}{path}").status_code == 200, path


def test_a_handler_reads_its_own_units_figures_only(doors):
    handler = f"Bearer {doors['intake'].terminal(VILLAGE, ('handler', 'registrar'))}"
    wait_known(doors["reporting"].url, handler.removeprefix("Bearer "))
    mine = get(doors, "/v1/stats", {}, handler)
    assert mine.status_code == 200 and mine.json()["scope"]["unit"]["id"] == VILLAGE
    assert_problem(get(doors, "/v1/stats", {"jurisdiction": VILLAGE_CODE}, handler), 404)
    assert_problem(get(doors, "/v1/stats/drilldown", {"figure": "cases", "unit": "room.361402001002"}, handler), 404)


def test_a_reporting_restarted_without_the_topic_refuses_every_token(doors):
    """Fails closed: with the broker unreachable it never learns the tokens, and refuses them all (503)."""
    topics = doors["topics"].model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    cut_off = start_reporting(topics, doors["dsn"], f"rep_doors_{doors['run']}", doors["logs"] / "cut-off.log",
                              XINFANG_CONSUMER_ENABLED="false")
    try:
        for token in doors["tokens"].values():
            r = httpx.get(f"{cut_off.url}/v1/stats", params={"year": YEAR},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert_problem(r, 503)
        assert httpx.get(f"{cut_off.url}/readyz").json()["tokens_current"] is False
    finally:
        cut_off.stop()


def test_two_thousand_generated_cases_with_valid_tokens_find_no_server_error_and_every_answer_as_documented(doors):
    """schemathesis' four checks against the running service, its answers read against the published document;
    the hooks put real codes of the demo county (places, units, categories, figures, periods) into most queries."""
    schema = schemathesis.openapi.from_url(f"{doors['reporting'].url}/openapi.json")  # = the published one
    county = load_county(DEMO)
    real = {"jurisdiction": [j.code for j in county.jurisdictions], "unit": [u.id for u in county.units],
            "category": [k.code for k in county.categories], "channel": ["visit", "letter", "online", "phone"],
            "figure": sorted(DRILL), "quarter": [f"{YEAR}Q1", "2019Q1"], "month": [f"{YEAR}-01"], "year": [YEAR],
            "as_of": [f"{YEAR}-03-31T12:00:00+08:00"], "known_at": [datetime.now().astimezone().isoformat()],
            "compare": ["yoy", "mom", "yoy,mom"], "format": []}

    @schema.hook
    def flatmap_query(context, query):
        """As generated (mostly refused, 422), or with each parameter the county knows given a real value and the
        free-form period bounds left out (mostly answered)."""
        if not query:
            return st.just(query)
        period = next((name for name in ("quarter", "month", "year") if name in query), "quarter")  # one, always
        place = next((name for name in ("jurisdiction", "unit") if name in query), None)
        names = {period, *(name for name in query if name in real and name not in {"quarter", "month", "year",
                                                                                  "jurisdiction", "unit"}
                           or name == place)}
        formats = {"/v1/reports/summary": ["json", "text", "docx"], "/v1/bulletin": ["docx", "pdf"]}.get(
            context.operation.path, ["json", "csv", "xlsx"])
        known = {name: st.sampled_from(formats if name == "format" else real[name]) for name in names}
        return st.one_of(st.just(query), st.fixed_dictionaries(known))

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    counted: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    for operation in operations:
        for who in ("township", "bureau"):
            bearer = {"Authorization": f"Bearer {doors['tokens'][who]}"}

            @given(case=operation.as_strategy())
            @hsettings(max_examples=10 if operation.path == "/v1/stats/definitions" else CASES // 18 + 12,
                       deadline=None, suppress_health_check=list(HealthCheck),
                       database=None, print_blob=True)
            def fuzz(case):
                response = case.call_and_validate(headers=bearer, checks=CHECKS, timeout=30)  # noqa: B023
                counted[case.operation.label] += 1
                statuses[response.status_code] += 1

            started = time.monotonic()
            fuzz()
            print(f"{operation.label} as {who}: {counted[operation.label]} cases so far, {time.monotonic() - started:.1f} s")
    assert sum(counted.values()) >= CASES, counted
    assert statuses[200] >= CASES // 4 and statuses[404] and statuses[422], statuses  # answers, not only refusals

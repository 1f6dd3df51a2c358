"""The published OpenAPI documents of intake and reporting: current, and true to the wire in what FastAPI cannot
infer (bearer scheme, problem+json errors, the Idempotency-Key, X-Request-Id, ASCII names); and the request id on
every answer, a 500 included, from an app run in-process (no server)."""
from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI

from xinfang import apidocs, logs
from xinfang.problems import PROBLEM, install


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    from intake.openapi import document as intake_document
    from reporting.openapi import PUBLISHED, document

    assert json.loads(PUBLISHED.read_text()) == json.loads(json.dumps(document())), \
        "regenerate: python -m reporting.openapi"
    return {"intake": intake_document(), "reporting": document()}


OPEN = {"GET /v1/dashboard"}  # the page holds no figure: it asks for the token itself
OPEN_PORTAL = "/portal/v1/"  # the petitioner's portal: receipt number and query code in the body, no terminal token
# POSTs that read (the identifier goes in the body, never a URL), so no Idempotency-Key: their answers hold names
READS_BY_POST = {"POST /v1/lookups/id-number", "POST /v1/lookups/phone", "POST /v1/petitions/repeat-check"}


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_the_published_reporting_document_is_current(documents):
    assert "/v1/stats" in documents["reporting"]["paths"]


@pytest.mark.parametrize("service", ["intake", "reporting"])
def test_every_operation_that_reads_a_token_says_bearer_and_names_nothing_in_chinese(documents, service):
    doc = documents[service]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    assert all(tag["name"].isascii() for tag in doc["tags"])
    for where, operation in operations(doc):
        assert operation["operationId"].isascii() and re.fullmatch(r"[a-z_]+", operation["operationId"]), where
        assert all(tag.isascii() for tag in operation.get("tags", [])), where
        assert not [p for p in operation.get("parameters", []) if p["name"].lower() == "authorization"], where
        if where not in OPEN and OPEN_PORTAL not in where:
            assert operation.get("security") == [{"bearer": []}], f"{where}: open on purpose? then list it in OPEN"


@pytest.mark.parametrize("service", ["intake", "reporting"])
def test_every_error_is_the_problem_document_and_every_answer_names_its_request_id(documents, service):
    doc = documents[service]
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's 422 list, never sent
    for where, operation in operations(doc):
        assert "422" in operation["responses"], where
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-Id"] == {"$ref": "#/components/headers/X-Request-Id"}, where
            if status[0] in "45":
                assert response["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}


def test_intake_documents_the_idempotency_key_it_requires_and_both_forms_of_import(documents):
    doc = documents["intake"]
    for where, operation in operations(doc):
        keys = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if where.startswith("POST") and where != "POST /v1/terminals" and where not in READS_BY_POST \
                and OPEN_PORTAL not in where:
            assert keys and keys[0]["required"] is True and "400" in operation["responses"], where
        else:
            assert not keys, where
    imports = doc["paths"]["/v1/imports"]["post"]
    assert {"400", "401", "403", "404", "409", "413", "415", "422", "429"} <= set(imports["responses"])
    body = imports["requestBody"]["content"]
    lines = body["application/x-ndjson"]["example"].splitlines()
    assert len(lines) == 2 and all(json.loads(line)["external_id"] for line in lines)
    assert body["application/json"]["schema"]["properties"]["matters"]["items"] == {
        "$ref": "#/components/schemas/ImportedMatter"}
    for name in ("PetitionPublic", "Registration", "WorkItem", "ImportResult"):
        field = doc["components"]["schemas"][name]["properties"]["petition_id"]
        assert "uuid" in json.dumps(field), name
    lookup = {p["name"] for p in doc["paths"]["/v1/petitions"]["get"]["parameters"]}
    assert lookup == {"external_id", "receipt_no"}


def test_reporting_documents_each_export_media_type(documents):
    paths = documents["reporting"]["paths"]
    assert set(paths["/v1/stats"]["get"]["responses"]["200"]["content"]) == {
        "application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert set(paths["/v1/reports/summary"]["get"]["responses"]["200"]["content"]) == {
        "application/json", "text/plain", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    assert set(paths["/v1/dashboard"]["get"]["responses"]["200"]["content"]) == {"text/html"}
    for path, media in (("/v1/stats.csv", "text/csv"), ("/v1/reports/summary.txt", "text/plain"),
                        ("/v1/stats.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                        ("/v1/reports/summary.docx",
                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document")):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == [media], path  # one each: generated clients


def small_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    install(app, "test")
    apidocs.install_pages(app, "test")
    seen: dict = {}

    @app.get("/ok")
    async def ok() -> dict:
        seen["logged"] = logs.request_id.get()
        return {}

    @app.get("/crash")
    async def crash() -> dict:
        raise RuntimeError("a bug")

    app.add_middleware(apidocs.RequestIds)
    app.state.seen = seen
    return app


async def test_every_answer_carries_a_request_id_a_500_included_and_a_callers_id_is_kept():
    app = small_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        given = await client.get("/ok", headers={"X-Request-Id": "term-42"})
        assert given.headers["x-request-id"] == "term-42" and app.state.seen["logged"] == "term-42"
        made = await client.get("/ok", headers={"X-Request-Id": "x" * 65})  # too long: one is made up
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        crashed = await client.get("/crash", headers={"X-Request-Id": "term-43"})
        assert crashed.status_code == 500 and crashed.headers["content-type"] == PROBLEM
        assert crashed.headers["x-request-id"] == "term-43"
        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.headers["x-request-id"]
        assert logs.request_id.get() is None


async def test_the_documentation_pages_name_no_other_host(tmp_path, monkeypatch):
    app = small_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, page
            assets = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert assets and all(a.startswith(apidocs.ASSET_PREFIX + "/") for a in assets), assets
        unknown = await client.get(f"{apidocs.ASSET_PREFIX}/nothing.js")
        assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    with pytest.raises(apidocs.Problem) as missing:  # npm ci not run: 503 naming the package
        apidocs.asset("redoc.standalone.js", tmp_path)
    assert missing.value.status == 503 and "redoc" in missing.value.en


async def test_intakes_own_refusal_before_any_route_413_carries_the_request_id_too():
    import base64

    from intake.app import create_app
    from intake.settings import IntakeSettings

    app = create_app(IntakeSettings(admin_token="x" * 32, master_key=base64.b64encode(bytes(32)).decode()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        r = await client.post("/v1/petitions", content=b"{}", headers={"Content-Length": "99999999",
                                                                        "X-Request-Id": "term-44"})
    assert r.status_code == 413 and r.headers["x-request-id"] == "term-44" and r.json()["code"] == "too_large"

"""The published OpenAPI documents as a vendor uses them, against a running intake and reporting: a client generated
with openapi-python-client from each (into tmp_path, at test time) calls every operation and reads every error as
the problem document; and the /docs and /redoc pages render in headless Chromium with every request to another
host refused (a county network without internet)."""
from __future__ import annotations

import asyncio
import importlib
import io
import json
import shutil
import subprocess
import sys
import uuid

import pytest

from support.intake import ADMIN, BUREAU, OTHER_VILLAGE, TOWNSHIP, VILLAGE, VILLAGE_CODE, matter, ndjson, start_intake
from support.kafka import delete_run_topics
from support.process import ROOT
from support.reporting import drop_schema, start_reporting
from support.tokens import wait_known
from support.waiting import until

DOCUMENTS = {"intake": ROOT / "docs" / "intake-openapi.json", "reporting": ROOT / "docs" / "reporting-openapi.json"}
GENERATOR_CONFIG = ROOT / "docs" / "openapi-python-client.yaml"
ACTION_MODELS = {"accept": "AcceptIn", "decline": "DeclineIn", "transfer": "TransferIn", "object": "ObjectIn",
                 "extend": "ExtendIn", "suspend": "SuspendIn", "resume": "ResumeIn", "reply": "ReplyIn",
                 "request_review": "RequestReviewIn", "reply_review": "ReplyReviewIn",
                 "request_recheck": "RequestRecheckIn", "reply_recheck": "ReplyRecheckIn", "evaluate": "EvaluateIn",
                 "withdraw": "WithdrawIn"}
REGISTRATION = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资",
                "head_count": 3, "petitioners": [{"name": "张三", "phone": "13800000000"}]}


@pytest.fixture(scope="module")
def services(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    """intake (3 failed authentications a minute: the 429 is reachable) and reporting on one run's topics."""
    logs = tmp_path_factory.mktemp("contracts")
    intake = start_intake(settings, pg_dsn, logs, XINFANG_AUTH_FAILURES_PER_MINUTE="3")
    dsn, schema, reporting = intake.settings.database_url, f"rep_contracts_{uuid.uuid4().hex[:8]}", None
    try:
        reporting = start_reporting(intake.settings, dsn, schema, logs / "reporting.log")
        for unit, roles in ((BUREAU, ("auditor",)), (TOWNSHIP, ("supervisor",)), (VILLAGE, ("registrar",))):
            intake.terminal(unit, roles)  # made now: after the 429 the admin token too waits a minute
        for unit in (BUREAU, TOWNSHIP, OTHER_VILLAGE):
            intake.terminal(unit)
        yield intake, reporting
    finally:
        if reporting is not None:
            reporting.stop()
        intake.proc.stop()
        intake.http.close()
        intake.producer.close()
        asyncio.run(drop_schema(dsn, schema, intake.schema))
        delete_run_topics(intake.settings)


def generated(service: str, folder):
    """The client package generated from the published document, imported (``<service>_client``)."""
    generator = shutil.which("openapi-python-client", path=str(sys.executable).rsplit("/", 1)[0])
    assert generator, "openapi-python-client is a test dependency (pip install -e '.[test]')"
    out = folder / f"{service}_client"
    done = subprocess.run([generator, "generate", "--path", str(DOCUMENTS[service]), "--output-path", str(out),
                           "--meta", "none", "--config", str(GENERATOR_CONFIG)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "Warning" not in done.stdout, done.stdout + done.stderr  # every operation made
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return lambda name: importlib.import_module(f"{service}_client.{name}")


def problem_of(answer, status: int, code: str, models) -> None:
    """An error answer the generated client parsed into its problem type."""
    assert answer.status_code == status, (answer.status_code, answer.content[:300])
    assert isinstance(answer.parsed, models.ProblemDocument), answer.content[:300]
    assert (answer.parsed.status, answer.parsed.code) == (status, code) and answer.parsed.detail_zh
    assert answer.headers["x-request-id"]


def test_a_client_generated_from_the_intake_document_calls_every_operation_and_reads_every_error(services, tmp_path):
    intake, _ = services
    mod = generated("intake", tmp_path)
    models, client = mod("models"), mod("client")
    op = lambda tag, name: mod(f"api.{tag}.{name}").sync_detailed  # noqa: E731
    key = lambda: uuid.uuid4().hex  # noqa: E731
    url = intake.proc.url
    admin = client.AuthenticatedClient(base_url=url, token=ADMIN, timeout=30)
    made = op("terminals", "create_terminal")(client=admin, body=models.TerminalCreate.from_dict(
        {"unit_id": VILLAGE, "name": "生成的客户端", "roles": ["registrar", "handler", "supervisor"]}))
    assert made.status_code == 201 and isinstance(made.parsed, models.TerminalCreated)
    village = client.AuthenticatedClient(base_url=url, token=made.parsed.token, timeout=30)
    township = client.AuthenticatedClient(base_url=url, token=intake.terminal(TOWNSHIP), timeout=30)
    bureau = client.AuthenticatedClient(base_url=url, token=intake.terminal(BUREAU), timeout=30)

    def register() -> uuid.UUID:
        answer = op("petitions", "register_petition")(client=village, idempotency_key=key(),
                                                     body=models.PetitionCreate.from_dict(REGISTRATION))
        assert answer.status_code == 201 and isinstance(answer.parsed, models.Registration), answer.content
        assert isinstance(answer.parsed.petition_id, uuid.UUID)
        return answer.parsed.petition_id

    def act(pid: uuid.UUID, body: dict, by=village, status: str | None = None):
        answer = op("petitions", "act_on_petition")(
            pid, client=by, idempotency_key=key(), body=getattr(models, ACTION_MODELS[body["action"]]).from_dict(body))
        assert answer.status_code == 200 and isinstance(answer.parsed, models.PetitionPublic), answer.content
        assert status is None or answer.parsed.status == status, (body, answer.parsed.status)
        return answer.parsed

    pid = register()
    visit = op("petitions", "record_visit")(pid, client=village, idempotency_key=key(),
                                             body=models.VisitCreate.from_dict({"channel": "letter", "head_count": 2}))
    assert visit.status_code == 201 and visit.parsed.batches == 2 and visit.parsed.petition_id == pid
    intake.route(str(pid), VILLAGE, "village")
    act(pid, {"action": "accept"}, status="accepted")
    assert act(pid, {"action": "suspend", "reason": "听证"}).suspended is True
    assert act(pid, {"action": "resume"}).suspended is False
    assert act(pid, {"action": "extend", "days": 3, "reason": "情况复杂"}).extended is True
    act(pid, {"action": "reply", "decision": "explain", "resolved": False,
              "facts": "已查明", "grounds": "已解释"}, status="replied")
    act(pid, {"action": "evaluate", "satisfaction": "dissatisfied"})
    act(pid, {"action": "request_review", "reason": "不服"}, status="review_requested")
    intake.route(str(pid), TOWNSHIP, "township", kind="review")
    act(pid, {"action": "reply_review", "decision": "explain", "resolved": False, "facts": "已查明", "grounds": "维持"}, township,
        "reviewed")
    act(pid, {"action": "request_recheck", "reason": "仍不服"}, status="recheck_requested")
    intake.route(str(pid), BUREAU, "county", kind="recheck")
    act(pid, {"action": "reply_recheck", "decision": "reject", "resolved": False, "facts": "已查明", "grounds": "终结"}, bureau,
        "terminated")
    for body, status in (({"action": "decline", "reason": "属诉讼事项", "redirect": "court"}, "declined"),
                         ({"action": "transfer", "reason": "属住建职责", "category": "housing"}, "transferred"),
                         ({"action": "object", "reason": "非本单位职责"}, "objected")):
        other = register()
        intake.route(str(other), VILLAGE, "village")
        act(other, body, status=status)
    act(register(), {"action": "withdraw", "reason": "已自行协商"}, status="withdrawn")

    shown = op("petitions", "get_petition")(pid, client=village)
    assert shown.status_code == 200 and shown.parsed.petitioners[0].name == "张三"
    work = op("petitions", "worklist")(client=village)
    assert work.status_code == 200 and all(isinstance(item, models.WorkItem) for item in work.parsed)
    assert {u.id for u in op("reference", "list_units")(client=village).parsed} >= {VILLAGE, TOWNSHIP, BUREAU}
    assert "labour" in {k.code for k in op("reference", "list_categories")(client=village).parsed}

    # history: the JSON form and the NDJSON form, then the lookups by external id and by receipt number
    external = [f"gen-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    small = op("imports", "import_history")(client=bureau, idempotency_key=key(),
                                            body=models.ImportHistoryJsonBody.from_dict({"matters": [matter(external[0])]}))
    assert small.status_code == 200 and (small.parsed.created, small.parsed.refused) == (1, 0), small.content
    types = importlib.import_module("intake_client.types")
    stream = op("imports", "import_history")(client=bureau, idempotency_key=key(),
                                             body=types.File(payload=io.BytesIO(ndjson(matter(external[1])))))
    assert stream.status_code == 200 and stream.parsed.created == 1, stream.content
    find = op("petitions", "find_petitions")
    by_external = find(client=bureau, external_id=external[1]).parsed
    assert [m.petition_id for m in by_external] == [stream.parsed.results[0].petition_id] and by_external[0].imported
    by_receipt = find(client=village, receipt_no=shown.parsed.receipt_no).parsed
    assert [m.petition_id for m in by_receipt] == [pid]
    elsewhere = client.AuthenticatedClient(base_url=url, token=intake.terminal(OTHER_VILLAGE), timeout=30)
    assert find(client=elsewhere, receipt_no=shown.parsed.receipt_no).parsed == []  # outside: as if none
    assert find(client=village, external_id="no-such-id").parsed == []

    erased = op("personal_data", "erase_petitioner")(pid, shown.parsed.petitioners[0].ref, client=admin,
                                                     idempotency_key=key())
    assert erased.status_code == 200 and isinstance(erased.parsed, models.PetitionPublic)
    assert op("petitions", "get_petition")(pid, client=village).parsed.petitioners[0].erased is True

    # every error, read as the problem document
    fresh = register()
    register_op = op("petitions", "register_petition")
    problem_of(register_op(client=village, idempotency_key="\"\"", body=models.PetitionCreate.from_dict(REGISTRATION)),
               400, "idempotency.invalid", models)
    problem_of(op("imports", "import_history")(
        client=client.AuthenticatedClient(base_url=url, token=intake.terminal(VILLAGE, ("registrar",)), timeout=30),
        idempotency_key=key(), body=models.ImportHistoryJsonBody.from_dict({"matters": [matter("x")]})),
        403, "refused.role", models)
    problem_of(op("petitions", "get_petition")(uuid.uuid4(), client=village), 404, "refused.unknown", models)
    problem_of(op("petitions", "act_on_petition")(fresh, client=village, idempotency_key=key(),
                                                  body=models.AcceptIn.from_dict({"action": "accept"})),
               409, "refused.status", models)
    huge = models.PetitionCreate.from_dict({**REGISTRATION, "summary": "长" * 400_000})  # over 1 MB as UTF-8
    problem_of(register_op(client=village, idempotency_key=key(), body=huge), 413, "too_large", models)
    unsupported = village.get_httpx_client().post("/v1/imports", content=b"a,b\n", headers={
        "Content-Type": "text/csv", "Idempotency-Key": key()})
    assert unsupported.status_code == 415
    assert models.ProblemDocument.from_dict(unsupported.json()).code == "media_type"  # the generated model reads it
    invalid = register_op(client=village, idempotency_key=key(),
                          body=models.PetitionCreate.from_dict({**REGISTRATION, "head_count": 0}))
    problem_of(invalid, 422, "validation", models)
    assert [e.field for e in invalid.parsed.errors] == ["head_count"]
    assert op("terminals", "revoke_terminal")(made.parsed.id, client=admin).status_code == 204
    problem_of(op("reference", "list_units")(client=village), 401, "auth.invalid", models)  # revoked


def test_a_client_generated_from_the_reporting_document_reads_every_figure_export_and_error(services, tmp_path):
    intake, reporting = services
    mod = generated("reporting", tmp_path)
    models, client = mod("models"), mod("client")
    op = lambda tag, name: mod(f"api.{tag}.{name}").sync_detailed  # noqa: E731
    auditor, township = intake.terminal(BUREAU, ("auditor",)), intake.terminal(TOWNSHIP, ("supervisor",))
    for token in (auditor, township):
        wait_known(reporting.url, token)
    r = intake.http.post("/v1/imports", content=ndjson(*(matter(f"rep-{uuid.uuid4().hex[:8]}") for _ in range(3))),
                         headers={"Authorization": f"Bearer {intake.terminal(BUREAU)}",
                                  "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["created"] == 3, r.text
    bureau = client.AuthenticatedClient(base_url=reporting.url, token=auditor, timeout=30)

    def counted():
        answer = op("statistics", "get_stats")(client=bureau, quarter="2019Q1")
        return answer if answer.parsed["figures"]["cases"]["value"] >= 3 else None

    stats = until(counted, "reporting counting the 3 imported matters", timeout=60)
    assert stats.status_code == 200 and stats.parsed["figures"]["batches"]["value"] >= 6
    csv = op("statistics", "export_stats_csv")(client=bureau, quarter="2019Q1")
    assert csv.status_code == 200 and isinstance(csv.parsed, str) and "cases" in csv.parsed
    xlsx = op("statistics", "export_stats_xlsx")(client=bureau, quarter="2019Q1")
    assert xlsx.status_code == 200 and xlsx.parsed.payload.read(2) == b"PK"  # a zip: the workbook
    assert op("statistics", "get_definitions")(client=bureau).parsed["figures"]
    drill = op("statistics", "get_drilldown")(client=bureau, quarter="2019Q1", figure="cases")
    assert drill.status_code == 200 and len(json.dumps(drill.parsed.to_dict(), ensure_ascii=False)) > 100
    assert op("statistics", "get_series")(client=bureau, quarter="2019Q1").status_code == 200
    assert "2019" in op("reports", "get_summary")(client=bureau, quarter="2019Q1").parsed["title"]
    text = op("reports", "export_summary_text")(client=bureau, quarter="2019Q1")
    assert text.status_code == 200 and "件" in text.parsed
    docx = op("reports", "export_summary_docx")(client=bureau, quarter="2019Q1")
    assert docx.status_code == 200 and docx.parsed.payload.read(2) == b"PK"
    page = op("dashboard", "get_dashboard")(client=client.Client(base_url=reporting.url, timeout=30), year="2019")
    assert page.status_code == 200 and "信访统计看板" in page.parsed

    problem_of(op("statistics", "get_stats")(client=client.AuthenticatedClient(
        base_url=reporting.url, token="xft_not-a-token", timeout=30), quarter="2019Q1"), 401, "auth.invalid", models)
    outside = client.AuthenticatedClient(base_url=reporting.url, token=township, timeout=30)
    problem_of(op("statistics", "get_stats")(client=outside, quarter="2019Q1", jurisdiction="361402101201"),
               404, "scope", models)
    problem_of(op("statistics", "get_stats")(client=bureau, month="2019-13"), 422, "validation", models)
    problem_of(op("statistics", "get_drilldown")(client=bureau, quarter="2019Q1", figure="nothing"), 422,
               "validation", models)


@pytest.mark.parametrize("service", ["intake", "reporting"])
def test_the_api_pages_render_every_operation_in_headless_chromium_with_no_other_host(services, service):
    """Playwright drives Debian's chromium (executable_path; never `playwright install`); every request to another
    host is aborted and listed, as on a county network cut off from the internet."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed for the page test: apt-get install -y chromium"
    base = (services[0].proc if service == "intake" else services[1]).url
    operations = sum(len(item) for item in json.loads(DOCUMENTS[service].read_text())["paths"].values())
    elsewhere: list[str] = []

    def local_only(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.route("**/*", local_only)
            page.goto(f"{base}/docs")
            page.wait_for_function(f"document.querySelectorAll('.opblock').length === {operations}", timeout=30_000)
            assert page.locator(".opblock-summary-path").first.inner_text().startswith("/v1/")
            assert page.locator(".auth-wrapper .authorize").count() == 1  # the bearer scheme: Authorize
            page.goto(f"{base}/redoc")
            page.wait_for_function("document.querySelectorAll('[data-section-id*=\"operation/\"]').length >= "
                                   f"{operations}", timeout=30_000)
            page.wait_for_load_state("networkidle")  # what the pages load late (ReDoc's menu logo) asked too
        finally:
            browser.close()
    assert elsewhere == []


def test_too_many_failed_authentications_read_as_the_problem_of_429(services, tmp_path):
    """Last of the module: for a minute after it, this address's tokens are refused before any look-up."""
    intake, _ = services
    mod = generated("intake", tmp_path)
    stranger = mod("client").AuthenticatedClient(base_url=intake.proc.url, token="xft_not-a-token", timeout=30)
    answers = [mod("api.reference.list_units").sync_detailed(client=stranger) for _ in range(4)]  # 3 a minute
    problem_of(answers[-1], 429, "rate_limited", mod("models"))
    assert int(answers[-1].headers["retry-after"]) >= 1

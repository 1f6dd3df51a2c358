"""The petitioner's page in headless Chromium against a real intake: query, download a notice, evaluate, ask for
review — both the petitioner's own events; and every portal endpoint behind the same slip check: a wrong number and
a wrong code answer alike (status, body, time), and the attempts on one number are limited across them."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime

import asyncpg
import pytest

from integration.intake.test_portal_query import ask
from support.intake import BUREAU, VILLAGE, slip, start_intake
from support.process import ROOT, free_port
from support.reporting import drop_schema, reporting_env, start_reporting
from support.tokens import client
from support.waiting import until

PER_RECEIPT = 24


@pytest.fixture(scope="module")
def intake(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    service = start_intake(settings, pg_dsn, tmp_path_factory.mktemp("portal-page"), XINFANG_FORWARDED_ALLOW_IPS="127.0.0.1",
                           XINFANG_PORTAL_ATTEMPTS_PER_MINUTE="100000",
                           XINFANG_PORTAL_ATTEMPTS_PER_RECEIPT_PER_MINUTE=str(PER_RECEIPT))
    yield service
    service.proc.stop()
    service.producer.close()


def evaluate(intake, receipt_no: str, code: str, satisfaction: str):
    r = intake.http.post("/portal/v1/evaluation", json={"receipt_no": receipt_no, "query_code": code,
                                                        "satisfaction": satisfaction, "remark": "意见"})
    assert r.status_code == 200, r.text


def replied(intake) -> tuple[str, str, str, dict]:
    """A matter accepted and replied to by the village room, its 信访处理意见书 posted: (pid, number, code, notice)."""
    pid, receipt_no, code = slip(intake)
    intake.route(pid, VILLAGE, "village")
    intake.wait_for(pid, lambda m: m["status"] == "assigned", viewer=VILLAGE, why="assigned")
    for body in ({"action": "accept"}, {"action": "reply", "decision": "explain", "resolved": True,
                                        "facts": "信访人所涉政策已于今年调整", "grounds": "经核实，已向信访人解释政策。"}):
        r = intake.post(f"/v1/petitions/{pid}/actions", body)
        assert r.status_code == 200, r.text
    r = intake.post(f"/v1/petitions/{pid}/notices", {"kind": "opinion", "delivery": "post"})
    assert r.status_code == 201, r.text
    return pid, receipt_no, code, r.json()


def events_of(intake, pid: str) -> list[tuple[str, str]]:
    async def read():
        conn = await asyncpg.connect(intake.settings.database_url)
        try:
            return [tuple(r) for r in await conn.fetch(
                f"""SELECT type, convert_from(body, 'UTF8')::jsonb ->> 'actor' FROM "{intake.schema}".events
                    WHERE petition_id = $1::uuid ORDER BY seq""", pid)]
        finally:
            await conn.close()
    return asyncio.run(read())


def test_the_petitioner_queries_downloads_evaluates_and_asks_for_review_in_headless_chromium(intake):
    """Playwright drives Debian's chromium (executable_path; never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed for the page test: apt-get install -y chromium"
    pid, receipt_no, code, opinion = replied(intake)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)  # a phone
            seen: list[str] = []
            page.on("request", lambda request: seen.append(request.url))
            page.goto(intake.proc.url + "/portal/")
            page.fill("#receipt_no", receipt_no)
            page.fill("#query_code", "ZZZZ-ZZZZ-ZZZZ")
            page.click("#slip button")
            page.wait_for_selector("#problem:not([hidden])")
            assert "登记编号或查询码不正确" in page.inner_text("#problem") and page.is_hidden("#standing")
            page.fill("#query_code", code.lower())
            page.click("#slip button")
            page.wait_for_selector("#standing:not([hidden])")
            assert page.inner_text("#s-status") == "已答复" and page.inner_text("#s-holder") == "东门社区群众工作室"
            notices = page.inner_text("#s-notices")
            assert "登记回执" in notices and "信访处理意见书" in notices
            assert page.is_visible("#evaluate") and page.is_visible("#review")
            assert "申请复查" in page.inner_text("#r-until") and "日前" in page.inner_text("#r-until")
            assert "张三" not in page.content() and "拖欠工资" not in page.content()  # nothing personal on the page

            with page.expect_download() as downloaded:
                page.click(f'button[data-notice="{opinion["notice_id"]}"] >> text=下载PDF')
            pdf = open(downloaded.value.path(), "rb").read()
            assert hashlib.sha256(pdf).hexdigest() == opinion["pdf_sha256"]  # the notice as issued, byte for byte

            page.check('input[value="basically_satisfied"]')
            page.fill('textarea[name="remark"]', "解释清楚")
            page.click("#evaluate button")
            page.wait_for_selector("#done:not([hidden])")
            assert "感谢您的评价" in page.inner_text("#done") and page.is_hidden("#evaluate")

            page.fill('textarea[name="reason"]', "对处理意见不服，请求复查")
            page.click("#review button")
            page.wait_for_function("document.getElementById('s-status').textContent === '复查中'")
            assert page.is_hidden("#review")
            assert all(url.startswith(intake.proc.url) for url in seen)  # no CDN
            assert not any(code in url or code.lower() in url for url in seen)  # the code never in a URL
        finally:
            browser.close()
    mine = [(kind, actor) for kind, actor in events_of(intake, pid) if actor.startswith("petitioner:")]
    assert mine == [("petition.evaluated.v2", f"petitioner:{pid}"), ("petition.review_requested.v2", f"petitioner:{pid}")]
    log = intake.proc.log.read_text(encoding="utf-8", errors="replace")
    assert code not in log and code.replace("-", "") not in log and code.lower() not in log


def test_an_evaluation_is_once_and_a_review_before_a_reply_is_refused_with_the_reason(intake):
    _, receipt_no, code, _ = replied(intake)
    body = {"receipt_no": receipt_no, "query_code": code, "satisfaction": "satisfied"}
    first = intake.http.post("/portal/v1/evaluation", json=body)
    assert first.status_code == 200 and first.json()["may_evaluate"] is False, first.text
    again = intake.http.post("/portal/v1/evaluation", json=body)
    assert again.status_code == 409 and again.json()["detail_zh"] == "该答复已评价"
    _, fresh_no, fresh_code = slip(intake)
    early = intake.http.post("/portal/v1/review", json={"receipt_no": fresh_no, "query_code": fresh_code,
                                                       "reason": "不服"})
    assert early.status_code == 409 and "须先答复" in early.json()["detail_zh"], early.text


ENDPOINTS = {"download": ("/portal/v1/notices/{notice}.pdf", {}),
             "evaluation": ("/portal/v1/evaluation", {"satisfaction": "satisfied"}),
             "review": ("/portal/v1/review", {"reason": "不服"})}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_on_every_endpoint_a_wrong_number_and_a_wrong_code_answer_alike_in_status_body_and_time(intake, endpoint):
    matters = [replied(intake) for _ in range(3)]
    path, extra = ENDPOINTS[endpoint]
    wrong_code, wrong_number = [], []
    for i in range(51):  # interleaved: 17 wrong codes per number, under its bucket
        _, receipt_no, code, notice = matters[i % len(matters)]
        url = path.format(notice=notice["notice_id"])
        started = time.perf_counter()
        a = intake.http.post(url, json={"receipt_no": receipt_no, "query_code": "2222-2222-2222", **extra},
                             headers={"X-Forwarded-For": "10.7.0.1"})
        wrong_code.append(time.perf_counter() - started)
        started = time.perf_counter()
        b = intake.http.post(url, json={"receipt_no": f"2026-361402-{9100000 + i:07d}", "query_code": code, **extra},
                             headers={"X-Forwarded-For": "10.7.0.2"})
        wrong_number.append(time.perf_counter() - started)
        assert a.status_code == b.status_code == 404, (a.text, b.text)
        assert a.content == b.content and a.headers["content-type"] == b.headers["content-type"]
    gap_ms = abs(statistics.median(wrong_code) - statistics.median(wrong_number)) * 1000
    assert gap_ms < 3, f"wrong code {statistics.median(wrong_code) * 1000:.2f} ms, wrong number " \
                       f"{statistics.median(wrong_number) * 1000:.2f} ms"


def test_the_attempts_on_one_number_are_counted_across_every_endpoint(intake):
    _, receipt_no, code, notice = replied(intake)
    wrong = {"receipt_no": receipt_no, "query_code": "2222-2222-2222"}
    paths = ["/portal/v1/query", f"/portal/v1/notices/{notice['notice_id']}.pdf", "/portal/v1/evaluation",
             "/portal/v1/review"]
    extra = [{}, {}, {"satisfaction": "satisfied"}, {"reason": "不服"}]
    answers = [intake.http.post(paths[i % 4], json={**wrong, **extra[i % 4]}).status_code for i in range(PER_RECEIPT)]
    assert answers == [404] * PER_RECEIPT
    for path, more in zip(paths, extra, strict=True):  # now even the right code waits, wherever it is typed
        limited = intake.http.post(path, json={"receipt_no": receipt_no, "query_code": code, **more})
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert ask(intake, receipt_no, code).status_code == 429


async def _count(intake, sql: str) -> int:
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        return await conn.fetchval(sql.format(schema=intake.schema))
    finally:
        await conn.close()


def test_satisfaction_and_participation_from_the_petitioners_evaluations_equal_a_fresh_replay(intake, tmp_path):
    """Last in the module: every matter the tests above replied to and evaluated is counted too."""
    count = lambda sql: asyncio.run(_count(intake, sql))  # noqa: E731
    before = count("SELECT count(*) FROM \"{schema}\".events WHERE type = 'petition.evaluated.v2'")
    for satisfaction in ("satisfied", "dissatisfied", "basically_satisfied", None):
        _, receipt_no, code, _ = replied(intake)
        if satisfaction:
            evaluate(intake, receipt_no, code, satisfaction)
    evaluated = count("SELECT count(*) FROM \"{schema}\".events WHERE type = 'petition.evaluated.v2'")
    assert evaluated == count("""SELECT count(*) FROM "{schema}".events WHERE type = 'petition.evaluated.v2'
                                 AND convert_from(body, 'UTF8')::jsonb ->> 'actor' LIKE 'petitioner:%'""")
    satisfied = count("""SELECT count(*) FROM "{schema}".events WHERE type = 'petition.evaluated.v2' AND
                         convert_from(body, 'UTF8')::jsonb #>> '{{data,satisfaction}}' <> 'dissatisfied'""")
    replies = count("SELECT count(DISTINCT petition_id) FROM \"{schema}\".events WHERE type = 'petition.replied.v2'")
    # this test's three (and those the tests above made), both kinds, and replies not evaluated
    assert evaluated == before + 3 and replies > evaluated > satisfied

    schema = f"rep_portal_{uuid.uuid4().hex[:8]}"
    reporting = start_reporting(intake.settings, intake.settings.database_url, schema, tmp_path / "reporting.log")
    try:
        http = client(reporting.url, intake.terminal(BUREAU, ("auditor",)))
        year = {"year": str(datetime.now().year)}

        def figures() -> dict:
            return {k: v["value"] for k, v in http.get("/v1/stats", params=year).json()["figures"].items()}

        until(lambda: figures()["evaluated"] == evaluated and figures()["replied"] == replies,
              "reporting projected every reply and evaluation", timeout=90)
        live = figures()
        assert live["satisfaction_rate"] == f"{100 * satisfied / evaluated:.2f}"  # two decimals, as the bureau writes them
        assert live["participation_rate"] == f"{100 * evaluated / replies:.2f}"
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
               **reporting_env(intake.settings, intake.settings.database_url, schema, free_port())}
        verified = subprocess.run([sys.executable, "-m", "reporting.audit", "verify", "--scratch", f"{schema}_v"],
                                  capture_output=True, text=True, env=env, timeout=300)
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
        document = json.loads(verified.stdout)
        assert document["tables"] == {} and document["figure_differences"] == [] and document["figures_compared"] > 0
    finally:
        reporting.stop()
        asyncio.run(drop_schema(intake.settings.database_url, schema, f"{schema}_v"))

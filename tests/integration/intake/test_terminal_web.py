"""The web terminal at /terminal/, in headless Chromium, against a real intake (PostgreSQL, Kafka): a registrar
registers by keyboard alone and prints the slip (the receipt notice's PDF, made by intake); a handler accepts and
replies; a registration made with the network cut is queued as 待同步 and lands once the network returns, exactly
once; a refused action shows its reason, and so does a queued one the matter moved past meanwhile; a supervisor
merges (并单) and the bureau undoes it; the desk finds a returning petitioner's matters and records a visit, also
instead of registering a repeat. Each page is photographed into the test's tmp dir."""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import random
import re
import subprocess
import time
import uuid
from datetime import datetime, timezone

import asyncpg
import orjson
import pytest

from support.browser import chromium
from support.intake import BUREAU, OTHER_VILLAGE, TOWNSHIP, VILLAGE, identity_number, mobile
from support.process import ROOT
from support.waiting import until
from xinfang.events.catalogue import DeadlineWarning
from xinfang.events.envelope import rfc3339

RECEIPT = re.compile(r"^\d{4}-361402-\d{7}$")


def query(intake, sql: str, *args):
    """One value from intake's database, in a thread of its own (Playwright's loop runs in this one)."""
    async def fetch():
        conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, fetch()).result()


def registrations_saying(intake, summary: str) -> int:
    return query(intake, "SELECT count(*) FROM events WHERE type = 'petition.registered.v1' "
                         "AND convert_from(body, 'UTF8') LIKE '%' || $1 || '%'", summary)


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@contextlib.contextmanager
def signed_in(browser, intake, roles, unit=VILLAGE, page_ready="register"):
    """A fresh browser context at 1366×768 with the terminal signed in on its first page; closed on the way out."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{intake.proc.url}/terminal/")
        page.wait_for_selector('body[data-ready="signin"]')
        page.fill("#token", intake.terminal(unit, roles))
        page.press("#token", "Enter")
        page.wait_for_selector(f'body[data-ready="{page_ready}"]', timeout=15_000)
        yield context, page
    finally:
        context.close()


def pdf_of(page, link: str) -> tuple[bytes, str]:
    """The PDF a link of the page holds (a blob: URL), and its text as pdftotext reads it, whitespace removed."""
    data = page.evaluate("""async (selector) => {
        const bytes = new Uint8Array(await (await fetch(document.querySelector(selector).href)).arrayBuffer());
        return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
    }""", link)
    pdf = base64.b64decode(data)
    assert pdf.startswith(b"%PDF")
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return pdf, re.sub(r"\s+", "", out)


def routed(intake, unit=VILLAGE, tier="village", **overrides) -> dict:
    reg = intake.register(unit, **overrides)
    intake.route(reg["petition_id"], unit, tier)
    return reg


def test_the_page_is_public_static_files_from_the_project_and_every_api_call_needs_the_token(intake):
    page = intake.http.get("/terminal/")
    assert page.status_code == 200 and "信访事项登记办理终端" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for asset in ("app.js", "api.js", "common.js", "idcard.js", "lists.js", "lookup.js", "matter.js", "outbox.js", "queue.js",
                  "register.js", "sw.js", "style.css"):
        body = intake.http.get(f"/terminal/{asset}").text
        assert "//cdn" not in body and "https://" not in body, asset
    worker = intake.http.get("/terminal/sw.js").text  # named after the files' version: a change makes a new worker
    assert "__VERSION__" not in worker and re.search(r'"xinfang-terminal-[0-9a-f]{16}"', worker)
    for path in ("/v1/me", "/v1/places", "/v1/matters", f"/v1/petitions/{uuid.uuid4()}/timeline"):
        assert intake.http.get(path).status_code == 401, path


def test_the_pages_reads_refuse_a_wrong_token_and_tell_nothing_outside_the_terminals_scope(intake):
    reg = routed(intake)  # a matter of 东门社区
    for path in ("/v1/me", "/v1/places", "/v1/matters", f"/v1/petitions/{reg['petition_id']}/timeline"):
        wrong = intake.http.get(path, headers={"Authorization": "Bearer xft_not-a-terminal"})
        assert wrong.status_code == 401, path
    neighbour = {"Authorization": f"Bearer {intake.terminal(OTHER_VILLAGE)}"}  # 西门社区: not its matter
    unknown = intake.http.get(f"/v1/petitions/{uuid.uuid4()}/timeline", headers=neighbour)
    outside = intake.http.get(f"/v1/petitions/{reg['petition_id']}/timeline", headers=neighbour)
    assert outside.status_code == unknown.status_code == 404 and outside.json()["code"] == unknown.json()["code"]
    listed = intake.http.get("/v1/matters", params={"view": "scope"}, headers=neighbour)
    assert listed.status_code == 200 and reg["petition_id"] not in listed.text
    mine = intake.http.get(f"/v1/petitions/{reg['petition_id']}/timeline",
                           headers={"Authorization": f"Bearer {intake.terminal(VILLAGE)}"})
    assert mine.status_code == 200  # the same read in scope: the 404 above is the scope, not the path


def test_a_registrar_registers_by_keyboard_alone_and_prints_the_slip(browser, intake, shots):
    with signed_in(browser, intake, ("registrar",)) as (context, page):
        unlabelled = page.evaluate("[...document.querySelectorAll('#register :is(input, select, textarea)')]"
                                   ".filter(el => !el.labels || !el.labels.length).map(el => el.name)")
        assert unlabelled == []
        assert page.evaluate("document.activeElement.id") == "channel"
        summary = f"村道损坏无人修复 {uuid.uuid4().hex[:8]}"
        keys = page.keyboard
        keys.press("Tab")                       # 事项发生地: this room's own village
        assert page.evaluate("document.activeElement.id") == "jurisdiction"
        keys.press("Tab")
        keys.press("ArrowDown")                 # 内容分类: the first of the catalogue
        keys.press("Tab")
        keys.press("Control+A")
        keys.type("3")                          # 人数
        keys.press("Tab")
        keys.type(summary)
        keys.press("Tab")
        keys.type("李四")
        keys.press("Tab")
        keys.type("361402198001011233")         # a wrong check digit, said as it is typed
        page.wait_for_function("document.getElementById('id-1-error').textContent.includes('末位应为 2')")
        page.screenshot(path=shots / "register-id-check.png")
        keys.press("Backspace")
        keys.type("2")
        page.wait_for_function("document.getElementById('id-1-error').textContent === '号码校验通过'")
        keys.press("Tab")
        keys.type("13900000000")
        for _ in range(4):                      # 住址, 删除此信访人, 添加信访人, 登记
            keys.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "登记"
        page.screenshot(path=shots / "register.png", full_page=True)
        keys.press("Enter")
        page.wait_for_selector("#slip")
        receipt = page.inner_text("#receipt-no")
        assert RECEIPT.match(receipt), receipt
        assert query(intake, "SELECT count(*) FROM petitions WHERE receipt_no = $1", receipt) == 1
        assert registrations_saying(intake, summary) == 1
        assert "李四" in page.inner_text("#slip") and "东门社区" in page.inner_text("#slip")
        page.screenshot(path=shots / "slip.png")
        keys.press("Tab")                       # from the slip to 打印回执: intake issues the receipt notice
        with context.expect_page() as opened:
            keys.press("Enter")
        assert opened.value.url.startswith("blob:")
        opened.value.close()
        pid = query(intake, "SELECT petition_id::text FROM petitions WHERE receipt_no = $1", receipt)
        issued = intake.get(f"/v1/petitions/{pid}/notices").json()
        assert [n["kind"] for n in issued] == ["receipt"] and issued[0]["delivery"] == "desk"
        pdf, text = pdf_of(page, "#slip-pdf")   # the PDF the page opened is the one intake issued, byte for byte
        assert hashlib.sha256(pdf).hexdigest() == issued[0]["pdf_sha256"]
        assert receipt in text and "查询码" in text and "李四" in text
        page.evaluate("document.getElementById('slip-status').textContent = ''")
        with context.expect_page() as again:   # a second click reprints the same notice (the same key)
            page.click("#print")
        again.value.close()
        assert "回执已生成" in page.inner_text("#slip-status")
        assert len(intake.get(f"/v1/petitions/{pid}/notices").json()) == 1
        page.screenshot(path=shots / "slip-printed.png")
        page.set_viewport_size({"width": 768, "height": 1024})   # a tablet held upright
        page.click("#again")
        page.wait_for_selector("#register")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=shots / "register-tablet.png", full_page=True)


def test_a_handler_accepts_and_replies_from_the_worklist(browser, intake, shots):
    reg = routed(intake)
    with signed_in(browser, intake, ("handler",), page_ready="worklist") as (context, page):
        row = page.locator(f"#worklist .row[data-id='{reg['petition_id']}']")
        assert "个工作日" in row.inner_text() or "今日到期" in row.inner_text()
        page.screenshot(path=shots / "worklist.png")
        row.click()
        page.wait_for_selector("#action-buttons button[data-action='accept']")
        timeline = page.inner_text("#timeline")
        assert "登记" in timeline and "交办" in timeline
        assert "答复" in page.text_content("#refused-actions")   # not yet: with the server's reason
        page.screenshot(path=shots / "matter-assigned.png", full_page=True)
        page.click("button[data-action='accept']")
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('status').textContent === '已受理办理中'")
        page.click("button[data-action='reply']")
        page.select_option("#act-decision", "support")
        page.select_option("#act-resolved", "true")
        page.fill("#act-facts", "村道损毁属实")
        page.fill("#act-grounds", "已协调镇政府于本月修复村道")
        page.screenshot(path=shots / "reply-form.png", full_page=True)
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('status').textContent === '已答复'")
        assert "已协调镇政府于本月修复村道" in page.inner_text("#timeline")
        page.screenshot(path=shots / "matter-replied.png", full_page=True)
        assert intake.get(f"/v1/petitions/{reg['petition_id']}").json()["status"] == "replied"


def test_a_refused_action_shows_the_servers_reason(browser, intake, shots):
    reg = routed(intake)
    with signed_in(browser, intake, ("handler",), page_ready="worklist") as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/matter/{reg['petition_id']}")
        page.wait_for_selector("button[data-action='accept']")
        # another terminal of the unit accepts meanwhile: this page still offers it, the server refuses it
        accepted = intake.post(f"/v1/petitions/{reg['petition_id']}/actions", {"action": "accept"})
        assert accepted.status_code == 200, accepted.text
        page.click("button[data-action='accept']")
        page.click("#action-form button[type=submit]")
        # the server's reason, as decide() words it: the state the matter is in now
        page.wait_for_function("document.getElementById('action-error').textContent.includes('已受理办理中')")
        assert "受理" in page.inner_text("#action-error").split("已受理办理中", 1)[1]
        page.screenshot(path=shots / "refused.png", full_page=True)


def test_a_registration_made_offline_is_queued_and_lands_once_when_the_network_returns(browser, intake, shots):
    with signed_in(browser, intake, ("registrar",)) as (context, page):
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
        lost, cut = f"答复丢失 {uuid.uuid4().hex[:8]}", f"断网时登记 {uuid.uuid4().hex[:8]}"
        answered: list[dict] = []

        def answer_lost(route):
            """The registration reaches intake, its answer never reaches the page; then the cable is out."""
            answered.append(route.fetch().json())
            context.set_offline(True)
            route.abort("internetdisconnected")

        def register(summary: str, name: str) -> None:
            page.select_option("#category", index=1)
            page.fill("#summary", summary)
            page.fill("#name-1", name)
            page.click("#register button[type=submit]")

        context.route("**/v1/petitions", answer_lost)
        register(lost, "王五")
        page.wait_for_selector('body[data-pending="1"]')
        assert "待同步" in page.inner_text("#slip") and "网络已断开" in page.inner_text("#slip")
        assert page.is_visible(".net.offline")
        page.screenshot(path=shots / "offline-slip.png")
        context.unroute("**/v1/petitions")
        page.click("#again")
        register(cut, "赵六")                      # made with the network cut: never reached intake
        page.wait_for_selector('body[data-pending="2"]')
        page.reload()                            # offline: the service worker serves the page, the queue is kept
        page.wait_for_selector('body[data-ready="register"][data-pending="2"]')
        page.goto(f"{intake.proc.url}/terminal/#/outbox")
        page.wait_for_selector("#outbox .tag.pending")
        assert page.inner_text("#outbox").count("待同步") == 2
        page.screenshot(path=shots / "outbox-waiting.png")
        assert len(answered) == 1 and registrations_saying(intake, lost) == 1 and registrations_saying(intake, cut) == 0
        returned = datetime.now(timezone.utc)
        context.set_offline(False)               # the network returns: each sent again with its first key
        page.wait_for_selector('body[data-pending="0"]', timeout=30_000)
        page.wait_for_function("document.querySelectorAll('#outbox .tag.sent').length === 2")
        assert answered[0]["receipt_no"] in page.inner_text("#outbox")  # the first answer, replayed
        assert registrations_saying(intake, lost) == 1 and registrations_saying(intake, cut) == 1  # exactly once
        page.screenshot(path=shots / "outbox-sent.png")
        occurred = query(intake, "SELECT occurred_at FROM events WHERE type = 'petition.registered.v1' "
                                 "AND convert_from(body, 'UTF8') LIKE '%' || $1 || '%'", cut)
        assert occurred < returned  # counted when it was made, not when it arrived


def test_an_action_queued_offline_that_the_matter_moved_past_is_shown_with_the_servers_reason(
        browser, intake, shots):
    reg = routed(intake)
    with signed_in(browser, intake, ("handler",), page_ready="worklist") as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/matter/{reg['petition_id']}")
        page.wait_for_selector("button[data-action='decline']")
        context.set_offline(True)
        page.click("button[data-action='decline']")
        page.fill("#act-reason", "不属于信访事项")
        page.click("#action-form button[type=submit]")
        page.wait_for_selector('body[data-pending="1"]')
        assert "待同步" in page.inner_text("#error")
        # meanwhile the unit's other terminal accepted it: the queued 不予受理 no longer fits
        assert intake.post(f"/v1/petitions/{reg['petition_id']}/actions", {"action": "accept"}).status_code == 200
        context.set_offline(False)
        page.wait_for_selector('body[data-refused="1"][data-pending="0"]', timeout=30_000)
        page.goto(f"{intake.proc.url}/terminal/#/outbox")
        page.wait_for_selector("#outbox .tag.refused")
        assert "才能不予受理" in page.inner_text("#outbox")     # never dropped: the reason, until dismissed
        page.screenshot(path=shots / "outbox-refused.png")
        page.click("#outbox button.dismiss")
        page.wait_for_selector('body[data-refused="0"]')


def test_a_supervisor_sees_the_units_below_and_filters(browser, intake, shots):
    matter = routed(intake)
    with signed_in(browser, intake, ("supervisor",), unit=TOWNSHIP, page_ready="worklist") as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/matters")
        page.wait_for_selector(f"#matters .row[data-id='{matter['petition_id']}']")
        assert "东门社区" in page.inner_text("#matters")          # a village's matter, at the township's station
        page.select_option("#f-tier", "village")
        page.select_option("#f-status", "assigned")
        page.click("#filters button[type=submit]")
        page.wait_for_function("location.hash.includes('tier=village')")
        page.wait_for_selector(f"#matters .row[data-id='{matter['petition_id']}']")
        page.screenshot(path=shots / "supervisor.png")
        page.select_option("#f-status", "declined")
        page.click("#filters button[type=submit]")
        page.wait_for_function("document.getElementById('matters-count').textContent === '共 0 件'")
    assert intake.get("/v1/matters", unit=VILLAGE, view="scope", status="nonsense").status_code == 422


def test_the_listing_filters_counts_working_days_and_marks_warnings(intake):
    matter = routed(intake)
    pid = matter["petition_id"]

    def listed(**params) -> dict | None:
        r = intake.get("/v1/matters", unit=TOWNSHIP, **params)
        assert r.status_code == 200, r.text
        return next((m for m in r.json() if m["petition_id"] == pid), None)

    first = listed(category="labour", tier="village", status="assigned", overdue="false")
    assert first and not first["warned"] and not first["overdue"] and first["working_days_left"] > 200  # due 2030
    assert listed(overdue="true") is None and listed(tier="township") is None and listed(category="land") is None
    assert listed(view="worklist") is None                  # the station does not hold it: not its work
    assert pid in [m["petition_id"] for m in intake.get("/v1/matters", unit=VILLAGE, view="worklist").json()]
    due = intake.get(f"/v1/petitions/{pid}").json()["due"][0]
    intake.send_routing(pid, DeadlineWarning(unit=VILLAGE, tier="village", stage="accept",
                                             due_at=rfc3339(datetime.fromisoformat(due["due_at"]))))
    until(lambda: (listed() or {}).get("warned"), "the listing marking the matter warned")


def test_a_supervisor_merges_a_matter_into_the_one_it_repeats_and_the_bureau_undoes_it(browser, intake, shots):
    survivor, repeat = routed(intake), routed(intake)
    with signed_in(browser, intake, ("supervisor",), unit=TOWNSHIP, page_ready="worklist") as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/matter/{repeat['petition_id']}")
        page.wait_for_selector("button[data-action='merge']")
        assert "只有县级信访部门的主管可以撤销并单" in page.text_content("#refused-actions")  # the bureau's, said why
        page.click("button[data-action='merge']")
        page.fill("#act-reason", "同一信访人同一诉求，误登记为新件")
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('action-error').textContent.includes('请先查询并选定存续事项')")

        def choose(receipt: str, pid: str) -> None:
            """Find the surviving matter by its receipt number in the form's finder and choose it."""
            page.fill("#action-form .find-value", receipt)
            page.press("#action-form .find-value", "Enter")
            page.click(f"#action-form .find-results tr[data-id='{pid}'] button[data-do='into']")
            page.wait_for_function(f"document.getElementById('merge-into').textContent.includes('{receipt}')")

        choose(repeat["receipt_no"], repeat["petition_id"])     # itself: the server refuses, with its reason
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('action-error').textContent.includes('事项不能并入其自身')")
        page.screenshot(path=shots / "merge-refused.png", full_page=True)
        choose(survivor["receipt_no"], survivor["petition_id"])
        page.screenshot(path=shots / "merge-form.png", full_page=True)
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('status').textContent === '已并单'")
        assert survivor["receipt_no"] in page.inner_text("#merged-into")
        assert "并入" in page.inner_text("#timeline") and "已并单" in page.inner_text("#action-done")
        page.screenshot(path=shots / "merged.png", full_page=True)
        assert intake.get(f"/v1/petitions/{repeat['petition_id']}").json()["merged_into"] == survivor["petition_id"]
        page.click("#merged-into a")                             # to the survivor: the matter merged into it
        page.wait_for_selector("#merged-in")
        assert repeat["receipt_no"] in page.inner_text("#merged-in")
    with signed_in(browser, intake, ("supervisor",), unit=BUREAU, page_ready="worklist") as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/matter/{repeat['petition_id']}")
        page.wait_for_selector("button[data-action='unmerge']")
        page.click("button[data-action='unmerge']")
        page.fill("#act-reason", "并单有误，系两件不同事项")
        page.click("#action-form button[type=submit]")
        page.wait_for_function("document.getElementById('status').textContent === '已交办待受理'")
        assert not page.is_visible("#merged-into")
        page.screenshot(path=shots / "unmerged.png", full_page=True)
    assert intake.get(f"/v1/petitions/{repeat['petition_id']}").json()["merged_into"] is None


def test_the_desk_finds_a_returning_petitioners_matters_and_records_a_visit_on_one(browser, intake, shots):
    rng = random.Random()
    number, phone = identity_number(rng), mobile(rng)
    matter = routed(intake, petitioners=[{"name": "钱七", "id_number": number, "phone": phone}])
    pid = matter["petition_id"]
    with signed_in(browser, intake, ("registrar",)) as (context, page):
        page.goto(f"{intake.proc.url}/terminal/#/lookup")
        page.wait_for_selector('body[data-ready="lookup"]')
        assert page.evaluate("document.activeElement.classList.contains('find-value')")

        def look(kind: str, value: str, found: str = "1") -> str:
            page.select_option(".find-kind", kind)
            page.fill(".find-value", value)
            page.press(".find-value", "Enter")
            page.wait_for_selector(f'.finder[data-found="{found}"]')
            return page.inner_text(".find-results")

        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        page.select_option(".find-kind", "id_number")
        page.fill(".find-value", wrong)                           # said as typed, and never sent
        page.wait_for_function("document.querySelector('.finder .field-error').textContent.includes('校验码不符')")
        page.press(".find-value", "Enter")
        assert page.get_attribute(".finder", "data-found") is None
        page.screenshot(path=shots / "lookup-id-check.png")
        by_number = look("id_number", number)
        for shown in (matter["receipt_no"], "钱七", "已交办待受理", "东门社区"):
            assert shown in by_number, (shown, by_number)
        page.screenshot(path=shots / "lookup.png", full_page=True)
        page.set_viewport_size({"width": 768, "height": 1024})   # a tablet held upright: the page does not widen
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=shots / "lookup-tablet.png", full_page=True)
        page.set_viewport_size({"width": 1366, "height": 768})
        assert matter["receipt_no"] in look("phone", f"+86 {phone[:3]}-{phone[3:]}")
        assert "钱七" in look("receipt", matter["receipt_no"])
        assert "未查到" in look("phone", mobile(rng), found="0")
        look("id_number", number)
        page.click(f".find-results tr[data-id='{pid}'] button[data-do='visit']")
        page.select_option("#visit-channel", "phone")
        page.fill("#visit-head", "2")
        page.fill("#visit-summary", "再次来电询问进度")
        page.click("#visit-form button[type=submit]")
        page.wait_for_function("document.getElementById('visit-done').textContent.includes('现共 2 批')")
        page.screenshot(path=shots / "lookup-visit.png", full_page=True)
        assert intake.get(f"/v1/petitions/{pid}").json()["batches"] == 2
        page.click(f".find-results tr[data-id='{pid}'] button[data-do='open']")
        page.wait_for_selector('body[data-ready="matter"]')
        assert "再次来电询问进度" in page.inner_text("#timeline")
        other = routed(intake)                                    # meanwhile merged into another: refused, said why
        merged = intake.post(f"/v1/petitions/{pid}/actions", {"action": "merge", "into": other["petition_id"],
                                                              "reason": "重复登记"})
        assert merged.status_code == 200, merged.text
        page.goto(f"{intake.proc.url}/terminal/#/lookup")
        page.wait_for_selector('body[data-ready="lookup"]')
        assert "已并单" in look("receipt", matter["receipt_no"])
        page.click(f".find-results tr[data-id='{pid}'] button[data-do='visit']")
        page.click("#visit-form button[type=submit]")
        page.wait_for_function("document.getElementById('visit-error').textContent.includes('事项已并入')")
        page.screenshot(path=shots / "lookup-visit-refused.png", full_page=True)
        assert intake.get(f"/v1/petitions/{pid}").json()["batches"] == 2
    neighbour = intake.post("/v1/lookups/id-number", {"id_number": number}, unit=OTHER_VILLAGE)
    assert neighbour.status_code == 200 and neighbour.json() == {"matters": []}  # out of scope: nothing said


def test_a_returning_petitioners_registration_offers_a_visit_instead_and_the_registrations_repeats(
        browser, intake, shots):
    number = identity_number(random.Random())
    earlier = routed(intake, petitioners=[{"name": "孙八", "id_number": number}])
    schema = orjson.loads((ROOT / "docs" / "intake-openapi.json").read_bytes())["components"]["schemas"]
    with signed_in(browser, intake, ("registrar",)) as (context, page):
        def register(summary: str) -> None:
            page.select_option("#category", index=1)
            page.fill("#summary", summary)
            page.fill("#name-1", "孙八")
            page.fill("#id-1", number)
            page.click("#register > .actions button[type=submit]")
            page.wait_for_selector(f"#repeats tr[data-id='{earlier['petition_id']}']")

        instead = f"又来反映工资问题 {uuid.uuid4().hex[:8]}"
        register(instead)                                         # asked before registering: nothing made yet
        shown = page.inner_text("#repeats")
        assert earlier["receipt_no"] in shown and "身份证号码相符" in shown and "东门社区" in shown
        assert registrations_saying(intake, instead) == 0
        page.screenshot(path=shots / "register-repeats.png", full_page=True)
        page.click("#repeats button[data-do='visit']")
        page.wait_for_selector("#visit-recorded")
        assert page.inner_text("#visit-receipt") == earlier["receipt_no"]
        assert intake.get(f"/v1/petitions/{earlier['petition_id']}").json()["batches"] == 2
        assert registrations_saying(intake, instead) == 0         # a visit on the matter, not a second matter
        page.screenshot(path=shots / "register-visit-instead.png")

        page.click("#again")
        anyway = f"另一诉求：宅基地纠纷 {uuid.uuid4().hex[:8]}"
        register(anyway)
        with page.expect_response(lambda r: r.url.endswith("/v1/petitions") and r.request.method == "POST") as made:
            page.click("#register-anyway")
        answer = made.value.json()
        assert made.value.status == 201 and registrations_saying(intake, anyway) == 1
        repeats = answer["possible_repeats"]                      # the real answer, as the published schema says
        assert [r["petition_id"] for r in repeats] == [earlier["petition_id"]]
        assert set(repeats[0]) == set(schema["PossibleRepeat"]["properties"])
        page.wait_for_selector("#slip")
        assert answer["receipt_no"] == page.inner_text("#receipt-no")
        assert earlier["receipt_no"] in page.inner_text("#repeats") and "并单" in page.inner_text("#repeats")
        page.screenshot(path=shots / "slip-repeats.png", full_page=True)


def test_a_repeat_registered_offline_says_so_in_the_outbox_once_it_is_sent(browser, intake, shots):
    number = identity_number(random.Random())
    earlier = routed(intake, petitioners=[{"name": "周九", "id_number": number}])
    with signed_in(browser, intake, ("registrar",)) as (context, page):
        context.set_offline(True)                                 # no check before it: it is queued as it is
        page.select_option("#category", index=1)
        page.fill("#summary", f"断网时再次来访 {uuid.uuid4().hex[:8]}")
        page.fill("#name-1", "周九")
        page.fill("#id-1", number)
        page.click("#register > .actions button[type=submit]")
        page.wait_for_selector('body[data-pending="1"] #slip')
        assert page.is_disabled("#print")                          # no receipt number yet: nothing to print
        context.set_offline(False)
        page.wait_for_selector('body[data-pending="0"]', timeout=30_000)
        page.goto(f"{intake.proc.url}/terminal/#/outbox")
        page.wait_for_selector("#outbox .tag.sent")
        assert earlier["receipt_no"] in page.inner_text("#outbox .repeats-note")
        page.screenshot(path=shots / "outbox-repeat.png")


def test_a_slow_answer_is_not_taken_for_a_wrong_clock_and_a_wrong_clock_is_found(browser, intake):
    """The page dates facts by intake's clock when the PC's is off by more than 2 s (the answers' Date header);
    an answer that took long to arrive (a loaded server, a village link) says nothing about the PC's clock and
    must not date the clerk's actions seconds back (before the matter reached the unit: refused)."""
    with signed_in(browser, intake, ("handler",), page_ready="worklist") as (context, page):
        def held(route):
            answer = route.fetch()  # intake's Date is taken now; the browser gets it 3.5 s later
            time.sleep(3.5)  # the drill: a slow link, not waiting for a condition
            route.fulfill(response=answer)

        page.route("**/v1/matters?*", held)
        page.evaluate("sessionStorage.setItem('xinfang.clock_offset_ms', '0'); location.hash = '#/worklist?again'")
        page.wait_for_function("document.body.dataset.ready === 'worklist'", timeout=30_000)
        page.unroute("**/v1/matters?*")
        assert page.evaluate("sessionStorage.getItem('xinfang.clock_offset_ms')") == "0"
        offsets = page.evaluate("""async () => {
            const { clockOffset } = await import('./api.js');
            return [clockOffset(new Date(100000).toUTCString(), 100000, 105000),   // slow, clock right
                    clockOffset(new Date(94000).toUTCString(), 100000, 105000),    // intake 8 s behind
                    clockOffset(new Date(110000).toUTCString(), 100000, 105000),   // intake 8 s ahead
                    clockOffset("", 100000, 100050)];
        }""")
        assert offsets == [0, -8000, 8000, None]

"""The written notices against a real intake: every notice of a matter taken through accept → extend → reply →
review → re-review, as PDF and DOCX, read back with Debian's pdftotext; issued as events, reproduced byte for byte;
who may draft, issue and read them; no personal data or query code on Kafka, in the events or in the log."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid

import asyncpg
import docx
import pytest

from intake.notices.codes import code_hash
from support.intake import BUREAU, OTHER_VILLAGE, TOWNSHIP, VILLAGE
from support.kafka import envelopes, read_all
from support.process import ROOT

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NAME, ADDRESS, ID_NUMBER = "王告知", "东门社区告知巷7号", "361402198802021234"
DECISIONS = {"opinion": "解释说明", "review_opinion": "支持", "recheck_opinion": "不予支持"}
UNITS = {"receipt": "东门社区群众工作室", "acceptance": "东门社区群众工作室", "extension": "东门社区群众工作室",
         "opinion": "东门社区群众工作室", "review_opinion": "城关街道群众工作站", "recheck_opinion": "临溪区信访局",
         "declined": "东门社区群众工作室"}
#: what each answer's 意见书 states apart: the facts found (查明事实) and the grounds (依据和理由)
FACTS = {"opinion": "企业自2026年3月起拖欠信访人工资两个月", "review_opinion": "企业已承认欠薪并有支付能力",
         "recheck_opinion": "复查认定的事实清楚"}
GROUNDS = {"opinion": "欠薪系企业资金周转所致，已督促企业制定支付计划", "review_opinion": "依照《保障农民工工资支付条例》第三条",
           "recheck_opinion": "复查意见适用依据正确，维持复查意见"}
RIGHT_TO_REVIEW = {"opinion": "自收到本意见书之日起30日内向城关街道群众工作站书面提出复查请求",
                   "review_opinion": "自收到本意见书之日起30日内向临溪区信访局书面提出复核请求",
                   "recheck_opinion": "同一事实和理由提出投诉请求的，信访工作机构和其他行政机关不再受理",
                   "declined": "依法应当通过行政复议解决的事项，请依照有关法律、行政法规规定的程序向行政复议机关提出"}


def pdf_text(body: bytes) -> str:
    """pdftotext's reading of a PDF, lines joined (a sentence may wrap anywhere in Chinese)."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, timeout=60, check=True)
    return re.sub(r"\s+", "", done.stdout.decode("utf-8"))


def docx_text(body: bytes) -> str:
    return "".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs).replace(" ", "")


class Desk:
    """One matter's notices through the API, as the terminals of its units would handle them."""

    def __init__(self, intake, pid: str) -> None:
        self.intake, self.pid = intake, pid

    def issue(self, kind: str, unit: str = VILLAGE, delivery: str = "desk", **kw):
        return self.intake.post(f"/v1/petitions/{self.pid}/notices", {"kind": kind, "delivery": delivery}, unit, **kw)

    def download(self, path: str, unit: str = VILLAGE, token: str | None = None, **headers):
        token = token or self.intake.terminal(unit)
        return self.intake.http.get(path, headers={"Authorization": f"Bearer {token}", **headers})

    def act(self, body: dict, unit: str = VILLAGE) -> dict:
        r = self.intake.post(f"/v1/petitions/{self.pid}/actions", body, unit)
        assert r.status_code == 200, r.text
        return r.json()

    def issued_documents(self, kind: str, unit: str, delivery: str = "desk") -> tuple[dict, bytes, bytes]:
        """Issue a notice, download both documents and check each against the hash its event recorded."""
        r = self.issue(kind, unit, delivery)
        assert r.status_code == 201, r.text
        notice = r.json()
        pdf, word = self.download(notice["pdf"], unit), self.download(notice["docx"], unit)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
        assert word.status_code == 200 and "wordprocessingml" in word.headers["content-type"]
        assert hashlib.sha256(pdf.content).hexdigest() == notice["pdf_sha256"]
        assert hashlib.sha256(word.content).hexdigest() == notice["docx_sha256"]
        return notice, pdf.content, word.content


@pytest.fixture(scope="module")
def matter(intake):
    """A matter taken through every stage, a notice issued after each fact; the documents as downloaded."""
    person = {"name": NAME, "id_number": ID_NUMBER, "phone": "13900000007", "address": ADDRESS}
    registration = intake.register(petitioners=[person])
    desk = Desk(intake, registration["petition_id"])
    documents = {"receipt": desk.issued_documents("receipt", VILLAGE)}
    intake.route(desk.pid, VILLAGE, "village")
    desk.act({"action": "accept"})
    documents["acceptance"] = desk.issued_documents("acceptance", VILLAGE, "post")
    desk.act({"action": "extend", "days": 3, "reason": "需要现场核查"})
    documents["extension"] = desk.issued_documents("extension", VILLAGE, "sms")
    desk.act({"action": "reply", "decision": "explain", "resolved": False, "facts": FACTS["opinion"],
              "grounds": GROUNDS["opinion"]})
    documents["opinion"] = desk.issued_documents("opinion", VILLAGE, "post")
    desk.act({"action": "request_review", "reason": "不服处理意见"})
    intake.route(desk.pid, TOWNSHIP, "township", kind="review")
    desk.act({"action": "reply_review", "decision": "support", "resolved": True, "facts": FACTS["review_opinion"],
              "grounds": GROUNDS["review_opinion"]}, TOWNSHIP)
    documents["review_opinion"] = desk.issued_documents("review_opinion", TOWNSHIP)
    desk.act({"action": "request_recheck", "reason": "仍不服"})
    intake.route(desk.pid, BUREAU, "county", kind="recheck")
    desk.act({"action": "reply_recheck", "decision": "reject", "resolved": False, "facts": FACTS["recheck_opinion"],
              "grounds": GROUNDS["recheck_opinion"]}, BUREAU)
    documents["recheck_opinion"] = desk.issued_documents("recheck_opinion", BUREAU)
    return desk, registration["receipt_no"], documents


@pytest.mark.parametrize("kind", list(UNITS)[:-1])
def test_every_notice_of_the_matter_reads_back_with_its_receipt_number_unit_and_decision(matter, kind):
    _, receipt_no, documents = matter
    notice, pdf, word = documents[kind]
    assert notice["kind"] == kind and notice["unit"] != "" and len(notice["notice_id"]) == 32
    for text in (pdf_text(pdf), docx_text(word)):
        assert receipt_no in text and UNITS[kind] in text and f"{NAME}：" in text
        if kind in DECISIONS:
            assert f"意见：{DECISIONS[kind]}。" in text
            # the facts found and the grounds, each in its own paragraph under its own heading
            assert f"查明事实：{FACTS[kind]}" in text and f"依据和理由：{GROUNDS[kind]}" in text
        if kind in RIGHT_TO_REVIEW:
            assert RIGHT_TO_REVIEW[kind] in text


def test_the_receipt_slip_shows_the_address_and_a_query_code_kept_only_as_its_hash(intake, matter):
    import asyncio

    desk, _, documents = matter
    text = pdf_text(documents["receipt"][1])
    assert f"联系地址：{ADDRESS}" in text
    code = re.search(r"查询码：([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})", text).group(1)

    async def stored():
        conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
        try:
            row = await conn.fetchrow("SELECT generation, code_sha256 FROM query_codes WHERE petition_id = $1",
                                      uuid.UUID(desk.pid))
            bodies = await conn.fetch("SELECT body FROM events WHERE petition_id = $1", uuid.UUID(desk.pid))
            return row, b"".join(bytes(b["body"]) for b in bodies)
        finally:
            await conn.close()

    row, events = asyncio.run(stored())
    assert row["generation"] == 1 and bytes(row["code_sha256"]) == code_hash(desk.pid, code)
    assert code.encode() not in events and code.replace("-", "").encode() not in events


def test_reissuing_from_the_events_gives_the_same_bytes(intake, matter):
    desk, _, documents = matter
    listed = desk.download(f"/v1/petitions/{desk.pid}/notices")
    assert listed.status_code == 200
    assert [n["kind"] for n in listed.json()] == list(UNITS)[:-1]
    assert [n["delivery"] for n in listed.json()] == ["desk", "post", "sms", "post", "desk", "desk"]
    for notice in listed.json():
        _, pdf, word = documents[notice["kind"]]
        assert desk.download(notice["pdf"]).content == pdf
        assert desk.download(f"/v1/petitions/{desk.pid}/notices/{notice['notice_id']}", Accept=DOCX).content == word
        assert notice["recorded_at"] is not None and notice["actor"].startswith("terminal:")


def test_the_events_on_kafka_carry_the_notices_without_the_personal_data(intake, matter):
    desk, _, documents = matter
    records = read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, key=desk.pid.encode(),
                       expect=15)  # 9 facts of the procedure (the re-review's termination too) and 6 notices
    issued = [e for e in envelopes(records) if e["type"] == "petition.notice_issued.v1"]
    assert [e["data"]["kind"] for e in issued] == list(UNITS)[:-1]
    assert issued[3]["data"]["unit"] == VILLAGE and issued[3]["data"]["fields"]["decision"] == "解释说明"
    wire = b"".join(r.value for r in records).decode("utf-8")
    assert NAME not in wire and ADDRESS not in wire and ID_NUMBER not in wire
    code = re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", pdf_text(documents["receipt"][1])).group(0)
    log = intake.proc.log.read_text(encoding="utf-8", errors="replace")
    for secret in (code, code.replace("-", "")):
        assert secret not in wire and secret not in log
    assert NAME not in log and ADDRESS not in log


def test_a_declined_matter_gets_its_notice_with_the_legal_channel(intake):
    desk = Desk(intake, intake.register()["petition_id"])
    intake.route(desk.pid, VILLAGE, "village")
    desk.act({"action": "decline", "reason": "属于对行政行为的不服", "redirect": "admin_review"})
    notice, pdf, word = desk.issued_documents("declined", VILLAGE)
    assert RIGHT_TO_REVIEW["declined"] in pdf_text(pdf) and RIGHT_TO_REVIEW["declined"] in docx_text(word)
    assert "属于对行政行为的不服" in pdf_text(pdf)


def test_a_reply_must_state_its_facts_and_its_grounds_or_is_refused_naming_the_field(intake):
    desk = Desk(intake, intake.register()["petition_id"])
    intake.route(desk.pid, VILLAGE, "village")
    desk.act({"action": "accept"})
    answer = {"action": "reply", "decision": "explain", "resolved": False}
    for body, field, kind in ((answer | {"grounds": "依据"}, "facts", "missing"),
                              (answer | {"facts": "  ", "grounds": "依据"}, "facts", "string_too_short"),
                              (answer | {"facts": "事实", "grounds": "理" * 4001}, "grounds", "string_too_long"),
                              (answer | {"opinion": "一段话"}, "opinion", "extra_forbidden")):
        r = intake.post(f"/v1/petitions/{desk.pid}/actions", body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        errors = {(e["field"].rsplit(".", 1)[-1], e["type"]) for e in r.json()["errors"]}
        assert (field, kind) in errors and field in r.json()["detail_zh"], r.json()
    assert intake.get(f"/v1/petitions/{desk.pid}").json()["status"] == "accepted"  # nothing stored


def test_a_draft_is_not_recorded_and_prints_no_query_code(intake):
    desk = Desk(intake, intake.register()["petition_id"])
    for name, kind in (("receipt.pdf", "application/pdf"), ("receipt.docx", "wordprocessingml"),
                       ("receipt", "application/pdf")):
        r = desk.download(f"/v1/petitions/{desk.pid}/notice-drafts/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    text = pdf_text(desk.download(f"/v1/petitions/{desk.pid}/notice-drafts/receipt.pdf").content)
    assert "未签发" in text and not re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", text)
    assert desk.download(f"/v1/petitions/{desk.pid}/notices").json() == []
    assert desk.download(f"/v1/petitions/{desk.pid}/notice-drafts/acceptance.pdf").json()["code"] == \
        "refused.nothing_to_tell"
    assert desk.download(f"/v1/petitions/{desk.pid}/notice-drafts/nonsense.pdf").status_code == 404
    assert desk.download(f"/v1/petitions/{desk.pid}/notice-drafts/receipt", Accept="text/html").status_code == 406


def test_who_may_issue_and_read_notices(intake, matter):
    desk, _, documents = matter
    listing = f"/v1/petitions/{desk.pid}/notices"
    first = desk.download(listing).json()[0]
    paths = [listing, first["pdf"], f"/v1/petitions/{desk.pid}/notice-drafts/receipt.pdf"]
    for path in paths:
        assert intake.http.get(path).status_code == 401  # no token
        assert intake.http.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
        assert desk.download(path, OTHER_VILLAGE).status_code == 404  # out of scope: as if it did not exist
    assert intake.http.post(listing, json={"kind": "receipt", "delivery": "desk"}).status_code == 401
    outsider = desk.issue("receipt", OTHER_VILLAGE)
    assert outsider.status_code == 404
    auditor = intake.terminal(VILLAGE, ("auditor",))
    assert desk.download(listing, token=auditor).status_code == 200  # an auditor reads
    assert desk.download(first["pdf"], token=auditor).content == documents["receipt"][1]
    assert desk.issue("receipt", VILLAGE, token=auditor).json()["code"] == "refused.role"
    registrar = intake.terminal(VILLAGE, ("registrar",))
    assert desk.issue("opinion", VILLAGE, token=registrar).json()["code"] == "refused.role"
    fresh = Desk(intake, intake.register()["petition_id"])  # the shared matter's notices stay as listed above
    assert fresh.issue("receipt", VILLAGE, token=registrar).status_code == 201  # the desk prints a receipt slip
    other_unit = desk.issue("review_opinion", VILLAGE)  # the township reviewed: the village may not issue it
    assert other_unit.status_code == 403 and other_unit.json()["code"] == "refused.not_issuer"
    assert desk.download(f"/v1/petitions/{desk.pid}/notices/{'f' * 32}.pdf").status_code == 404


def test_a_retry_with_the_same_key_records_one_notice(intake):
    desk = Desk(intake, intake.register()["petition_id"])
    first, again = desk.issue("receipt", key="notice-retry-1"), desk.issue("receipt", key="notice-retry-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len(desk.download(f"/v1/petitions/{desk.pid}/notices").json()) == 1


def test_the_audit_timeline_shows_an_issued_notice_with_its_content_masked(intake, matter):
    desk, _, _ = matter
    s = intake.settings
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}", "XINFANG_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
           "XINFANG_TOPIC_EVENTS": s.topic_events, "XINFANG_TOPIC_ROUTING": s.topic_routing,
           "XINFANG_PARTITIONS": str(s.partitions), "XINFANG_INTAKE_URL": intake.proc.url,
           "XINFANG_TERMINAL_TOKEN": intake.terminal(VILLAGE)}
    done = subprocess.run([sys.executable, "-m", "reporting.audit", "timeline", desk.pid], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    notices = [e for e in json.loads(done.stdout)["events"] if e["type"] == "petition.notice_issued.v1"]
    assert [e["data"]["kind"] for e in notices] == list(UNITS)[:-1]
    assert notices[0]["data"]["fields"]["summary"] == "***" and len(notices[0]["data"]["pdf_sha256"]) == 64


def test_the_desk_reissues_the_query_code_and_the_old_one_stops_working(intake):
    import asyncio

    desk = Desk(intake, intake.register()["petition_id"])
    code_of = lambda pdf: re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", pdf_text(pdf)).group(0)  # noqa: E731
    first, first_pdf, _ = desk.issued_documents("receipt", VILLAGE)
    again, again_pdf, _ = desk.issued_documents("receipt", VILLAGE)
    assert code_of(again_pdf) == code_of(first_pdf)  # a second copy of the slip: the same code
    r = intake.post(f"/v1/petitions/{desk.pid}/notices", {"kind": "receipt", "delivery": "desk", "new_query_code": True})
    assert r.status_code == 201, r.text
    new_pdf = desk.download(r.json()["pdf"]).content
    assert code_of(new_pdf) != code_of(first_pdf)

    async def stored() -> bytes:
        conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
        try:
            return bytes(await conn.fetchval("SELECT code_sha256 FROM query_codes WHERE petition_id = $1",
                                             uuid.UUID(desk.pid)))
        finally:
            await conn.close()

    kept = asyncio.run(stored())
    assert kept == code_hash(desk.pid, code_of(new_pdf)) != code_hash(desk.pid, code_of(first_pdf))
    assert desk.download(first["pdf"]).content == first_pdf  # the old slip is still reproduced as it was printed
    wrong = intake.post(f"/v1/petitions/{desk.pid}/notices", {"kind": "opinion", "delivery": "desk",
                                                               "new_query_code": True})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "new_query_code"

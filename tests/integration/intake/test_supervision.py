"""督办单 against a real intake: a township's supervisor lists exactly the overdue matters a village room holds —
not one due later, not one met, not one another unit holds — each recorded as petition.supervised.v1 on its own
stream; the document as PDF and DOCX reproduced from the events; who may issue and read it.

The dues are set by routing facts sent as escalation would (support.intake), so which obligation is overdue is known
exactly, with no clock to wait for."""
from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from integration.intake.test_notices import docx_text, pdf_text
from support.intake import BUREAU, OTHER_VILLAGE, TOWNSHIP, VILLAGE, held
from support.problems import assert_problem
from xinfang.events import CloudEvent

ZONE = ZoneInfo("Asia/Shanghai")
OTHER_TOWNSHIP = "station.361402101000"  # 青石镇: not above 东门社区


@pytest.fixture(scope="module")
def world(intake):
    """Two overdue matters of 东门社区 (3 and 1 days), one due tomorrow, one overdue but accepted, one overdue at
    西门社区."""
    late = held(intake, VILLAGE, -timedelta(days=3, hours=2))
    later = held(intake, VILLAGE, -timedelta(days=1, hours=1))
    held(intake, VILLAGE, timedelta(days=1))
    met = held(intake, VILLAGE, -timedelta(days=2))
    r = intake.post(f"/v1/petitions/{met['petition_id']}/actions", {"action": "accept"}, VILLAGE)
    assert r.status_code == 200, r.text
    held(intake, OTHER_VILLAGE, -timedelta(days=2))
    return {"overdue": [late, later]}


def supervised_events(intake) -> list[CloudEvent]:
    async def read() -> list[CloudEvent]:
        conn = await asyncpg.connect(intake.settings.database_url)
        try:
            rows = await conn.fetch(f'SELECT body FROM "{intake.schema}".events '
                                    "WHERE type = 'petition.supervised.v1' ORDER BY position")
        finally:
            await conn.close()
        return [CloudEvent.from_json(r["body"]) for r in rows]

    return asyncio.run(read())


def days_late(due_at: datetime, issued_at: datetime) -> int:
    return (issued_at.astimezone(ZONE).date() - due_at.astimezone(ZONE).date()).days


@pytest.fixture(scope="module")
def notice(intake, world):
    r = intake.post("/v1/supervision-notices", {"unit": VILLAGE, "reason": "请加快办理。"}, TOWNSHIP,
                    roles=("supervisor",))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_notice_lists_exactly_the_overdue_matters_the_unit_holds_soonest_due_first(world, notice):
    expected = world["overdue"]
    issued_at = datetime.fromisoformat(notice["issued_at"])
    assert [m["petition_id"] for m in notice["matters"]] == [m["petition_id"] for m in expected]
    assert [m["receipt_no"] for m in notice["matters"]] == [m["receipt_no"] for m in expected]
    assert [m["days_overdue"] for m in notice["matters"]] == [days_late(m["due_at"], issued_at) for m in expected]
    assert [m["stage"] for m in notice["matters"]] == ["accept", "accept"]
    assert notice["unit"] == VILLAGE and notice["issuing_unit"] == TOWNSHIP
    assert notice["number"] == f"督办〔{issued_at.astimezone(ZONE).year}〕1号"


def test_each_listed_matter_holds_one_supervised_event_with_its_own_line(intake, world, notice):
    events = [e for e in supervised_events(intake) if e.data["notice_id"] == notice["notice_id"]]
    assert sorted(e.subject for e in events) == sorted(m["petition_id"] for m in world["overdue"])
    for event in events:
        line = next(m for m in notice["matters"] if m["petition_id"] == event.subject)
        assert event.data["receipt_no"] == line["receipt_no"]
        assert event.data["days_overdue"] == line["days_overdue"]
        assert event.data["listed"] == 2 and event.data["issuing_unit"] == TOWNSHIP
        assert event.data["pdf_sha256"] == notice["pdf_sha256"]
    timeline = intake.get(f"/v1/petitions/{world['overdue'][0]['petition_id']}", unit=VILLAGE)
    assert timeline.status_code == 200  # the matter reads on: 督办 changes no due


def test_the_document_is_reproduced_from_the_events_with_the_matters_and_the_issuing_unit(intake, world, notice):
    token = intake.terminal(VILLAGE)
    pdf = intake.http.get(notice["pdf"], headers={"Authorization": f"Bearer {token}"})
    word = intake.http.get(notice["docx"], headers={"Authorization": f"Bearer {token}"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    assert hashlib.sha256(pdf.content).hexdigest() == notice["pdf_sha256"]
    assert hashlib.sha256(word.content).hexdigest() == notice["docx_sha256"]
    issued = datetime.fromisoformat(notice["issued_at"]).astimezone(ZONE)
    for text in (pdf_text(pdf.content), docx_text(word.content)):
        assert "信访事项督办单" in text and "东门社区群众工作室：" in text and "下列2件信访事项" in text
        assert "城关街道群众工作站" in text and f"{issued.year}年{issued.month}月{issued.day}日" in text
        assert notice["number"] in text and "请加快办理。" in text
        for line in notice["matters"]:
            due = datetime.fromisoformat(line["due_at"]).astimezone(ZONE)
            assert f"登记编号{line['receipt_no']}，受理期限{due.year}年{due.month}月{due.day}日" in text
            assert f"已超期{line['days_overdue']}日" in text


def test_a_retry_with_the_same_key_issues_one_notice(intake, world):
    key = uuid.uuid4().hex
    first = intake.post("/v1/supervision-notices", {"unit": VILLAGE}, TOWNSHIP, key=key, roles=("supervisor",))
    again = intake.post("/v1/supervision-notices", {"unit": VILLAGE}, TOWNSHIP, key=key, roles=("supervisor",))
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    ids = {e.data["notice_id"] for e in supervised_events(intake)}
    assert first.json()["notice_id"] in ids
    assert sum(e.data["notice_id"] == first.json()["notice_id"] for e in supervised_events(intake)) == 2


def test_the_county_bureau_may_supervise_the_room_and_numbers_its_own_notices(intake, world):
    r = intake.post("/v1/supervision-notices", {"unit": VILLAGE}, BUREAU, roles=("supervisor",))
    assert r.status_code == 201, r.text
    assert r.json()["number"].endswith("〕1号") and len(r.json()["matters"]) == 2


def test_a_unit_with_nothing_overdue_gets_no_notice(intake, world):
    before = len(supervised_events(intake))
    r = intake.post("/v1/supervision-notices", {"unit": "room.361402001003"}, TOWNSHIP, roles=("supervisor",))
    assert_problem(r, 409)
    assert len(supervised_events(intake)) == before


def test_who_may_issue_and_read_a_supervision_notice(intake, world, notice):
    body = {"unit": VILLAGE}
    no_token = intake.http.post("/v1/supervision-notices", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert_problem(no_token, 401)
    wrong = intake.post("/v1/supervision-notices", body, TOWNSHIP, token="not-a-token-" + "y" * 30)
    assert_problem(wrong, 401)
    assert_problem(intake.post("/v1/supervision-notices", body, OTHER_TOWNSHIP, roles=("supervisor",)), 404)
    assert_problem(intake.post("/v1/supervision-notices", body, TOWNSHIP, roles=("registrar", "handler")), 403)
    assert_problem(intake.post("/v1/supervision-notices", body, VILLAGE, roles=("supervisor",)), 403)  # itself
    assert_problem(intake.post("/v1/supervision-notices", {"unit": "room.nowhere"}, TOWNSHIP,
                               roles=("supervisor",)), 422)
    path = notice["pdf"]
    assert_problem(intake.http.get(path), 401)
    assert_problem(intake.http.get(path, headers={"Authorization": "Bearer not-a-token-" + "y" * 30}), 401)
    assert_problem(intake.http.get(path, headers={"Authorization": f"Bearer {intake.terminal(OTHER_VILLAGE)}"}),
                   404)
    assert_problem(intake.http.get(path, headers={"Authorization": f"Bearer {intake.terminal(OTHER_TOWNSHIP)}"}),
                   404)
    for unit in (TOWNSHIP, BUREAU, VILLAGE):
        r = intake.http.get(path, headers={"Authorization": f"Bearer {intake.terminal(unit)}"})
        assert r.status_code == 200, (unit, r.text)
    unknown = f"/v1/supervision-notices/{uuid.uuid4().hex}.pdf"
    assert_problem(intake.http.get(unknown, headers={"Authorization": f"Bearer {intake.terminal(BUREAU)}"}), 404)

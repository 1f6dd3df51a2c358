"""The petitioner's query against a real intake: receipt number and query code → where the matter stands; a wrong
number and a wrong code indistinguishable (status, body, time); attempts limited per source and per number."""
from __future__ import annotations

import statistics
import time
import uuid

import pytest

from support.intake import VILLAGE, slip, start_intake

PER_SOURCE, PER_RECEIPT = 5, 10


@pytest.fixture(scope="module")
def intake(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    # X-Forwarded-For from this machine names the source, so the tests choose the source of each attempt
    service = start_intake(settings, pg_dsn, tmp_path_factory.mktemp("portal"), XINFANG_FORWARDED_ALLOW_IPS="127.0.0.1",
                           XINFANG_PORTAL_ATTEMPTS_PER_MINUTE=str(PER_SOURCE),
                           XINFANG_PORTAL_ATTEMPTS_PER_RECEIPT_PER_MINUTE=str(PER_RECEIPT))
    yield service
    service.proc.stop()
    service.producer.close()


def ask(intake, receipt_no: str, code: str, source: str | None = None):
    return intake.http.post("/portal/v1/query", json={"receipt_no": receipt_no, "query_code": code},
                            headers={"X-Forwarded-For": source or f"10.{uuid.uuid4().int % 250}.0.{time.time_ns() % 250}"})


def test_the_right_number_and_code_tell_where_the_matter_stands_and_nothing_personal(intake):
    pid, receipt_no, code = slip(intake)
    intake.route(pid, VILLAGE, "village")
    r = ask(intake, receipt_no, code.lower().replace("-", " "))  # as the petitioner may type it
    assert r.status_code == 200, r.text
    standing = r.json()
    assert standing["receipt_no"] == receipt_no and standing["status_label"] == "已交办待受理"
    assert standing["holder"] == "东门社区群众工作室" and standing["due"][0]["due_date"].endswith("日")
    assert [n["kind_label"] for n in standing["notices"]] == ["登记回执"]
    assert "张三" not in r.text and "东门社区1号" not in r.text and "拖欠工资" not in r.text and code not in r.text


def test_a_wrong_number_and_a_wrong_code_answer_alike_in_status_body_and_time(intake):
    matters = [slip(intake) for _ in range(6)]
    wrong_code, wrong_number = [], []
    for i in range(48):  # interleaved, each on a number of its own bucket
        _, receipt_no, code = matters[i % len(matters)]
        started = time.perf_counter()
        a = ask(intake, receipt_no, "2222-2222-2222" if code != "2222-2222-2222" else "3333-3333-3333")
        wrong_code.append(time.perf_counter() - started)
        started = time.perf_counter()
        b = ask(intake, f"2026-361402-{9000000 + i:07d}", code)
        wrong_number.append(time.perf_counter() - started)
        assert a.status_code == b.status_code == 404
        assert a.content == b.content and a.headers["content-type"] == b.headers["content-type"]
    # medians: a busy machine adds outliers to both
    gap_ms = abs(statistics.median(wrong_code) - statistics.median(wrong_number)) * 1000
    assert gap_ms < 3, f"wrong code {statistics.median(wrong_code) * 1000:.2f} ms, wrong number " \
                       f"{statistics.median(wrong_number) * 1000:.2f} ms"


@pytest.mark.parametrize("exists", [True, False])
def test_attempts_on_one_receipt_number_are_limited_whether_it_exists_or_not(intake, exists):
    _, receipt_no, code = slip(intake) if exists else (None, f"2026-361402-{8000000 + uuid.uuid4().int % 99999:07d}",
                                                       "2222-2222-2222")
    answers = [ask(intake, receipt_no, "ZZZZ-ZZZZ-ZZZZ").status_code for _ in range(PER_RECEIPT)]
    assert answers == [404] * PER_RECEIPT
    limited = ask(intake, receipt_no, code)  # now even the right code waits
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"


def test_attempts_from_one_source_are_limited(intake):
    source = "10.99.0.7"
    answers = [ask(intake, f"2026-361402-{7000000 + i:07d}", "2222-2222-2222", source).status_code
               for i in range(PER_SOURCE)]
    assert answers == [404] * PER_SOURCE
    assert ask(intake, "2026-361402-7000099", "2222-2222-2222", source).status_code == 429
    assert ask(intake, "2026-361402-7000099", "2222-2222-2222", "10.99.0.8").status_code == 404  # another source


def test_a_reissued_code_replaces_the_old_one_and_no_code_reaches_the_log(intake):
    pid, receipt_no, old = slip(intake)
    _, _, new = slip(intake, new_code=True, pid=pid)
    assert new != old
    assert ask(intake, receipt_no, old).status_code == 404
    assert ask(intake, receipt_no, new).status_code == 200
    log = intake.proc.log.read_text(encoding="utf-8", errors="replace")
    assert old not in log and new not in log and old.replace("-", "") not in log

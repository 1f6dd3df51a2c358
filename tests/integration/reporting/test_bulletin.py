"""月通报 against a real reporting service over two generated county-years (support.county_year) with two 督办单
planted in May 2026 on matters overdue then (one answered since, one not): the June bulletin's DOCX (python-docx)
and PDF (pdftotext) hold the figures of GET /v1/stats (the paragraph, and the table with 同比 and 环比), every unit's
rank, name and score of GET /v1/assessment, the units with obligations overdue named with their counts, and what
became of May's notices; rendered again with the same as_of, the same bytes. The doors are the assessment's; a
period not begun, before the county's history or malformed is a 422 naming the field."""
from __future__ import annotations

import asyncio
import io
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import docx
import httpx
import pytest

from reporting import bulletin
from support.county_year import county_year
from support.history import History, publish, utc
from support.kafka import delete_run_topics, run_settings
from support.problems import assert_problem
from support.reporting import DEMO, drop_schema, plant_terminal, start_reporting, wait_projected
from support.tokens import client, wait_known
from support.waiting import until
from xinfang.county import load_county
from xinfang.events import catalogue as c

CST = timezone(timedelta(hours=8))
BUREAU = "xft_bulletin-bureau-auditor-" + "b" * 28
TOWNSHIP = "xft_bulletin-township-supervisor-" + "t" * 24
HANDLER = "xft_bulletin-bureau-handler-" + "h" * 28
REVOKED = "xft_bulletin-bureau-revoked-" + "r" * 28
JUNE = {"month": "2026-06", "as_of": "2026-08-01T00:00:00+08:00"}
TOWNSHIP_CODE, OUTSIDE_CODE = "361402001000", "361402101201"  # 城关街道; 青石村 under 青石镇
MATTERS = 10_000  # a county-year of the size, and the year before it (同比)


def plant_notice(history: History, county) -> dict:
    """One 督办单 in May 2026 to the unit of two matters overdue then: the first answered after the notice, the
    second answered before it (so not since)."""
    overdue: dict[str, list] = {}
    replies: dict[str, datetime] = {}
    for _, e in history.events:
        if e.type == "petition.overdue.v1" and e.data["stage"] == "handle":
            overdue.setdefault(e.data["unit"], []).append(e)
        elif e.type == "petition.replied.v2":
            replies.setdefault(e.subject, datetime.fromisoformat(e.occurred))
    may = [e for events in overdue.values() for e in events
           if datetime(2026, 5, 3, tzinfo=CST) <= datetime.fromisoformat(e.occurred) < datetime(2026, 5, 20, tzinfo=CST)]

    def pair(first):
        """The notice's time and a second matter of the same unit answered before it, if any."""
        issued = datetime.fromisoformat(first.occurred) + timedelta(hours=2)  # after the overdue, before the reply
        for e in overdue[first.data["unit"]]:
            if e.subject != first.subject and replies[e.subject] < issued < replies[first.subject]:
                return issued, e
        return None

    first, (issued, second) = next((f, found) for f in may if (found := pair(f)))
    unit = first.data["unit"]
    receipts = {e.subject: e.data["receipt_no"] for _, e in history.events if e.type.startswith("petition.registered")}
    notice_id = uuid.uuid4().hex
    for position, e in enumerate((first, second), 1):
        history.add("events", e.subject, c.Supervised(
            notice_id=notice_id, number="督办〔2026〕1号", issuing_unit=county.unit(county.jurisdiction(county.code).unit).id,
            unit=unit, reason="超期未办结", receipt_no=receipts[e.subject], stage="handle", due_at=e.data["due_at"],
            days_overdue=1, position=position, listed=2, pdf_sha256="0" * 64, docx_sha256="1" * 64), issued)
    return {"unit": unit, "matters": [first.subject, second.subject], "issued": utc(issued)}


@pytest.fixture(scope="module")
def served(settings, kafka_bootstrap, test_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bulletin")
    county = load_county(DEMO)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(settings.model_copy(update={"database_url": test_db}), f"repbul{run}")
    schema = f"rep_bul_{run}"
    history = History()
    county_year(county, 2025, MATTERS, seed=31, history=history)
    county_year(county, 2026, MATTERS, seed=32, history=history)
    planted = plant_notice(history, county)
    bureau_unit = county.jurisdiction(county.code).unit
    plant_terminal(topics, "t-bul-bureau", bureau_unit, ["auditor"], BUREAU)
    plant_terminal(topics, "t-bul-township", "station.361402001000", ["supervisor"], TOWNSHIP)
    plant_terminal(topics, "t-bul-handler", bureau_unit, ["handler", "registrar"], HANDLER)
    publish(topics, history)
    reporting, http = None, None
    try:
        reporting = start_reporting(topics, test_db, schema, folder / "reporting.log")
        asyncio.run(wait_projected(test_db, schema, history.count(), timeout=600))
        http = client(reporting.url, BUREAU, timeout=60)
        for token in (TOWNSHIP, HANDLER):
            wait_known(reporting.url, token)
        yield {"http": http, "reporting": reporting, "county": county, "planted": planted, "folder": folder,
               "topics": topics}
    finally:
        if http is not None:
            http.close()
        if reporting is not None:
            reporting.stop()
        asyncio.run(drop_schema(test_db, schema))
        delete_run_topics(topics)


@pytest.fixture(scope="module")
def june(served):
    """The June bulletin in both formats, the figures and the ranking it was made from."""
    http = served["http"]
    got = {fmt: http.get("/v1/bulletin", params={**JUNE, "format": fmt}) for fmt in ("docx", "pdf")}
    for fmt, r in got.items():
        assert r.status_code == 200, (fmt, r.text[:500])
    stats = http.get("/v1/stats", params={**JUNE, "compare": "yoy,mom"})
    ranking = http.get("/v1/assessment", params=JUNE)
    assert stats.status_code == 200 and ranking.status_code == 200
    pdf = served["folder"] / "june.pdf"
    pdf.write_bytes(got["pdf"].content)
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    layout = re.sub(r"\n\s*— \d+ —\s*\n?\x0c", "\n", layout)  # the page numbers at each page's foot
    word = docx.Document(io.BytesIO(got["docx"].content))
    return {"docx": got["docx"], "pdf": got["pdf"], "word": word, "layout": layout,
            "text": "\n".join(p.text for p in word.paragraphs), "stats": stats.json(), "ranking": ranking.json()}


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_paragraphs_say_the_figures_of_the_stats(june, served):
    figures = june["stats"]["figures"]
    v = {key: figures[key]["value"] for key in ("cases", "batches", "persons", "resolved")}
    said = (f"2026年6月，全区共发生上访案件{v['cases']}件，受理群众来访{v['batches']}批次、{v['persons']}人次，"
            f"已解决{v['resolved']}件，解决率{figures['resolution_rate']['text']}")
    assert said in june["text"] and v["cases"] > 50
    assert f"群众来访同比({figures['batches']['yoy']['value']}批次){figures['batches']['yoy']['text']}" in june["text"]
    assert f"群众来访批次{figures['batches']['mom']['text']}" in june["text"]  # 环比
    assert f"满意率{figures['satisfaction_rate']['text']}" in june["text"]
    number = served["county"].bulletin.number.format(year=2026, seq=6)  # the county file's: 临信通〔2026〕6号
    for text in (june["text"], june["layout"]):
        assert "临溪区信访工作月通报" in flat(text) and number in flat(text)
        assert "2026年8月1日" in flat(text)  # dated as_of
    assert flat(said) in flat(june["layout"])


def test_the_figure_table_has_every_figure_with_its_year_and_month_before(june):
    figures = june["stats"]["figures"]
    table = june["word"].tables[0]
    rows = {row.cells[0].text: [cell.text for cell in row.cells] for row in table.rows[1:]}
    assert [cell.text for cell in table.rows[0].cells] == ["指标", "本期", "同比", "同比变化", "上期", "环比变化"]
    for entry in figures.values():
        row = rows[entry["label"]]
        if entry["unit"] == "%":
            assert row[1] == (entry["text"] or "—") and row[2] == (f"{entry['yoy']['value']}%" if entry["yoy"]["value"]
                                                                     else "")
        else:
            assert row[1] == f"{entry['value']}{entry['unit']}", row
            assert row[2] == f"{entry['yoy']['value']}{entry['unit']}" and row[4] == f"{entry['mom']['value']}{entry['unit']}"
        assert row[3] == (entry["yoy"]["text"] or "—") and row[5] == (entry["mom"]["text"] or "—")


def test_the_ranking_is_the_assessments_in_both_documents(june):
    units = june["ranking"]["units"]
    table = june["word"].tables[1]
    assert [cell.text for cell in table.rows[0].cells][:3] == ["排名", "单位", "得分"]
    got = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    assert [(r[0], r[1], r[2]) for r in got] == [(str(u["rank"]), u["name"], u["score"]) for u in units]
    assert [r[8] for r in got] == ["否决" if u["vetoed"] else "" for u in units]
    assert len(units) > 40 and any(u["vetoed"] for u in units)
    lines = june["layout"].splitlines()
    for u in units:  # each unit's row on one line of the PDF: its rank, its name, its score
        pattern = re.compile(rf"^\s*{u['rank']}\s+{re.escape(u['name'])}\s+{re.escape(u['score'])}\s")
        assert any(pattern.search(line) for line in lines), u["name"]


def test_the_units_with_obligations_overdue_are_named_with_their_counts(june):
    late = sorted(((u["name"], u["indicators"]["overdue_obligations"]["value"]) for u in june["ranking"]["units"]
                   if u["indicators"]["overdue_obligations"]["value"]), key=lambda x: (-x[1], x[0]))
    assert late
    named = "、".join(f"{name}（{count}件次）" for name, count in late[:bulletin.NAMED]) + (
        "等" if len(late) > bulletin.NAMED else "")
    said = f"{len(late)}个单位有超期未办信访事项共{sum(n for _, n in late)}件次：{named}。"
    assert said in june["text"] and flat(said) in flat(june["layout"])
    table = june["word"].tables[3]  # after the figures, the units' and the townships' rankings: every one named
    assert [(row.cells[0].text, row.cells[1].text) for row in table.rows[1:len(late) + 1]] == [
        (name, str(count)) for name, count in late]


def test_mays_supervision_notice_is_reported_with_what_was_answered_since(june, served):
    said = "上期（2026年5月）共印发督办单1份、督办事项2件，已办理1件，尚有1件未办理"
    assert said in june["text"] and said in flat(june["layout"])
    name = served["county"].unit(served["planted"]["unit"]).name
    assert f"（{name}1件）" in june["text"]
    row = next(row for row in june["word"].tables[3].rows if row.cells[0].text == name)
    assert [cell.text for cell in row.cells][3:] == ["2", "1"]


def test_rendered_again_the_same_bytes(served, june):
    for fmt in ("docx", "pdf"):
        again = served["http"].get("/v1/bulletin", params={**JUNE, "format": fmt})
        assert again.content == june[fmt].content, fmt
    assert june["pdf"].content.startswith(b"%PDF") and june["pdf"].headers["content-type"] == "application/pdf"


def test_the_format_follows_the_accept_header_and_the_named_operations(served, june):
    http = served["http"]
    r = http.get("/v1/bulletin", params=JUNE, headers={"Accept": "application/pdf"})
    assert r.status_code == 200 and r.content == june["pdf"].content
    assert http.get("/v1/bulletin", params=JUNE).content == june["docx"].content  # DOCX by default
    assert http.get("/v1/bulletin.pdf", params=JUNE).content == june["pdf"].content
    assert http.get("/v1/bulletin.docx", params=JUNE).content == june["docx"].content


def test_a_township_bulletin_covers_its_township_only(served):
    with client(served["reporting"].url, TOWNSHIP, timeout=60) as http:
        r = http.get("/v1/bulletin", params={**JUNE, "format": "docx"})
        assert r.status_code == 200, r.text[:300]
    word = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "城关街道信访工作月通报" in text and "全街道共发生上访案件" in text
    names = [row.cells[1].text for row in word.tables[1].rows[1:]]
    county = served["county"]
    assert set(names) == {u.name for u in county.units if county.is_within(u.jurisdiction, TOWNSHIP_CODE)}


def test_the_doors_are_the_assessments(served):
    base = served["reporting"].url
    urls = [f"{base}/v1/bulletin", f"{base}/v1/bulletin.docx", f"{base}/v1/bulletin.pdf"]
    # a terminal that reads the bulletin, then is revoked: refused on every route from then on
    bureau_unit = served["county"].jurisdiction(served["county"].code).unit
    plant_terminal(served["topics"], "t-bul-revoked", bureau_unit, ["auditor"], REVOKED)
    wait_known(base, REVOKED)
    assert httpx.get(urls[1], params=JUNE, headers={"Authorization": f"Bearer {REVOKED}"}, timeout=60).status_code == 200
    plant_terminal(served["topics"], "t-bul-revoked", bureau_unit, ["auditor"], REVOKED,
                   revoked_at=datetime.now(timezone.utc))
    until(lambda: httpx.get(f"{base}/v1/stats/definitions", headers={"Authorization": f"Bearer {REVOKED}"},
                            timeout=30).status_code == 401, "reporting refusing the revoked token", timeout=30)
    for url in urls:
        for header in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"},
                       {"Authorization": f"Bearer {REVOKED}"}):
            assert_problem(httpx.get(url, params=JUNE, headers=header, timeout=30), 401)
        township = {"Authorization": f"Bearer {TOWNSHIP}"}
        for code in (OUTSIDE_CODE, served["county"].code):
            assert_problem(httpx.get(url, params={**JUNE, "jurisdiction": code}, headers=township, timeout=30), 404)
        assert_problem(httpx.get(url, params=JUNE, headers={"Authorization": f"Bearer {HANDLER}"}, timeout=30), 404)


@pytest.mark.parametrize("params,field", [
    ({"month": "2026-13"}, "month"), ({"month": "June"}, "month"), ({"month": "2999-01"}, "month"),
    ({"month": "1999-12"}, "month"), ({"quarter": "2999Q1"}, "quarter"), ({"month": "2026-06", "year": "2026"}, "year"),
    ({}, "period"), ({"month": "2026-06", "format": "xlsx"}, "format"),
    ({"month": "2026-06", "jurisdiction": "999999"}, "jurisdiction")])
def test_a_bad_period_or_parameter_is_a_problem_naming_the_field(served, params, field):
    r = served["http"].get("/v1/bulletin", params=params)
    assert_problem(r, 422)
    assert field in {e["field"] for e in r.json()["errors"]}, r.text

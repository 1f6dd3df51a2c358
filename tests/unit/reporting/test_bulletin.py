"""The bulletin's wording from the county file (checked at load) and its documents, from facts — no database."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest

from reporting import bulletin, documents
from reporting.periods import Period
from reporting.stats import figures_doc
from support.reporting import DEMO
from unit.reporting.test_written import CURRENT, LAST_YEAR
from xinfang.county import CountyConfigError, load_county
from xinfang.county.bulletin import BulletinTemplate, bulletin_problems

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), "month")
AT = datetime(2026, 8, 1, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def demo():
    return load_county(DEMO)


def row(unit, name: str, rank: int, score: str, overdue: int, vetoed=(), change=0) -> dict:
    cells = {key: {"value": "90.00"} for key in ("timely_acceptance_rate", "on_time_completion_rate",
                                                 "satisfaction_rate")}
    return {"unit": unit, "name": name, "tier": "village", "rank": rank, "score": score, "vetoed": list(vetoed),
            "rank_change": change, "indicators": {**cells, "overdue_obligations": {"value": overdue}}}


def facts(at: datetime = AT) -> bulletin.Facts:
    figures = figures_doc({"current": CURRENT, "yoy": LAST_YEAR, "mom": LAST_YEAR})
    units = [row("room.361402001001", "东门社区群众工作室", 1, "95.00", 0),
             row("room.361402001002", "西门社区群众工作室", 2, "80.00", 3, change=-1),
             row("room.361402001003", "北关社区群众工作室", 3, "40.00", 1, vetoed=("satisfaction_rate",))]
    earlier = [{"unit": "room.361402001002", "listed": 2, "answered": 1}]
    return bulletin.Facts(JUNE, "361402000000", at, {"figures": figures, "comparisons": {"mom": {"label": "2026年5月"}}},
                          {"units": units, "jurisdictions": []}, [], earlier, {"rising": [], "collective": []})


def text_of(written: documents.Written) -> str:
    return "\n".join(b.text for b in written.blocks if not isinstance(b, documents.Table))


def test_the_default_and_the_demo_wording_use_only_their_placeholders(demo):
    assert list(bulletin_problems(BulletinTemplate())) == []
    assert demo.bulletin.number == "临信通〔{year}〕{seq}号"


@pytest.mark.parametrize("section,bad,where", [
    ("paragraphs:\n    overdue: '{petitioners}'", "{petitioners}", "bulletin.paragraphs.overdue"),
    ("title: '{kind}{count}'", "{count}", "bulletin.title"),
    ("closing: ['{unit'] ", "malformed", "bulletin.closing[0]")])
def test_an_unknown_or_malformed_placeholder_is_refused_at_load_with_its_path(tmp_path, section, bad, where):
    path = tmp_path / "county.yaml"
    text = DEMO.read_text(encoding="utf-8")
    path.write_text(text[:text.index("\nbulletin:")] + f"\nbulletin:\n  {section}\n", encoding="utf-8")
    with pytest.raises(CountyConfigError) as refused:
        load_county(path)
    assert where in str(refused.value) and bad in str(refused.value), str(refused.value)


def test_the_bulletin_says_the_figures_the_ranking_the_overdue_units_and_the_notices(demo):
    written = bulletin.compose(demo, facts())
    said = text_of(written)
    assert written.title == "临溪区信访工作月通报" and written.number == "临信通〔2026〕6号"
    assert written.signed == "临溪区信访局" and written.dated == "2026年8月1日"
    assert "2026年6月，全区共发生上访案件176件，受理群众来访212批次、820人次，已解决143件，解决率81.25%" in said
    assert "与上期（2026年5月）相比，上访案件上升17.33%" in said
    assert "东门社区群众工作室位列第一，北关社区群众工作室排名靠后" in said and "被一票否决的单位1个：北关社区群众工作室" in said
    assert "2个单位有超期未办信访事项共4件次：西门社区群众工作室（3件次）、北关社区群众工作室（1件次）。" in said
    assert "共印发督办单1份、督办事项2件，已办理1件，尚有1件未办理（西门社区群众工作室1件）" in said
    assert "本期未发现热点预警。" in said
    ranking = [b for b in written.blocks if isinstance(b, documents.Table)][1]
    assert ranking.rows[1][:3] == ("2", "西门社区群众工作室", "80.00") and ranking.rows[1][7] == "↓1"
    assert ranking.rows[2][8] == "否决"


@pytest.mark.parametrize("render", [documents.docx, documents.pdf], ids=["docx", "pdf"])
def test_rendered_again_from_the_same_facts_and_clock_the_same_bytes(demo, render):
    once = render(bulletin.compose(demo, facts()))
    assert render(bulletin.compose(demo, facts())) == once
    assert render(bulletin.compose(demo, facts(AT + timedelta(days=1)))) != once


def test_the_docx_keeps_the_east_asian_font_in_its_tables(demo):
    blob = documents.docx(bulletin.compose(demo, facts()))
    xml = zipfile.ZipFile(io.BytesIO(blob)).read("word/document.xml").decode()
    assert 'w:eastAsia="仿宋"' in xml and "<w:tblHeader/>" in xml and "西门社区群众工作室" in xml


def test_the_number_counts_the_period_in_its_year(demo):
    assert bulletin.number(demo, Period(date(2026, 7, 1), date(2026, 9, 30), "quarter")) == "临信通〔2026〕3号"
    assert bulletin.number(demo, Period(date(2026, 7, 1), date(2026, 12, 31), "half")) == "临信通〔2026〕2号"

"""督办 is a fact on each listed matter: who may supervise whom, which obligation counts as overdue, what the event
holds, and the notice's text from the county file's template (no I/O)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.notices import supervision
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run
from unit.intake.test_notice_documents import FAST, demo  # noqa: F401  (a fixture)
from xinfang.county import CountyConfigError, load_county
from xinfang.county.notices import DEFAULT_SUPERVISION, template_problems

DUE = "2026-03-03T15:59:59.999999Z"  # the accept due test_lifecycle.assigned sets
LATE = datetime(2026, 3, 6, 2, 0, tzinfo=timezone.utc)  # three days after it


def supervise(unit="room-1", stage="accept", due_at=DUE) -> c.Supervise:
    return c.Supervise(notice_id="1" * 32, number="督办〔2026〕1号", unit=unit, reason=None, stage=stage, due_at=due_at,
                       days_overdue=3, position=1, listed=1, pdf_sha256="ab" * 32, docx_sha256="cd" * 32)


@pytest.fixture
def overdue():
    return assigned(run(None, register(), ctx()))


def test_a_station_supervising_its_room_records_the_obligation_and_changes_no_due(overdue):
    after = run(overdue, supervise(), ctx("station-1", roles=("supervisor",), now=LATE))
    assert after.seq == overdue.seq + 1 and after.due == overdue.due and after.status == overdue.status


@pytest.mark.parametrize("unit,roles,code", [("room-1", ("supervisor",), "not_supervisor"),
                                             ("room-2", ("supervisor",), "not_supervisor"),
                                             ("station-1", ("handler", "registrar"), "role")])
def test_only_a_supervisor_of_a_unit_above_may_supervise(overdue, unit, roles, code):
    with pytest.raises(Refused) as refused:
        run(overdue, supervise(), ctx(unit, roles=roles, now=LATE))
    assert refused.value.code == code and refused.value.kind == "forbidden"


def test_an_obligation_not_yet_due_or_met_is_not_supervised(overdue):
    boss = ctx("county-bureau", roles=("supervisor",), now=T0 + timedelta(hours=1))
    with pytest.raises(Refused) as early:
        run(overdue, supervise(), boss)
    accepted = run(overdue, c.Accept(), ctx())
    with pytest.raises(Refused) as met:
        run(accepted, supervise(), ctx("county-bureau", roles=("supervisor",), now=LATE))
    assert early.value.code == met.value.code == "not_overdue"


def test_a_matter_another_unit_holds_now_is_not_supervised_in_the_name_of_the_old_one(overdue):
    moved = assigned(overdue, "room-2")
    with pytest.raises(Refused) as refused:
        run(moved, supervise("room-1"), ctx("county-bureau", roles=("supervisor",), now=LATE))
    assert refused.value.code == "not_held"


def test_the_overdue_line_is_the_earliest_due_passed_in_calendar_days_of_the_county(demo, overdue):  # noqa: F811
    state = overdue.__class__(**{**overdue.__dict__, "holder_unit": "room.361402001001"})
    line = supervision.overdue(demo, state, "room.361402001001", LATE)
    assert (line.stage, line.due_at, line.days_overdue) == ("accept", DUE, 3)  # 3月3日 23:59 local → 3月6日
    assert supervision.overdue(demo, state, "room.361402001002", LATE) is None
    assert supervision.overdue(demo, state, "room.361402001001", datetime(2026, 3, 3, tzinfo=timezone.utc)) is None


def test_the_notice_names_the_unit_the_matters_and_the_issuer_where_the_seal_goes(demo):  # noqa: F811
    lines = [supervision.Line("p1", "2026-361402-0000001", "accept", DUE, 2),
             supervision.Line("p2", "2026-361402-0000002", "handle", "2026-03-05T01:00:00Z", 0)]
    notice = supervision.notice(demo, notice_id="1" * 32, number="督办〔2026〕7号", issuer="station.361402001000",
                                unit="room.361402001001", reason="群众反映强烈。", lines=lines, issued_at=LATE)
    text = "\n".join(notice.paragraphs)
    assert notice.title == "信访事项督办单" and notice.paragraphs[0] == "东门社区群众工作室："
    assert "截至2026年3月6日，你单位办理的下列2件信访事项" in text and "群众反映强烈。" in text
    assert "1. 登记编号2026-361402-0000001，受理期限2026年3月3日，已超期2日。" in notice.paragraphs
    assert "2. 登记编号2026-361402-0000002，办理期限2026年3月5日，已超期（不足1日）。" in notice.paragraphs
    assert notice.unit_name == "城关街道群众工作站" and notice.dated == "2026年3月6日"
    assert notice.receipt_no == "督办〔2026〕7号" and notice.number_label == "督办单编号"


def test_the_default_template_uses_only_its_placeholders_and_a_bad_one_is_refused_at_load(tmp_path):
    assert list(template_problems("supervision", DEFAULT_SUPERVISION)) == []
    path = tmp_path / "county.yaml"
    path.write_text(FAST.read_text(encoding="utf-8") + "\nsupervision_notice:\n  title: 督办单\n"
                    "  body: ['{unit}：', '{petitioners}']\n", encoding="utf-8")
    with pytest.raises(CountyConfigError) as refused:
        load_county(path)
    assert "supervision_notice.body[1]" in str(refused.value) and "{petitioners}" in str(refused.value)

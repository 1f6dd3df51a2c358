"""What a supervision notice (督办单) says: the overdue obligations of one unit, from the matters' states, and the
document's text from the county file's template (pure: no I/O).

A matter is overdue for the notice when the unit holds it, its clock runs (not 暂停) and one of its open dues lies
before the notice's time; a matter with several overdue dues is listed once, for the earliest.  Days overdue are
calendar days in the county's zone between the due date and the notice's date (0: due earlier the same day — a test
county's limits are seconds).  The document is the same :class:`compose.Notice` the petitioner's notices are,
rendered by the same renderer; it is reproduced from the events of the notice (one per listed matter).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from intake.domain.model import PetitionState
from intake.notices.compose import Notice, _Blank, _unit_name, chinese_date
from xinfang.county.model import County
from xinfang.events.catalogue import Supervised
from xinfang.events.envelope import parse_time
from xinfang.vocabulary import STAGE_LABELS

KIND = "supervision"
NUMBER_LABEL = "督办单编号"


@dataclass(frozen=True)
class Line:
    """One overdue obligation on the notice."""

    petition_id: str
    receipt_no: str
    stage: str
    due_at: str  # RFC 3339, as the matter's due holds it
    days_overdue: int


def overdue(county: County, state: PetitionState, unit: str, now: datetime) -> Line | None:
    """The matter's earliest obligation overdue at ``now`` if ``unit`` holds it and its clock runs, else None."""
    if state.holder_unit != unit or state.suspended:
        return None
    late = sorted((parse_time(at), stage, at) for stage, at, _ in state.due if parse_time(at) < now)
    if not late:
        return None
    when, stage, at = late[0]
    days = (now.astimezone(county.zone).date() - when.astimezone(county.zone).date()).days
    return Line(state.petition_id, state.receipt_no, stage, at, max(0, days))


def number(year: int, serial: int) -> str:
    """督办〔2026〕3号: numbered per issuing unit and year."""
    return f"督办〔{year}〕{serial}号"


def line_text(county: County, position: int, line: Line) -> str:
    """``1. 登记编号 2026-361402-0000012，受理期限 2026年12月1日，已超期 3 日。``"""
    due = chinese_date(parse_time(line.due_at).astimezone(county.zone).date())
    late = f"已超期{line.days_overdue}日" if line.days_overdue else "已超期（不足1日）"
    return f"{position}. 登记编号{line.receipt_no}，{STAGE_LABELS[line.stage]}期限{due}，{late}。"  # type: ignore[index]


def notice(county: County, *, notice_id: str, number: str, issuer: str, unit: str, reason: str | None,
           lines: list[Line], issued_at: datetime) -> Notice:
    """The document's text: the county's 督办单 template filled with the notice's values and its lines."""
    template = county.supervision_notice
    dated = chinese_date(issued_at.astimezone(county.zone).date())
    values = _Blank({"number": number, "issuer": _unit_name(county, issuer), "unit": _unit_name(county, unit),
                     "county": county.name, "date": dated, "reason": reason or "", "count": str(len(lines)),
                     "matters": "\n".join(line_text(county, i, line) for i, line in enumerate(lines, 1))})
    formatter = string.Formatter()
    paragraphs = tuple(part.strip() for text in template.body
                       for part in formatter.vformat(text, (), values).splitlines() if part.strip())
    return Notice(notice_id, KIND, formatter.vformat(template.title, (), values), paragraphs,  # type: ignore[arg-type]
                  _unit_name(county, issuer), dated, issued_at, number, number_label=NUMBER_LABEL)


def from_events(county: County, events: list[tuple[datetime, Supervised]]) -> Notice:
    """The notice reproduced from its events ((occurred, data) of each listed matter, any order)."""
    ordered = sorted(events, key=lambda item: item[1].position)
    issued_at, first = ordered[0]
    lines = [Line("", d.receipt_no, d.stage, d.due_at, d.days_overdue) for _, d in ordered]
    return notice(county, notice_id=first.notice_id, number=first.number, issuer=first.issuing_unit,
                  unit=first.unit, reason=first.reason, lines=lines, issued_at=issued_at)

"""What a notice says, from the matter's events and the county file (pure: no I/O).

Two steps, so that the event of an issued notice can hold everything but the personal data:

- :func:`draft` — the template (county file, else default) and the values of its placeholders, from the
  matter's events: what ``petition.notice_issued.v1`` records (names, address and query code left out);
- :func:`fill` — the document's text, from a draft (or the event that recorded it), the petitioners' decrypted
  names and address, the query code and the issuing time.  A notice reproduced later is filled from its event.

Dates are written as GB/T 9704-2012 §7.3.5 writes a document's date (成文日期): Arabic numerals, the year in
full, month and day without a leading zero — ``2026年12月1日``.  (The Chinese-numeral form ``二〇二六年十二月一日``
is the superseded 1999 edition's; documents of the Party and state organs have used Arabic numerals since 2012.)
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from intake.domain.model import PetitionState
from xinfang.county.limits import LEGAL_LIMITS, TimeLimit
from xinfang.county.model import County
from xinfang.county.notices import PERSONAL
from xinfang.events.catalogue import (
    Accepted,
    Petitioner,
    RecheckRequested,
    Registered,
    Replied,
    ReviewReplied,
    ReviewRequested,
    VisitRecorded,
)
from xinfang.vocabulary import CHANNEL_LABELS, DECISION_LABELS, REDIRECT_LABELS, NoticeKind

#: 诉访分离: where a declined matter belongs, named in the 不予受理告知书
LEGAL_BODIES = {"court": "人民法院", "arbitration": "仲裁机构", "admin_review": "行政复议机关"}
ANY_CHANNEL = "诉讼、仲裁、行政复议等法定途径"
ANY_BODY = "有关机关"
NO_ADDRESS = "（未登记）"
#: an answer recorded before v2 stated its facts and grounds in one text, read as the grounds (upcasting.py)
FACTS_NOT_APART = "（原答复未单独载明，见依据和理由）"
LAYOUT = 1  # the document layout's version, recorded in the event (render.py)

#: (seq, occurred, data) of each of intake's own events of one matter, in seq order
History = list[tuple[int, datetime, Any]]


@dataclass(frozen=True)
class Draft:
    """A notice before the personal data goes in: what the issuing event records."""

    kind: NoticeKind
    basis_seq: int
    unit: str
    title: str
    body: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    addressed: tuple[str, ...]  # petitioners' refs, in the order they are addressed


@dataclass(frozen=True)
class Notice:
    """A notice as printed: personal data included, so never logged nor put in an event."""

    notice_id: str
    kind: NoticeKind
    title: str
    paragraphs: tuple[str, ...]
    unit_name: str
    dated: str  # the document's date, where the seal goes under the unit's name
    issued_at: datetime
    receipt_no: str
    number_label: str = "登记编号"  # what the footer calls ``receipt_no`` (a 督办单 prints its own number there)


# C0 controls but tab, and the code points XML 1.0 forbids: what neither a printed page nor DOCX can hold
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without the characters no document can hold (see _UNPRINTABLE)."""
    return _UNPRINTABLE.sub("", text)


def chinese_date(day: date) -> str:
    """2026年12月1日 (GB/T 9704-2012 §7.3.5.3)."""
    return f"{day.year}年{day.month}月{day.day}日"


def limit_text(limit: TimeLimit) -> str:
    """30日, 5个工作日 (seconds only in test counties)."""
    return {"calendar": f"{limit.amount}日", "working": f"{limit.amount}个工作日",
            "seconds": f"{limit.amount}秒"}[limit.unit]


def _unit_name(county: County, unit_id: str | None) -> str:
    if unit_id is None:
        return "上一级机关"
    try:
        return county.unit(unit_id).name
    except KeyError:
        return unit_id  # a unit the county file no longer lists (history): its id, rather than nothing


def _tier(county: County, unit_id: str) -> str:
    try:
        return county.unit(unit_id).tier
    except KeyError:
        return "county"


def _above(county: County, unit_id: str) -> str:
    try:
        above = county.next_tier_unit(unit_id)
    except KeyError:
        above = None
    return _unit_name(county, above.id if above else None)


def _latest(history: History, kinds: tuple[type, ...], before: int) -> tuple[int, datetime, Any] | None:
    return next((item for item in reversed(history) if item[0] < before and isinstance(item[2], kinds)), None)


def draft(county: County, state: PetitionState, history: History, kind: NoticeKind) -> Draft:
    """The template and placeholder values of a notice of ``kind`` (the fact it tells must exist)."""
    fact = state.notice_fact(kind)
    if fact is None:
        raise ValueError(f"no fact for a {kind} notice")
    seq, unit, _ = fact
    at = {s: (when, data) for s, when, data in history}
    local = lambda moment: chinese_date(moment.astimezone(county.zone).date())  # noqa: E731
    decided_at, decided = at[seq]
    registered = next(data for _, _, data in history if isinstance(data, Registered))
    try:
        category = county.category(state.category).name
    except KeyError:
        category = state.category
    fields: dict[str, str] = {
        "receipt_no": state.receipt_no, "summary": registered.summary, "category": category,
        "registered_date": local(state.registered_at), "unit": _unit_name(county, unit), "county": county.name,
        "decided_date": local(decided_at)}
    fields.update(_particulars(county, kind, decided, history, seq, local))
    template = county.notice_template(kind)
    refs = tuple(dict.fromkeys(p.ref for s, _, data in history if s <= seq
                               and isinstance(data, Registered | VisitRecorded) for p in data.petitioners))
    return Draft(kind, seq, unit, template.title, tuple(template.body),
                 tuple((k, v) for k, v in fields.items() if k not in PERSONAL), refs)


def _particulars(county: County, kind: NoticeKind, decided: Any, history: History, seq: int,
                 local) -> dict[str, str]:
    """The placeholders only one kind has."""
    if kind == "receipt":
        return {"channel": CHANNEL_LABELS[decided.channel], "head_count": str(decided.head_count),
                "accept_limit": limit_text(LEGAL_LIMITS["accept"])}
    if kind == "acceptance":
        return {"handle_limit": limit_text(county.limit(_tier(county, decided.unit), "handle"))}  # type: ignore[arg-type]
    if kind == "declined":
        redirect = decided.redirect
        return {"reason": decided.reason, "legal_channel": REDIRECT_LABELS[redirect] if redirect else ANY_CHANNEL,
                "legal_body": LEGAL_BODIES[redirect] if redirect else ANY_BODY}
    if kind == "extension":
        return {"reason": decided.reason, "days": str(decided.days), "approved_by": _unit_name(county, decided.approved_by)}
    answer = {"decision": DECISION_LABELS[decided.decision], "facts": decided.facts or FACTS_NOT_APART,
              "grounds": decided.grounds}
    tier = _tier(county, decided.unit)
    if kind == "opinion":
        accepted = _latest(history, (Accepted,), seq)
        return {**answer, "accepted_date": local(accepted[1]) if accepted else "",
                "review_window": limit_text(county.limit(tier, "review_request_window")),  # type: ignore[arg-type]
                "review_unit": _above(county, decided.unit)}
    contested = _latest(history, (Replied,) if kind == "review_opinion" else (ReviewReplied,), seq)
    request = _latest(history, (ReviewRequested,) if kind == "review_opinion" else (RecheckRequested,), seq)
    answer.update({"original_unit": _unit_name(county, contested[2].unit) if contested else "",
                   "original_date": local(contested[1]) if contested else "",
                   "requested_date": local(request[1]) if request else ""})
    if kind == "review_opinion":
        answer.update({"recheck_window": limit_text(county.limit(tier, "recheck_request_window")),  # type: ignore[arg-type]
                       "recheck_unit": _above(county, decided.unit)})
    return answer


def fill(county: County, draft: Draft, *, notice_id: str, issued_at: datetime, people: dict[str, dict],
         query_code: str | None) -> Notice:
    """The document's text: the draft's template filled with its values, the petitioners' names and address
    (``people``: ref → decrypted fields), the query code and the issuing date."""
    fields = dict(draft.fields)
    addressed = [people[ref] for ref in draft.addressed if ref in people]
    address = next((p["address"] for p in addressed if p.get("address")), None)
    dated = chinese_date(issued_at.astimezone(county.zone).date())
    values = {**fields, "date": dated, "petitioners": "、".join(p["name"] for p in addressed) or "信访人",
              "address": address or NO_ADDRESS, "query_code": query_code or ""}
    formatter, known = string.Formatter(), _Blank(values)
    # a line break in what a unit wrote (an opinion of several paragraphs) starts a paragraph of the document;
    # other control characters a clerk's or petitioner's text may hold are no text of a document (and DOCX's XML
    # cannot hold them at all): dropped, the same way every time the notice is made again
    paragraphs = tuple(printable(line).strip() for text in draft.body
                       for line in formatter.vformat(text, (), known).splitlines() if printable(line).strip())
    return Notice(notice_id, draft.kind, printable(formatter.vformat(draft.title, (), known)), paragraphs,
                  fields.get("unit", draft.unit), dated, issued_at, fields.get("receipt_no", ""))


class _Blank(dict):
    """A placeholder the kind allows but the draft has no value for (an event of an older layout) reads empty."""

    def __missing__(self, key: str) -> str:
        return ""


def encrypted_people(history: History, refs: tuple[str, ...]) -> dict[str, Petitioner]:
    """The encrypted fields of the petitioners ``refs`` as the events carry them (the latest mention wins)."""
    found: dict[str, Petitioner] = {}
    for _, _, data in history:
        if isinstance(data, Registered | VisitRecorded):
            found.update({p.ref: p for p in data.petitioners if p.ref in refs})
    return found


"""The written notices' templates (书面告知): the county file's ``notices:`` section and its defaults.

A county words its notices in its file, without code: each kind has a title and paragraphs with
``{placeholders}``; a kind the file leaves out gets the default below (a county without a ``notices:``
section has every default).  The placeholders a kind may use are listed in :data:`PLACEHOLDERS`; an
unknown one is refused at load with the template's kind and the placeholder's name (``checks``).

Three placeholders are personal data or a secret — the petitioners' names, their address, the query
code — and are filled in only inside the document, never recorded in an event (:data:`PERSONAL`).
"""
from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from xinfang.vocabulary import NOTICE_LABELS, NoticeKind

#: filled in only inside the document (decrypted names and address, the query code): never in an event
PERSONAL = frozenset({"petitioners", "address", "query_code"})
#: what every notice may say: who, which matter, which unit, when
COMMON = frozenset({"petitioners", "address", "receipt_no", "summary", "category", "registered_date", "unit",
                    "county", "date"})
#: what every answer (意见书) says: the facts found, the decision and its grounds, each apart (the answer's v2
#: ``facts`` and ``grounds``; the v1 answer's one ``{opinion}`` is gone: a county template naming it is refused)
ANSWER = frozenset({"decided_date", "decision", "facts", "grounds"})
PLACEHOLDERS: dict[NoticeKind, frozenset[str]] = {
    "receipt": COMMON | {"channel", "head_count", "accept_limit", "query_code"},
    "acceptance": COMMON | {"decided_date", "handle_limit"},
    "declined": COMMON | {"decided_date", "reason", "legal_channel", "legal_body"},
    "extension": COMMON | {"decided_date", "reason", "days", "approved_by"},
    "opinion": COMMON | ANSWER | {"accepted_date", "review_window", "review_unit"},
    "review_opinion": COMMON | ANSWER | {"original_unit", "original_date", "requested_date", "recheck_window",
                                         "recheck_unit"},
    "recheck_opinion": COMMON | ANSWER | {"original_unit", "original_date", "requested_date"},
}


class NoticeTemplate(BaseModel):
    """One kind of notice: its title and its paragraphs, each with ``{placeholders}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str = Field(min_length=1, max_length=60)
    body: list[Annotated[str, Field(min_length=1, max_length=4000)]] = Field(min_length=1, max_length=40)


def _t(title: str, *body: str) -> NoticeTemplate:
    return NoticeTemplate(title=title, body=list(body))


_ADDRESSEE = "{petitioners}："
DEFAULT_NOTICES: dict[NoticeKind, NoticeTemplate] = {
    "receipt": _t(
        "信访事项登记回执", _ADDRESSEE,
        "你（你们）于{registered_date}以{channel}方式反映的信访事项，{unit}已予登记。",
        "登记编号：{receipt_no}", "事项摘要：{summary}", "联系地址：{address}",
        "本机关将自收到信访事项之日起{accept_limit}内告知是否受理。",
        "查询码：{query_code}。凭登记编号和查询码可以查询事项办理进展，请妥善保管，勿告知他人。"),
    "acceptance": _t(
        "信访事项受理告知书", _ADDRESSEE,
        "你（你们）于{registered_date}反映的“{summary}”一事（登记编号：{receipt_no}），经审查符合受理条件，"
        "{unit}已于{decided_date}依法受理。",
        "本机关将自受理之日起{handle_limit}内办结并书面答复；情况复杂的，经批准可以适当延长办理期限，并告知延期理由。",
        "特此告知。"),
    "declined": _t(
        "信访事项不予受理告知书", _ADDRESSEE,
        "你（你们）于{registered_date}反映的“{summary}”一事（登记编号：{receipt_no}），经审查，{unit}于"
        "{decided_date}决定不予受理。理由：{reason}",
        "对依法应当通过{legal_channel}解决的事项，请依照有关法律、行政法规规定的程序向{legal_body}提出。",
        "特此告知。"),
    "extension": _t(
        "信访事项延期办理告知书", _ADDRESSEE,
        "你（你们）反映的“{summary}”一事（登记编号：{receipt_no}），{unit}已依法受理。因{reason}，"
        "经{approved_by}于{decided_date}批准，办理期限延长{days}日。",
        "特此告知。"),
    "opinion": _t(
        "信访事项处理意见书", _ADDRESSEE,
        "你（你们）于{registered_date}反映的“{summary}”一事（登记编号：{receipt_no}），{unit}已于{accepted_date}"
        "依法受理。经调查核实，现将处理意见告知如下：",
        "一、查明事实：{facts}",
        "二、处理意见：{decision}。",
        "三、依据和理由：{grounds}",
        "如对本处理意见不服，可以自收到本意见书之日起{review_window}内向{review_unit}书面提出复查请求。"),
    "review_opinion": _t(
        "信访事项复查意见书", _ADDRESSEE,
        "你（你们）不服{original_unit}于{original_date}作出的信访处理意见，于{requested_date}提出复查请求"
        "（登记编号：{receipt_no}）。{unit}经复查，现将复查意见告知如下：",
        "一、查明事实：{facts}",
        "二、复查意见：{decision}。",
        "三、依据和理由：{grounds}",
        "如对本复查意见不服，可以自收到本意见书之日起{recheck_window}内向{recheck_unit}书面提出复核请求。"),
    "recheck_opinion": _t(
        "信访事项复核意见书", _ADDRESSEE,
        "你（你们）不服{original_unit}于{original_date}作出的复查意见，于{requested_date}提出复核请求"
        "（登记编号：{receipt_no}）。{unit}经复核，现将复核意见告知如下：",
        "一、查明事实：{facts}",
        "二、复核意见：{decision}。",
        "三、依据和理由：{grounds}",
        "本复核意见为该信访事项的最终处理意见，该事项已办结。信访人对复核意见不服，仍以同一事实和理由提出投诉请求的，"
        "信访工作机构和其他行政机关不再受理。"),
}


#: 督办单 (a supervising unit to a unit with overdue matters): what its template may say; ``matters`` is the list of the
#: overdue matters, one line each (each line a paragraph of the document)
SUPERVISION_PLACEHOLDERS = frozenset({"number", "issuer", "unit", "county", "date", "reason", "count", "matters"})
DEFAULT_SUPERVISION = _t(
    "信访事项督办单",
    "{unit}：",
    "经查，截至{date}，你单位办理的下列{count}件信访事项已超过法定办理期限，尚未办结。{reason}",
    "{matters}",
    "请你单位接此督办单后，逐件落实责任，依法按期办理并答复信访人，办理结果及时报{issuer}。",
    "督办单编号：{number}")


def placeholders_of(text: str) -> Iterator[str]:
    """The placeholder names in one template text; ValueError for a malformed one (a lone brace, ``{}``,
    ``{x!r}``, ``{x:>3}``, ``{x.y}``: a template names fields, it does not format them)."""
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}")
        yield name


def template_problems(kind: NoticeKind | str, template: NoticeTemplate,
                      ) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path under the template, reason) for every unknown or malformed placeholder of one template (``kind``
    ``supervision``: the 督办单's)."""
    allowed = SUPERVISION_PLACEHOLDERS if kind == "supervision" else PLACEHOLDERS[kind]  # type: ignore[index]
    label = f"{kind}（{NOTICE_LABELS.get(kind, '督办单')}）"  # type: ignore[call-overload]
    texts = [(("title",), template.title), *((("body", i), text) for i, text in enumerate(template.body))]
    for path, text in texts:
        for reason in text_problems(text, allowed, f"模板 {label} ", f"the {kind} template"):
            yield path, reason


def text_problems(text: str, allowed: frozenset[str], zh: str, en: str) -> Iterator[str]:
    """Why one template text is refused: a malformed placeholder, or one not ``allowed`` (``zh``, ``en``: what
    the text is, in the messages)."""
    try:
        names = list(placeholders_of(text))
    except ValueError as exc:
        yield (f"{zh}的占位符格式有误 malformed placeholder in {en}: {exc} "
               f"(write {{name}}; a literal brace is {{{{ or }}}})")
        return
    for name in names:
        if name not in allowed:
            yield (f"{zh}中未知的占位符 unknown placeholder {{{name}}} in {en}; "
                   f"allowed: {', '.join(sorted(allowed))}")

"""The bulletin's wording (月通报, and the quarter's, half-year's and year's): the county file's ``bulletin:`` section.

A county words its bulletin in its file, without code: the title, the document number, the issuer, the section
headings and the paragraphs, each with ``{placeholders}``; what the file leaves out gets the default below.  The
placeholders each text may use are in :data:`PLACEHOLDERS` (every text also :data:`COMMON`); an unknown or
malformed one is refused at load with its path and the names allowed (``checks``).

The figures come in as text, already written (``17.78%``, ``上升17.78%``, ``无（分母为0）``); the seed report's
paragraph itself (``{summary}``) is written by reporting from the figures (``reporting.summary``).
No placeholder names a person: the bulletin is about units, places and matters.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from xinfang.county.notices import text_problems

Section = Literal["overview", "assessment", "overdue", "hotspots", "closing"]
ParagraphKey = Literal["opening", "overview", "month_on_month", "rates", "assessment", "overdue", "no_overdue",
                       "supervision", "no_supervision", "hotspots", "no_hotspots"]
#: what every text may say: the place (临溪区), its word in a report (全区), the period (2026年3月), the bulletin's
#: kind (月通报), its date (2026年4月1日) and the issuing unit
COMMON = frozenset({"place", "place_word", "period", "kind", "date", "issuer"})
RATES = frozenset({"timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate", "participation_rate",
                   "first_time_resolution_rate"})
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "title": COMMON - {"issuer"},
    "number": frozenset({"year", "seq", "code"}),
    "issuer": frozenset({"unit"}),
    "heading": COMMON,
    "closing": COMMON,
    "opening": COMMON,
    "overview": COMMON | {"summary"},
    "month_on_month": COMMON | {"previous", "cases_change", "batches_change", "persons_change"},
    "rates": COMMON | RATES,
    "assessment": COMMON | {"units", "first", "last", "vetoed", "vetoed_count"},
    "overdue": COMMON | {"count", "matters", "units"},
    "no_overdue": COMMON,
    "supervision": COMMON | {"previous", "issued", "listed", "answered", "open", "open_units"},
    "no_supervision": COMMON | {"previous"},
    "hotspots": COMMON | {"count", "items"},
    "no_hotspots": COMMON,
}
DEFAULT_HEADINGS: dict[str, str] = {
    "overview": "一、总体情况", "assessment": "二、考核排名", "overdue": "三、超期未办和督办情况",
    "hotspots": "四、热点预警", "closing": "五、工作要求"}
DEFAULT_PARAGRAPHS: dict[str, str] = {
    "opening": "现将{period}{place_word}信访工作情况通报如下。",
    "overview": "{summary}",
    "month_on_month": "与上期（{previous}）相比，上访案件{cases_change}，群众来访批次{batches_change}，人次{persons_change}。",
    "rates": "{place_word}及时受理率{timely_acceptance_rate}，按期办结率{on_time_completion_rate}，满意率"
             "{satisfaction_rate}，参评率{participation_rate}，一次办结率{first_time_resolution_rate}。",
    "assessment": "按照考核办法，对{units}个单位进行考核排名（见下表）。{first}位列第一，{last}排名靠后；"
                  "因满意度等指标未达标被一票否决的单位{vetoed_count}个：{vetoed}。",
    "overdue": "截至{date}，{count}个单位有超期未办信访事项共{matters}件次：{units}。",
    "no_overdue": "截至{date}，各单位均无超期未办信访事项。",
    "supervision": "上期（{previous}）共印发督办单{issued}份、督办事项{listed}件，已办理{answered}件，尚有{open}件未办理"
                   "（{open_units}）。",
    "no_supervision": "上期（{previous}）未印发督办单。",
    "hotspots": "本期发现热点预警{count}条：{items}。",
    "no_hotspots": "本期未发现热点预警。",
}
DEFAULT_CLOSING = (
    "各单位要对照本通报，逐件落实超期未办和督办事项，依法按期办理答复，切实提高及时受理率、按期办结率和群众满意率。",
    "对热点预警涉及的地方和事项，属地要加强排查化解，把矛盾化解在基层和萌芽状态。")
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class BulletinTemplate(BaseModel):
    """The title, the number, the issuer, the headings and paragraphs of the bulletin (any left out: the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str = Field("{place}信访工作{kind}", min_length=1, max_length=60)
    number: str = Field("信访通报〔{year}〕{seq}号", min_length=1, max_length=40, description=(
        "文号: {year}, {seq} (the month 1-12, the quarter 1-4, the half 1-2, a year 1) and {code} (2026-03)"))
    issuer: str = Field("{unit}", min_length=1, max_length=60, description=(
        "发文单位: {unit} is the unit of the place the bulletin covers (the county's bureau for the county)"))
    headings: dict[Section, Annotated[str, Field(min_length=1, max_length=60)]] = Field(default_factory=dict)
    paragraphs: dict[ParagraphKey, Text] = Field(default_factory=dict)
    closing: list[Text] = Field(default_factory=lambda: list(DEFAULT_CLOSING), max_length=20)

    def heading(self, key: str) -> str:
        """A section's heading: the county's, else the default."""
        return self.headings.get(key, DEFAULT_HEADINGS[key])  # type: ignore[call-overload]

    def paragraph(self, key: str) -> str:
        """A paragraph's template: the county's, else the default."""
        return self.paragraphs.get(key, DEFAULT_PARAGRAPHS[key])  # type: ignore[call-overload]


def bulletin_problems(template: BulletinTemplate) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path under ``bulletin``, reason) for every unknown or malformed placeholder of the bulletin's texts."""
    texts: list[tuple[tuple[str | int, ...], str, str]] = [
        (("title",), "title", template.title), (("number",), "number", template.number),
        (("issuer",), "issuer", template.issuer),
        *((("headings", k), "heading", v) for k, v in template.headings.items()),
        *((("paragraphs", k), k, v) for k, v in template.paragraphs.items()),
        *((("closing", i), "closing", v) for i, v in enumerate(template.closing))]
    for path, kind, text in texts:
        for reason in text_problems(text, PLACEHOLDERS[kind], "通报模板", f"the bulletin's {kind}"):
            yield path, reason

__all__ = ["DEFAULT_CLOSING", "DEFAULT_HEADINGS", "DEFAULT_PARAGRAPHS", "PLACEHOLDERS", "BulletinTemplate",
           "bulletin_problems"]

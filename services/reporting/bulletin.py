"""月通报 (and the quarter's, half-year's, year's bulletin): the document the bureau sends out, from the figures.

What it says, in the county file's wording (``bulletin:``, ``xinfang.county.bulletin``):

- 总体情况: the seed report's paragraph (``reporting.summary``) with 同比, a sentence with 环比, the 三率, and the
  table of every figure of ``GET /v1/stats`` with its 同比 and 环比;
- 考核排名: the ranking of ``GET /v1/assessment`` — every unit below the scope, and the places one tier down;
- 超期未办和督办: the units with obligations due in the period and not met (the assessment's 超期未办), named,
  with the 督办单 issued to them this period and, of those of the period before, how many were answered since;
- 热点预警: the warnings of ``GET /v1/hotspots`` (places, categories, matters: never persons);
- 工作要求 (the county's closing paragraphs), the issuing unit and the date.

Gathering reads the service (:func:`gather`); composing is pure (:func:`compose`), so the same facts and the same
clock make the same document, byte for byte (``reporting.documents``).  The clock is ``as_of`` when asked, else
the present.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from reporting import documents, summary, supervision
from reporting.assessment import assessment
from reporting.hotspots import hotspots
from reporting.periods import Period
from reporting.stats import Reporter, Request
from xinfang.county import County

KINDS = {"month": "月通报", "quarter": "季度通报", "half": "半年通报", "year": "年度通报"}
RATE_KEYS = ("timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate", "participation_rate",
             "first_time_resolution_rate")
OVERDUE_HEADER = ("单位", "超期未办（件次）", "本期督办单（份）", "上期督办事项（件）", "上期督办已办理（件）")
SHOWN = 10  # a paragraph names this many hotspots; the table lists them all
NAMED = 30  # … and this many units with obligations overdue, most first (the table below it names every one)


@dataclass(frozen=True)
class Facts:
    """Everything the bulletin says, as the service's own documents give it."""

    period: Period
    top: str  # the place the bulletin covers
    at: datetime  # the clock: the document's date and its files' times
    stats: dict[str, Any]  # GET /v1/stats, with yoy and mom
    ranking: dict[str, Any]  # GET /v1/assessment
    notices: list[dict[str, Any]]  # 督办单 issued in the period
    earlier_notices: list[dict[str, Any]]  # … in the period before, with what was answered since
    hotspots: dict[str, list[dict[str, Any]]]  # GET /v1/hotspots


async def gather(rep: Reporter, request: Request) -> Facts:
    """The facts of the bulletin of ``request`` (its period, its place — checked and within the caller's scope —
    and its clocks)."""
    top = request.jurisdiction or rep.county.code
    scoped = Request(period=request.period, jurisdiction=top, as_of=request.as_of, known_at=request.known_at,
                     compare=("yoy", "mom"))
    earlier = Request(**{**vars(scoped), "period": request.period.before()})
    stats, ranking, notices, earlier_notices, warnings = await asyncio.gather(
        rep.stats(scoped), assessment(rep, scoped), supervision.notices(rep.pool, rep.schema, rep.county, scoped),
        supervision.notices(rep.pool, rep.schema, rep.county, earlier),
        hotspots(rep.pool, rep.schema, rep.county, scoped))
    at = request.as_of or datetime.now(timezone.utc)
    return Facts(request.period, top, at, stats, ranking, notices, earlier_notices, warnings)


def number(county: County, period: Period) -> str:
    """The bulletin's number (文号) in the county's format: {seq} is the month, quarter or half of its year."""
    s = period.start
    seq = {"month": s.month, "quarter": (s.month - 1) // 3 + 1, "half": 1 if s.month == 1 else 2}.get(period.kind, 1)
    return county.bulletin.number.format_map({"year": s.year, "seq": seq, "code": period.code})


def date_text(moment: datetime, county: County) -> str:
    """成文日期 as GB/T 9704-2012 writes it: 2026年4月1日."""
    day = moment.astimezone(county.zone).date()
    return f"{day.year}年{day.month}月{day.day}日"


def compose(county: County, facts: Facts) -> documents.Written:
    """The bulletin as a written document (pure: the same facts, the same document)."""
    template, place = county.bulletin, county.jurisdiction(facts.top)
    issuer = template.issuer.format_map({"unit": county.unit(place.unit).name})
    common = {"place": place.name, "place_word": summary.place_word(place.name), "period": facts.period.label,
              "kind": KINDS[facts.period.kind], "date": date_text(facts.at, county), "issuer": issuer}

    def say(key: str, **values: Any) -> documents.Paragraph:
        return documents.Paragraph(template.paragraph(key).format_map(common | values))

    def heading(key: str) -> documents.Heading:
        return documents.Heading(template.heading(key).format_map(common))

    figures = facts.stats["figures"]
    changes = {f"{key}_change": (figures[key].get("mom") or {}).get("text") or "无可比基数"
               for key in ("cases", "batches", "persons")}
    rates = {key: figures[key]["text"] or "无（分母为0）" for key in RATE_KEYS}
    blocks: list[documents.Block] = [
        say("opening"), heading("overview"),
        say("overview", summary=summary.paragraph(figures, place.name, facts.period.label)),
        say("month_on_month", previous=facts.stats["comparisons"]["mom"]["label"], **changes),
        say("rates", **rates), summary.figure_table(figures, ("yoy", "mom")),
        heading("assessment"), *_assessment(facts.ranking, say),
        heading("overdue"), *_overdue(county, facts, say),
        heading("hotspots"), *_hotspots(facts.hotspots, say),
        heading("closing"), *(documents.Paragraph(text.format_map(common)) for text in template.closing)]
    title = template.title.format_map(common)
    code = number(county, facts.period)
    return documents.Written(title=title, blocks=tuple(blocks), at=facts.at.astimezone(county.zone), number=code,
                             signed=issuer, dated=common["date"], subject=f"{title} {facts.period.code}",
                             keywords=code, identifier=f"bulletin:{facts.top}:{facts.period.code}")


def _percent(cell: dict[str, Any]) -> str:
    return "—" if cell["value"] is None else f"{cell['value']}%"


def _change(row: dict[str, Any]) -> str:
    change = row["rank_change"]
    if change is None:
        return "新"
    return "—" if change == 0 else (f"↑{change}" if change > 0 else f"↓{-change}")


def assessment_table(rows: list[dict[str, Any]], key: str = "unit") -> documents.Table:
    """The ranking: rank, name, score, the 三率 and the overdue count, the rank change, the veto."""
    header = ("排名", "单位" if key == "unit" else "地方", "得分", "及时受理率", "按期办结率", "满意率", "超期未办",
              "名次变化", "一票否决")
    body = tuple((str(r["rank"]), r["name"], r["score"], _percent(r["indicators"]["timely_acceptance_rate"]),
                  _percent(r["indicators"]["on_time_completion_rate"]), _percent(r["indicators"]["satisfaction_rate"]),
                  str(r["indicators"]["overdue_obligations"]["value"]), _change(r), "否决" if r["vetoed"] else "")
                 for r in rows)
    return documents.Table(header, body, (1, 5.6, 1.6, 2.1, 2.1, 2.1, 1.8, 1.8, 1.8))


def _assessment(ranking: dict[str, Any], say) -> list[documents.Block]:
    units = ranking["units"]
    if not units:
        return []
    first = "、".join(r["name"] for r in units if r["rank"] == 1)
    vetoed = [r["name"] for r in units if r["vetoed"]]
    blocks: list[documents.Block] = [
        say("assessment", units=len(units), first=first, last=units[-1]["name"], vetoed="、".join(vetoed) or "无",
            vetoed_count=len(vetoed)), assessment_table(units)]
    top_tier = min((r["tier"] for r in ranking["jurisdictions"]), default=None, key=_tier_order)
    places = [r for r in ranking["jurisdictions"] if r["tier"] == top_tier]
    if places:
        blocks.append(assessment_table(places, "jurisdiction"))
    return blocks


def _tier_order(tier: str) -> int:
    return {"city": 0, "county": 1, "township": 2, "village": 3}.get(tier, 4)


def overdue_units(ranking: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(unit id, name, obligations overdue) of every unit with any, most first."""
    found = [(r["unit"], r["name"], r["indicators"]["overdue_obligations"]["value"]) for r in ranking["units"]]
    return sorted(((u, n, c) for u, n, c in found if c), key=lambda x: (-x[2], x[1]))


def _overdue(county: County, facts: Facts, say) -> list[documents.Block]:
    late = overdue_units(facts.ranking)
    blocks: list[documents.Block] = []
    if late:
        blocks.append(say("overdue", count=len(late), matters=sum(c for _, _, c in late),
                          units="、".join(f"{name}（{count}件次）" for _, name, count in late[:NAMED])
                          + ("等" if len(late) > NAMED else "")))
    else:
        blocks.append(say("no_overdue"))
    previous = facts.period.before().label
    earlier = facts.earlier_notices
    if earlier:
        listed = sum(n["listed"] for n in earlier)
        answered = sum(n["answered"] for n in earlier)
        still: dict[str, int] = {}
        for notice in earlier:
            if notice["listed"] > notice["answered"]:
                still[notice["unit"]] = still.get(notice["unit"], 0) + notice["listed"] - notice["answered"]
        blocks.append(say("supervision", previous=previous, issued=len(earlier), listed=listed, answered=answered,
                          open=listed - answered, open_units="、".join(
                              f"{_unit_name(county, u)}{n}件" for u, n in sorted(still.items())) or "无"))
    else:
        blocks.append(say("no_supervision", previous=previous))
    issued: dict[str, int] = {}
    for notice in facts.notices:
        issued[notice["unit"]] = issued.get(notice["unit"], 0) + 1
    before: dict[str, list[int]] = {}
    for notice in earlier:
        counts = before.setdefault(notice["unit"], [0, 0])
        counts[0], counts[1] = counts[0] + notice["listed"], counts[1] + notice["answered"]
    units = dict.fromkeys([u for u, _, _ in late] + sorted(set(issued) | set(before)))
    if units:
        counted = {u: c for u, _, c in late}
        rows = tuple((_unit_name(county, u), str(counted.get(u, 0)), str(issued.get(u, 0)),
                      str(before.get(u, [0, 0])[0]), str(before.get(u, [0, 0])[1])) for u in units)
        blocks.append(documents.Table(OVERDUE_HEADER, rows, (4, 2, 2, 2, 2)))
    return blocks


def _unit_name(county: County, unit: str) -> str:
    try:
        return county.unit(unit).name
    except KeyError:
        return unit


def hotspot_lines(found: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """(kind, place, what) of every warning."""
    lines = [("骤增", h["jurisdiction_name"], f"{h['category_name']}类事项{h['count']}件（上期{h['previous']}件，"
                                              f"上年同期{h['last_year']}件）") for h in found["rising"]]
    lines += [("重复集体访", h["jurisdiction_name"], f"集体访{h['visits']}批次，涉及事项{len(h['matters'])}件")
              for h in found["collective"]]
    return lines


def _hotspots(found: dict[str, list[dict[str, Any]]], say) -> list[documents.Block]:
    lines = hotspot_lines(found)
    if not lines:
        return [say("no_hotspots")]
    items = "；".join(f"{place}{what}" for _, place, what in lines[:SHOWN]) + ("等" if len(lines) > SHOWN else "")
    return [say("hotspots", count=len(lines), items=items),
            documents.Table(("类型", "地方", "情况"), tuple(lines), (2, 3, 7))]


__all__ = ["Facts", "assessment_table", "compose", "date_text", "gather", "hotspot_lines", "number", "overdue_units"]

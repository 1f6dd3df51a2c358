"""GET /v1/stats (JSON, CSV, XLSX), /v1/stats/drilldown, /v1/stats/series, /v1/assessment (JSON, CSV, XLSX),
/v1/reports/summary (text, DOCX), /v1/dashboard."""
from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response

from reporting import city as city_mode
from reporting import exports, figures, summary
from reporting.access import READ_SCOPE, outside, restrict, worklist_scope
from reporting.assessment import assessment
from reporting.dashboard import page
from reporting.periods import parse_period
from reporting.queries import AT_TIER, DRILL
from reporting.stats import Reporter, parse_moment
from reporting.stats import Request as StatsRequest
from xinfang.problems import Problem
from xinfang.terminals import Terminal, caller
from xinfang.vocabulary import Tier

router = APIRouter()
WHY = {
    401: "令牌缺失、无效或已吊销。Missing, invalid or revoked token",
    404: "不在本终端的辖区或权限范围内（与不存在的答复相同）。Outside this terminal's jurisdiction or role: the same "
    "answer as for what does not exist",
    422: "参数有误（逐项说明）：期间、区划、单位、分类、渠道、时间点或指标。Invalid parameters, each named",
    503: "暂时无法核验令牌（终端目录未同步），请按 Retry-After 重试。Tokens cannot be checked right now; retry after "
    "the seconds in Retry-After",
}
ERRORS = {status: {"description": why, **({"headers": {"Retry-After": {"schema": {"type": "integer"}}}}
                                          if status == 503 else {})} for status, why in WHY.items()}
CSV, XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY, TEXT = {"schema": {"type": "string", "format": "binary"}}, {"schema": {"type": "string"}}


def answers(**media: dict) -> dict:
    """The errors, and the 200's media types (besides FastAPI's JSON where the route answers JSON)."""
    return {**ERRORS, 200: {"description": "OK", "content": media}} if media else ERRORS


def reporter(request: Request) -> Reporter:
    return request.app.state.reporting.reporter


def terminal(request: Request, authorization: Annotated[str | None, Header(
        description="Bearer <token>: a terminal's token, issued by intake")] = None) -> Terminal:
    """The calling terminal (401 without a valid token, 503 while tokens cannot be checked)."""
    return caller(request.app.state.reporting.tokens, authorization)


Caller = Annotated[Terminal, Depends(terminal)]


def stats_request(
    request: Request,
    who: Caller,
    from_: Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD (local)")] = None,
    to: Annotated[str | None, Query(description="last day, YYYY-MM-DD (local), included")] = None,
    month: Annotated[str | None, Query(description="e.g. 2026-03")] = None,
    quarter: Annotated[str | None, Query(description="e.g. 2026Q1")] = None,
    half: Annotated[str | None, Query(description="e.g. 2026H1")] = None,
    year: Annotated[str | None, Query(description="e.g. 2026")] = None,
    jurisdiction: Annotated[str | None, Query(description="区划代码; the figures roll up everything below it")] = None,
    unit: Annotated[str | None, Query(description="handling unit id")] = None,
    category: Annotated[str | None, Query(description="category code")] = None,
    channel: Annotated[str | None, Query(description="visit, letter, online or phone")] = None,
    as_of: Annotated[str | None, Query(description="count what had happened by then (occurred ≤ as_of)")] = None,
    known_at: Annotated[str | None, Query(description="count what had been recorded by then (recorded ≤ known_at)")] = None,
    compare: Annotated[str, Query(description="yoy, mom or both, comma separated")] = "yoy,mom",
) -> StatsRequest:
    county = reporter(request).county
    period = parse_period(from_=from_, to=to, month=month, quarter=quarter, half=half, year=year)
    wanted = tuple(part.strip() for part in compare.split(",") if part.strip())
    asked = StatsRequest(period=period, jurisdiction=jurisdiction, unit=unit, category=category, channel=channel,
                         as_of=parse_moment(as_of, "as_of", county), known_at=parse_moment(known_at, "known_at", county),
                         compare=wanted)
    reporter(request).check(asked)
    return restrict(county, who, asked)


Wanted = Annotated[StatsRequest, Depends(stats_request)]
Reporting = Annotated[Reporter, Depends(reporter)]


def json_document(doc: dict[str, Any]) -> Response:
    """A JSON answer, encoded once by orjson: FastAPI's own path walks the document with jsonable_encoder first
    (284 ms of a city's ranking of 2,121 rows, 3.4 MB; orjson 10 ms)."""
    return Response(orjson.dumps(doc), media_type="application/json")


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/v1/stats", summary="统计数据 Statistics for a period", tags=["statistics"], name="get_stats",
            responses=answers(**{CSV: TEXT, XLSX: BINARY}))
async def stats(wanted: Wanted, rep: Reporting,
                format: Annotated[Literal["json", "csv", "xlsx"], Query(
                    description="json, csv or xlsx (generated clients: the operations export_stats_csv and "
                                "export_stats_xlsx answer one media type each)")] = "json") -> Any:
    """Every figure of the counting rules for the period, the jurisdiction (rolled up) or unit, with
    the year-on-year (同比) and month-on-month (环比) values and changes, and the per-unit figures.
    Rates are percent with two decimals (half up); a rate whose denominator is 0 is null with a note."""
    doc = await rep.stats(wanted)
    return json_document(doc) if format == "json" else _export(doc, format)


@router.get("/v1/stats.csv", summary="统计数据导出 CSV", tags=["statistics"], name="export_stats_csv",
            response_class=Response, responses=answers(**{CSV: TEXT}))
async def stats_csv(wanted: Wanted, rep: Reporting) -> Response:
    """The figures of `GET /v1/stats` as CSV (UTF-8 with BOM, opens in Excel), one row per figure."""
    return _export(await rep.stats(wanted), "csv")


@router.get("/v1/stats.xlsx", summary="统计数据导出 XLSX", tags=["statistics"], name="export_stats_xlsx",
            response_class=Response, responses=answers(**{XLSX: BINARY}))
async def stats_xlsx(wanted: Wanted, rep: Reporting) -> Response:
    """The figures of `GET /v1/stats` as an Excel workbook."""
    return _export(await rep.stats(wanted), "xlsx")


def _export(doc: dict, format: str) -> Response:
    name = f"信访统计_{doc['scope']['jurisdiction']['name']}_{doc['period']['code']}"
    table = exports.rows(doc)
    if format == "csv":
        return _download(exports.to_csv(table), "text/csv; charset=utf-8", f"{name}.csv")
    return _download(exports.to_xlsx(table, name), XLSX, f"{name}.xlsx")


@router.get("/v1/stats/definitions", summary="指标定义 What each figure counts", tags=["statistics"],
            name="get_definitions", responses=answers())
async def definitions(_: Caller) -> dict:
    """Every figure with its Chinese name, what it counts and, for rates, what they divide."""
    return {"figures": [vars(f) for f in figures.FIGURES], "unit_figures": [vars(f) for f in figures.UNIT_FIGURES]}


@router.get("/v1/stats/drilldown", summary="明细 The matters behind a figure", tags=["statistics"],
            name="get_drilldown", responses=answers(**{CSV: TEXT, XLSX: BINARY}))
async def drilldown(wanted: Wanted, rep: Reporting,
                    figure: Annotated[str, Query(description="a figure key of /v1/stats, e.g. resolved; or "
                                                 "overdue_notices, escalations: the series' events")],
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                    offset: Annotated[int, Query(ge=0)] = 0,
                    tier: Annotated[Tier | None, Query(description="batches or persons: those registered at this "
                                                       "tier only (the series' breakdown by tier)")] = None,
                    format: Annotated[Literal["json", "csv", "xlsx"], Query(
                        description="json (paged), or csv/xlsx: every row")] = "json") -> dict:
    """Petition ids and receipt numbers of the matters a figure counts (no personal data), each with its batches
    and persons in the period and what it contributes: `contribution` to a count, `numerator` and `denominator` to
    a rate (the rows are its denominator's matters). `sums` over every row make the figure; `columns` name each
    field in Chinese and English."""
    if figure not in DRILL:
        raise Problem(422, "validation", f"参数 figure 有误：未知的指标 {figure}",
                      f"invalid parameter figure: unknown figure {figure}",
                      errors=[{"field": "figure", "message_zh": "未知的指标", "message_en": f"one of {', '.join(DRILL)}"}])
    if tier is not None and figure not in AT_TIER:
        raise Problem(422, "validation", f"参数 tier 有误：只能用于 {'、'.join(AT_TIER)}",
                      f"invalid parameter tier: only with figure {' or '.join(AT_TIER)}",
                      errors=[{"field": "tier", "message_zh": f"只能用于 {'、'.join(AT_TIER)}",
                               "message_en": f"only with figure {' or '.join(AT_TIER)}"}])
    if format == "json":
        return json_document(await rep.drilldown(wanted, figure, limit, offset, tier))
    doc = await rep.drilldown(wanted, figure, None, 0, tier)
    name = f"信访明细_{doc['label']}_{doc['scope']['jurisdiction']['name']}_{doc['period']['code']}"
    if format == "csv":
        return _download(exports.to_csv(exports.drill_rows(doc)), "text/csv; charset=utf-8", f"{name}.csv")
    return _download(exports.to_xlsx(exports.drill_rows(doc), name),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{name}.xlsx")


@router.get("/v1/stats/series", summary="趋势 Month by month, and breakdowns", tags=["statistics"],
            name="get_series", responses=answers())
async def series(wanted: Wanted, rep: Reporting) -> dict:
    """Cases, batches, persons, overdue notices and escalations per month of the period and of the
    year before; batches by the tier that registered them and cases by category."""
    return json_document(await rep.series(wanted))


def assessment_request(
    request: Request,
    who: Caller,
    month: Annotated[str | None, Query(description="e.g. 2026-03")] = None,
    quarter: Annotated[str | None, Query(description="e.g. 2026Q1")] = None,
    half: Annotated[str | None, Query(description="e.g. 2026H1")] = None,
    year: Annotated[str | None, Query(description="e.g. 2026")] = None,
    jurisdiction: Annotated[str | None, Query(description="区划代码: rank the units and places below it "
                                                          "(default: the terminal's whole scope)")] = None,
    as_of: Annotated[str | None, Query(description="count what had happened by then (occurred ≤ as_of)")] = None,
    known_at: Annotated[str | None, Query(description="count what had been recorded by then (recorded ≤ known_at)")] = None,
) -> StatsRequest:
    county = reporter(request).county
    period = parse_period(month=month, quarter=quarter, half=half, year=year)
    asked = StatsRequest(period=period, jurisdiction=jurisdiction, as_of=parse_moment(as_of, "as_of", county),
                         known_at=parse_moment(known_at, "known_at", county))
    reporter(request).check(asked)
    if not who.roles & READ_SCOPE:
        raise outside()  # a ranking of units is the supervisors' (a handler reads its own unit's figures)
    wanted = restrict(county, who, asked)
    return wanted if wanted.jurisdiction else StatsRequest(**{**vars(wanted), "jurisdiction": county.code})


@router.get("/v1/assessment", summary="考核排名 Units and places ranked for a period", tags=["assessment"],
            name="get_assessment", responses=answers(**{CSV: TEXT, XLSX: BINARY}))
async def get_assessment(wanted: Annotated[StatsRequest, Depends(assessment_request)], rep: Reporting,
                         format: Annotated[Literal["json", "csv", "xlsx"], Query(
                             description="json, csv or xlsx")] = "json") -> Any:
    """For a month, quarter, half-year or year: every unit and every place below the terminal's scope (or below
    `jurisdiction`) ranked on 及时受理率, 按期办结率, 满意率, 参评率, 一次办结率, obligations overdue, escalations received
    and caused, the repeat-batch share and skip-level batches, weighted as the county file says; a veto (e.g. 满意率
    below 60 %) ranks a unit after every unit not vetoed. Each row has its rank in the period before and the change
    (positive: up); each cell links to the drill-down of the matters it counts."""
    doc = await assessment(rep, wanted)
    if format == "json":
        return json_document(doc)
    name = f"考核排名_{doc['jurisdiction']['name']}_{doc['period']['code']}"
    table = exports.assessment_rows(doc)
    if format == "csv":
        return _download(exports.to_csv(table), "text/csv; charset=utf-8", f"{name}.csv")
    return _download(exports.to_xlsx(table, name), XLSX, f"{name}.xlsx")


@router.get("/v1/reports/summary", summary="文字综述 The written summary", tags=["reports"], name="get_summary",
            responses=answers(**{"text/plain": TEXT, DOCX: BINARY}))
async def report_summary(wanted: Wanted, rep: Reporting,
                         format: Annotated[Literal["json", "text", "docx"], Query(
                             description="json, text or docx (generated clients: the operations export_summary_text "
                                         "and export_summary_docx answer one media type each)")] = "json") -> Any:
    """The paragraph the bureau writes for its monthly, quarterly and half-yearly reports, from the figures."""
    title, text, doc = await _summary(wanted, rep)
    if format == "text":
        return Response(text, media_type="text/plain; charset=utf-8")
    if format == "docx":
        return _download(summary.docx(title, text, doc["figures"]), DOCX, f"{title}.docx")
    return {"title": title, "text": text, "period": doc["period"], "scope": doc["scope"]}


@router.get("/v1/reports/summary.txt", summary="文字综述 纯文本 The written summary as text", tags=["reports"],
            name="export_summary_text", response_class=Response, responses=answers(**{"text/plain": TEXT}))
async def summary_text(wanted: Wanted, rep: Reporting) -> Response:
    """The paragraph of `GET /v1/reports/summary`, as plain text (UTF-8)."""
    return await report_summary(wanted, rep, "text")


@router.get("/v1/reports/summary.docx", summary="文字综述 Word 文档 The written summary as DOCX", tags=["reports"],
            name="export_summary_docx", response_class=Response, responses=answers(**{DOCX: BINARY}))
async def summary_docx(wanted: Wanted, rep: Reporting) -> Response:
    """The paragraph of `GET /v1/reports/summary` with its figures, as a Word document."""
    return await report_summary(wanted, rep, "docx")


async def _summary(wanted: StatsRequest, rep: Reporter) -> tuple[str, str, dict]:
    if "yoy" not in wanted.compare:
        wanted = StatsRequest(**{**vars(wanted), "compare": ("yoy", *wanted.compare)})
    doc = await rep.stats(wanted)
    place = doc["scope"]["unit"]["name"] if doc["scope"]["unit"] else doc["scope"]["jurisdiction"]["name"]
    return f"{place}信访工作情况（{doc['period']['label']}）", summary.paragraph(doc["figures"], place,
                                                                              doc["period"]["label"]), doc


@router.get("/v1/city/worklist", summary="市级待办 Matters held at the city tier, in every county (read-only)",
            tags=["city"], name="get_city_worklist", responses=answers())
async def city_worklist(request: Request, who: Caller, rep: Reporting,
                        jurisdiction: Annotated[str | None, Query(description="a county's or township's code")] = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                        offset: Annotated[int, Query(ge=0)] = 0) -> dict:
    """City mode only: the matters a city-tier unit holds in every county, not closed, soonest due first, each
    with the link to act on it through its county's own terminal API (``act_at``); nothing is done here."""
    reporting = request.app.state.reporting
    if reporting.city is None:
        raise Problem(404, "not_found", "仅市级统计服务提供市级待办", "the city worklist is served in city mode only")
    if jurisdiction is not None:  # a code the city's tree does not know: 422 naming the field, as for the figures
        rep.check(StatsRequest(period=parse_period(year="2000"), jurisdiction=jurisdiction))
    codes, unit = worklist_scope(rep.county, who, jurisdiction)
    return await city_mode.worklist(reporting.pool, reporting.schema, reporting.city, rep.county, codes, unit,
                                    limit, offset)


@router.get("/v1/dashboard", summary="统计看板 Dashboard", response_class=HTMLResponse, tags=["dashboard"],
            name="get_dashboard", responses={422: {"description": WHY[422]}})
async def dashboard(rep: Reporting, year: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
                    jurisdiction: str | None = None) -> HTMLResponse:
    """The dashboard page: volume over time, by tier and category, overdue and escalations, the rates, year on year;
    the assessment's ranking and the hotspot warnings; for a month, quarter or year, a place and a category (the
    page's own address may also carry `month`, `quarter`, `category` and `view`), every figure opening its matters.

    The page itself holds no figure: it asks for the terminal's token (kept for the browser session only) and reads
    the figures with it, within the terminal's scope."""
    return HTMLResponse(page(rep.county, year, jurisdiction))

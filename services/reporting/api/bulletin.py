"""GET /v1/bulletin: the 月通报 (or the quarter's, half-year's, year's) as DOCX or PDF."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from reporting import bulletin, documents
from reporting.api.routes import BINARY, DOCX, Reporting, _download, answers, assessment_request
from reporting.periods import PeriodError
from reporting.stats import Request
from xinfang.problems import Problem
from xinfang.typeset import FontMissing

router = APIRouter()
PDF = "application/pdf"
MEDIA = {"docx": DOCX, "pdf": PDF}
RENDER = {"docx": documents.docx, "pdf": documents.pdf}


def bulletin_request(rep: Reporting, wanted: Annotated[Request, Depends(assessment_request)]) -> Request:
    """The assessment's request (its doors: supervisors, auditors, admins within their scope), its period a
    month, quarter, half-year or year that has begun by today (the county's) and ends after ``history_from``."""
    county, period = rep.county, wanted.period
    today = datetime.now(county.zone).date()
    if period.start > today:
        raise PeriodError(period.kind, f"期间 {period.code} 尚未开始（今天是 {today.isoformat()}）",
                          f"the period {period.code} has not begun (today is {today.isoformat()})")
    if period.end < county.history_from:
        raise PeriodError(period.kind, f"期间 {period.code} 早于本县历史数据的起点 {county.history_from.isoformat()}",
                          f"the period {period.code} ends before the county's history begins "
                          f"({county.history_from.isoformat()})")
    return wanted


Wanted = Annotated[Request, Depends(bulletin_request)]


async def _answer(wanted: Request, rep, fmt: str) -> Response:
    facts = await bulletin.gather(rep, wanted)
    written = bulletin.compose(rep.county, facts)
    try:
        body = await asyncio.to_thread(RENDER[fmt], written)  # ReportLab takes a CPU second on 500 units
    except FontMissing as exc:
        raise Problem(503, "bulletin.font_missing", "服务器缺少通报所用字体", str(exc)) from None
    return _download(body, MEDIA[fmt], f"{written.title}_{wanted.period.code}.{fmt}")


@router.get("/v1/bulletin", summary="信访工作通报 The monthly bulletin (月通报) as DOCX or PDF", tags=["reports"],
            name="get_bulletin", response_class=Response, responses=answers(**{DOCX: BINARY, PDF: BINARY}))
async def get_bulletin(wanted: Wanted, rep: Reporting,
                       format: Annotated[Literal["docx", "pdf"] | None, Query(
                           description="docx or pdf; without it, the Accept header (application/pdf → PDF), else "
                                       "DOCX (generated clients: export_bulletin_docx and export_bulletin_pdf)")] = None,
                       accept: Annotated[str | None, Header(include_in_schema=False)] = None) -> Response:
    """The bulletin the bureau sends out for a month (`month=2026-03`; also `quarter`, `half`, `year`) on the place
    asked (`jurisdiction`, default: the terminal's whole scope): its number and title from the county file
    (`bulletin:`); the figures of `GET /v1/stats` with 同比 and 环比 and the seed report's paragraph; the ranking of
    `GET /v1/assessment`; the units with obligations overdue, named, with the supervision notices (督办单) issued to
    them and how many of the period before's were answered since; the hotspot warnings; the closing paragraphs, the
    issuing unit and the date. Supervisors, auditors and admins only, within their scope (others: 404). Dated
    `as_of` when given (the same bytes each time for the same figures), else now. A period not begun yet, or
    ending before the county's `history_from`, is 422."""
    fmt = format or ("pdf" if accept and PDF in accept and DOCX not in accept else "docx")
    return await _answer(wanted, rep, fmt)


@router.get("/v1/bulletin.docx", summary="信访工作通报 Word 文档 The bulletin as DOCX", tags=["reports"],
            name="export_bulletin_docx", response_class=Response, responses=answers(**{DOCX: BINARY}))
async def bulletin_docx(wanted: Wanted, rep: Reporting) -> Response:
    """The bulletin of `GET /v1/bulletin` as a Word document."""
    return await _answer(wanted, rep, "docx")


@router.get("/v1/bulletin.pdf", summary="信访工作通报 PDF The bulletin as PDF", tags=["reports"],
            name="export_bulletin_pdf", response_class=Response, responses=answers(**{PDF: BINARY}))
async def bulletin_pdf(wanted: Wanted, rep: Reporting) -> Response:
    """The bulletin of `GET /v1/bulletin` as a PDF (A4, its font embedded)."""
    return await _answer(wanted, rep, "pdf")

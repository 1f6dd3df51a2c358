"""督办单 (supervision notices): issue one for a unit's overdue matters, download it. Route docstrings are the
OpenAPI text.

Who may issue: a supervisor of a unit above the unit supervised (the county bureau for a township or a department,
a township for its villages). Who may download: the issuing unit, the unit supervised, and the units above either.
A unit or notice outside the caller's scope answers 404, as one that does not exist.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from intake.api.deps import AuthenticatedFirst, TerminalDep, WriteDep
from intake.api.notices import DOCUMENT, MADE, _document, _format, _guarded
from intake.api.routes import ERRORS, WRITES
from intake.notices.supervising import SupervisionNotice
from xinfang.vocabulary import STAGE_LABELS

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst, tags=["supervision"])


class SupervisionIssue(BaseModel):
    """督办：对一个单位超期未办的事项出具督办单 — supervise a unit's overdue matters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    unit: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="被督办单位 the unit supervised (GET /v1/units)")
    reason: str | None = Field(None, max_length=500, description="督办事由（印在督办单上）why, printed on the notice")


class SupervisedMatter(BaseModel):
    """One overdue matter on the notice."""

    petition_id: str
    receipt_no: str
    stage: str
    stage_label: str
    due_at: datetime
    days_overdue: int = Field(description="自期限之日至督办单日期的自然日数 calendar days from the due date to the notice's")


class SupervisionNoticeOut(BaseModel):
    """An issued supervision notice as its events record it."""

    notice_id: str
    number: str = Field(description="督办单编号, per issuing unit and year: 督办〔2026〕3号")
    issuing_unit: str
    unit: str
    reason: str | None
    issued_at: datetime
    matters: list[SupervisedMatter]
    pdf_sha256: str
    docx_sha256: str
    pdf: str = Field(description="path of the PDF, reproduced from the events")
    docx: str = Field(description="path of the DOCX, reproduced from the events")


def _out(notice: SupervisionNotice) -> SupervisionNoticeOut:
    base = f"/v1/supervision-notices/{notice.notice_id}"
    return SupervisionNoticeOut(
        notice_id=notice.notice_id, number=notice.number, issuing_unit=notice.issuing_unit, unit=notice.unit,
        reason=notice.reason, issued_at=notice.issued_at, pdf_sha256=notice.pdf_sha256,
        docx_sha256=notice.docx_sha256, pdf=f"{base}.pdf", docx=f"{base}.docx",
        matters=[SupervisedMatter(petition_id=line.petition_id, receipt_no=line.receipt_no, stage=line.stage,
                                  stage_label=STAGE_LABELS[line.stage], due_at=line.due_at,  # type: ignore[index]
                                  days_overdue=line.days_overdue) for line in notice.lines])


@router.post("/supervision-notices", status_code=201, response_model=SupervisionNoticeOut, responses=WRITES)
async def issue_supervision_notice(request: Request, body: SupervisionIssue, write: WriteDep) -> Response:
    """出具督办单。Issue a supervision notice for every matter the unit holds that is overdue now (its earliest
    open due passed, its clock running), soonest due first: recorded as the event `petition.supervised.v1` on each
    listed matter's stream, all in one transaction, with the SHA-256 of the document as PDF and DOCX.

    The answer lists the matters with their due dates and days overdue; download the document from the paths given
    (reproduced from the events). 403 for a role other than supervisor or a unit not above the one supervised,
    404 for a unit outside the caller's scope, 409 when the unit holds no overdue matter."""
    terminal, idem = write
    answer = await request.app.state.intake.supervision.issue(terminal, body.unit, body.reason, idem, _out)
    return Response(answer.body, status_code=answer.status, media_type="application/json")


@router.get("/supervision-notices/{notice}", responses={**ERRORS, **MADE, **DOCUMENT}, response_class=Response)
async def download_supervision_notice(request: Request, notice: str, terminal: TerminalDep,
                                      accept: Annotated[str | None, Header()] = None) -> Response:
    """下载督办单。An issued supervision notice, reproduced from its events and checked against the SHA-256 they
    recorded: `{notice_id}.pdf`, `{notice_id}.docx`, or `{notice_id}` with `Accept: application/pdf` or the DOCX
    media type. The issuing unit's name is where the seal goes."""
    notice_id, fmt = _format(notice, accept)
    body, issued = await _guarded(request.app.state.intake.supervision.document(terminal, notice_id, fmt))
    return _document(body, fmt, f"supervision-{issued.notice_id}")

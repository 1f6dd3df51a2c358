"""The written notices (书面告知) of a matter: draft, issue, list, download. Route docstrings are the OpenAPI text.

Who may: the receipt slip (登记回执) a registrar, handler or supervisor of the unit that registered the matter;
the others (受理 / 不予受理 / 延期告知书, 信访处理意见书, 复查 / 复核意见书) a handler or supervisor of the unit that
took the decision the notice tells (the unit holding the matter then, in whose name it goes out) — or of a unit above
it. Listing and downloading issued notices: any terminal that may see the matter, auditors included. A matter
outside the caller's scope answers 404, as one that does not exist.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from intake.api.deps import AuthenticatedFirst, TerminalDep, WriteDep
from intake.api.routes import ERRORS, WRITES
from intake.notices.issuing import Gone, Issued, NotReproducible
from intake.notices.render import MEDIA_TYPES, FontMissing
from xinfang.problems import PROBLEM, Problem
from xinfang.vocabulary import DELIVERY_LABELS, NOTICE_KINDS, NOTICE_LABELS, Delivery, NoticeKind

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst, tags=["notices"])
DOCUMENT = {200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                  "description": "the document: PDF (A4, font embedded) or DOCX"},
            406: {"content": {PROBLEM: {}}, "description": "Accept names neither PDF nor DOCX"}}
MADE = {409: {"content": {PROBLEM: {}}, "description": "nothing to tell yet, or a copy that differs from its hash"},
        410: {"content": {PROBLEM: {}}, "description": "a petitioner the notice addresses was erased"}}
KINDS_TEXT = "、".join(f"`{kind}` {NOTICE_LABELS[kind]}" for kind in NOTICE_KINDS)


class NoticeIssue(BaseModel):
    """出具并送达一份告知书 — issue a notice to the petitioner."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: NoticeKind = Field(description=f"告知书种类 the kind: {KINDS_TEXT}")
    delivery: Delivery = Field(description="送达方式: `desk` 当面送达 (printed at the desk), `post` 邮寄, `sms` 短信")
    occurred_at: AwareDatetime | None = Field(None, description=(
        "送达时间（离线补录）；缺省为接收时间。书面答复的复查期限自此起算 when it was delivered"))
    new_query_code: bool = Field(False, description=(
        "仅登记回执：重新生成查询码，旧码即失效 receipt slip only: a new query code, the old one stops working"))


class NoticeOut(BaseModel):
    """An issued notice as its event records it (no personal data)."""

    notice_id: str
    kind: NoticeKind
    kind_label: str
    unit: str
    delivery: Delivery
    delivery_label: str
    issued_at: datetime = Field(description="送达时间 (occurred): the document's date")
    recorded_at: datetime | None = Field(None, description="记录时间 (recorded); not in the answer to the issuing request")
    actor: str
    basis_seq: int
    pdf_sha256: str
    docx_sha256: str
    pdf: str = Field(description="path of the PDF, reproduced from the event")
    docx: str = Field(description="path of the DOCX, reproduced from the event")


def _out(petition_id: str, issued: Issued) -> NoticeOut:
    d = issued.data
    base = f"/v1/petitions/{petition_id}/notices/{d.notice_id}"
    return NoticeOut(notice_id=d.notice_id, kind=d.kind, kind_label=NOTICE_LABELS[d.kind], unit=d.unit,
                     delivery=d.delivery, delivery_label=DELIVERY_LABELS[d.delivery], issued_at=issued.occurred,
                     recorded_at=issued.recorded, actor=issued.actor, basis_seq=d.basis_seq, pdf_sha256=d.pdf_sha256,
                     docx_sha256=d.docx_sha256, pdf=f"{base}.pdf", docx=f"{base}.docx")


def _format(name: str, accept: str | None) -> tuple[str, str]:
    """(stem, pdf|docx) of ``name.pdf`` / ``name.docx``, or of ``name`` by the Accept header (PDF by default)."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in MEDIA_TYPES:
        return stem, suffix
    wanted = accept or "*/*"
    if MEDIA_TYPES["docx"] in wanted:
        return name, "docx"
    if any(kind in wanted for kind in (MEDIA_TYPES["pdf"], "*/*", "application/*")):
        return name, "pdf"
    raise Problem(406, "not_acceptable", "只提供 PDF 或 DOCX", f"a notice is served as {' or '.join(MEDIA_TYPES.values())}")


def _document(body: bytes, fmt: str, filename: str) -> Response:
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{filename}.{fmt}", "Cache-Control": "no-store"})


async def _guarded(call):
    """The notice's failures as problems: an erased petitioner, a copy that differs from its hash, no font."""
    try:
        return await call
    except Gone:
        raise Problem(410, "notice.erased", "信访人个人信息已删除，该告知书无法再生成",
                      "a petitioner this notice addresses was erased: it can no longer be made") from None
    except NotReproducible:
        raise Problem(409, "notice.not_reproducible", "重新生成的文书与签发记录的哈希不一致（字体或排版程序已变更）",
                      "the document made again differs from the hash its event recorded (the font or the "
                      "renderer changed since)") from None
    except FontMissing as exc:
        raise Problem(503, "notice.font_missing", "服务器缺少告知书字体", str(exc)) from None


@router.get("/petitions/{petition_id}/notices", response_model=list[NoticeOut], responses=ERRORS)
async def list_notices(request: Request, petition_id: uuid.UUID, terminal: TerminalDep) -> list[NoticeOut]:
    """已出具的告知书。The notices issued on a matter, oldest first: kind, unit, delivery, time, documents' hashes."""
    issued = await request.app.state.intake.notices.issued(terminal, str(petition_id))
    return [_out(str(petition_id), item) for item in issued]


@router.post("/petitions/{petition_id}/notices", status_code=201, response_model=NoticeOut,
             responses={**WRITES, **MADE})
async def issue_notice(request: Request, petition_id: uuid.UUID, body: NoticeIssue, write: WriteDep) -> Response:
    """出具告知书并记录送达。Issue a notice: composed from the matter's events and the county's template, rendered
    as PDF and DOCX, recorded as the event `petition.notice_issued.v1` with the documents' SHA-256 and the delivery.

    The answer names the documents; download them from the paths given (reproduced from the event, byte for byte).
    Issuing the 信访处理意见书 or the 复查意见书 starts the petitioner's 30 days to ask for review from the
    delivery (the first one recorded). 409 when there is nothing to tell yet (e.g. no acceptance), 403 for a role
    or unit that may not issue it (see the module text), 410 when a petitioner addressed was erased."""
    terminal, idem = write
    app = request.app.state.intake
    pid = str(petition_id)
    if body.new_query_code and body.kind != "receipt":
        raise Problem(422, "new_query_code", "只有登记回执可以重新生成查询码",
                      "new_query_code goes with the receipt slip only", errors=[{
                          "field": "new_query_code", "message_zh": "只有登记回执可以重新生成查询码",
                          "message_en": "only with kind receipt"}])
    answer = await _guarded(app.notices.issue(terminal, pid, body.kind, body.delivery, body.occurred_at, idem,
                                              lambda issued: _out(pid, issued), new_code=body.new_query_code))
    return Response(answer.body, status_code=answer.status, media_type="application/json")


@router.get("/petitions/{petition_id}/notices/{notice}", responses={**ERRORS, **MADE, **DOCUMENT},
            response_class=Response)
async def download_notice(request: Request, petition_id: uuid.UUID, notice: str, terminal: TerminalDep,
                          accept: Annotated[str | None, Header()] = None) -> Response:
    """下载已出具的告知书。An issued notice, reproduced from its event and checked against the SHA-256 it recorded:
    `{notice_id}.pdf`, `{notice_id}.docx`, or `{notice_id}` with `Accept: application/pdf` or the DOCX media type.
    The document carries the petitioners' names: the download is written to the access log."""
    app = request.app.state.intake
    notice_id, fmt = _format(notice, accept)
    body, issued = await _guarded(app.notices.document(terminal, str(petition_id), notice_id, fmt))
    await app.audit(terminal.id, terminal.unit_id, "read_personal_data", str(petition_id), "allowed",
                    f"notice {issued.data.kind} {notice_id}.{fmt}")
    return _document(body, fmt, f"{issued.data.kind}-{notice_id}")


@router.get("/petitions/{petition_id}/notice-drafts/{draft}", responses={**ERRORS, **MADE, **DOCUMENT},
            response_class=Response)
async def draft_notice(request: Request, petition_id: uuid.UUID, draft: str, terminal: TerminalDep,
                       accept: Annotated[str | None, Header()] = None) -> Response:
    """告知书预览（不记录送达）。A notice as it would be issued now, not recorded: `{kind}.pdf`, `{kind}.docx`, or
    `{kind}` by Accept. The same roles as for issuing it; the receipt slip's query code is printed only when issued."""
    app = request.app.state.intake
    kind, fmt = _format(draft, accept)
    if kind not in NOTICE_KINDS:
        raise Problem(404, "notice.kind", f"未知的告知书种类 {kind}", f"unknown notice kind {kind!r}: {', '.join(NOTICE_KINDS)}")
    body, name = await _guarded(app.notices.draft(terminal, str(petition_id), kind, fmt))  # type: ignore[arg-type]
    await app.audit(terminal.id, terminal.unit_id, "read_personal_data", str(petition_id), "allowed", f"draft {kind}.{fmt}")
    return _document(body, fmt, name)


"""The petitioner's query (信访人查询): receipt number and query code → where the matter stands, nothing personal.

No terminal token: the receipt slip is the petitioner's key. What keeps the code from being guessed:

- a wrong receipt number and a wrong code answer alike — the same 404, the same body, after the same work (one
  round trip that finds the number's code hash, or none; one hash of what was typed; one constant-time comparison
  with the hash found, or with a stand-in), so neither the answer nor its time tells whether the number exists;
- attempts are limited per source address and per receipt number (token buckets per worker process, settings
  ``portal_attempts_per_minute`` and ``portal_attempts_per_receipt_per_minute``), spent before the look-up, a
  malformed number or code included — a receipt number that does not exist has its bucket too;
- the code has 60 bits (``intake.notices.codes``): at 10 attempts a minute about 10^11 years to find by trying;
- the code travels in the body (never a URL, so never in an access log), is never logged, and the desk can
  reissue it with a new receipt slip (the old one stops working).

Every portal endpoint — the query, a notice's download, the evaluation, the review request — opens with the same
check (:func:`_slip`), so all four spend from the same buckets and answer a wrong number or code alike.  The
evaluation and the review request are commands of the petitioner (roles ``PETITIONER``, actor
``petitioner:<matter>``), decided by the same ``decide`` as a clerk's and counted by reporting alike.
"""
from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

import asyncpg
import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from intake import store
from intake.api.deps import RateLimiter, source_of
from intake.api.notices import DOCUMENT, MADE, _document, _format, _guarded
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import PETITIONER
from intake.domain.model import STATUSES, PetitionState
from intake.notices.codes import code_hash
from intake.notices.compose import chinese_date
from intake.organisation import context
from xinfang.events.envelope import parse_time
from xinfang.problems import PROBLEM, Problem
from xinfang.vocabulary import NOTICE_LABELS, STAGE_LABELS, Satisfaction

router = APIRouter(prefix="/portal/v1", tags=["portal"])
STAND_IN = uuid.UUID(int=0)  # whose "code hash" a number without one is compared with
NO_HASH = bytes(32)
LOOKUP = """SELECT p.petition_id, q.code_sha256 FROM (SELECT $1::text AS receipt_no) AS asked
            LEFT JOIN petitions p ON p.receipt_no = asked.receipt_no
            LEFT JOIN query_codes q ON q.petition_id = p.petition_id"""
NOT_FOUND = {404: {"content": {PROBLEM: {}}, "description": "登记编号或查询码不正确 wrong receipt number or query "
                   "code (the same answer for both)"},
             429: {"content": {PROBLEM: {}}, "description": "too many attempts from this address or on this number"}}
REFUSED = {**NOT_FOUND, 409: {"content": {PROBLEM: {}}, "description": "not now: nothing replied yet, evaluated "
                              "already, or the time to ask for review has passed (the reason in detail_zh)"}}
#: the review a petitioner may ask for in each status: (command, window, label)
REVIEWS = {"replied": ("review", "review_request", "申请复查"), "reviewed": ("recheck", "recheck_request", "申请复核")}


class Query(BaseModel):
    """登记回执上的登记编号和查询码 — the receipt number and the query code on the receipt slip."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    receipt_no: str = Field(min_length=1, max_length=40, description="登记编号, e.g. 2026-361402-0000123")
    query_code: str = Field(min_length=1, max_length=40, description="查询码, e.g. K7QM-3XPD-9T2A (dashes and case "
                            "do not matter)")

    @field_validator("receipt_no")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        """PostgreSQL's text holds no NUL, so asking for one failed (500, found by schemathesis); no receipt number
        has one: the look-up then matches nothing, with the same work and answer as any wrong number."""
        return value.replace("\x00", "\ufffd")


class EvaluationIn(Query):
    """对答复的评价，每次答复一次 — the petitioner's evaluation of the latest reply, once."""

    satisfaction: Satisfaction = Field(description="满意 satisfied / 基本满意 basically_satisfied / 不满意 dissatisfied")
    remark: str | None = Field(None, max_length=500, description="意见（可不填） an optional remark")


class ReviewIn(Query):
    """在期限内申请复查（或复核）— ask for review (re-review after a review's reply) within the 30 days."""

    reason: str = Field(min_length=1, max_length=2000, description="申请理由 why the answer is contested")


class Due(BaseModel):
    stage_label: str
    due_date: str = Field(description="e.g. 2026年12月20日")


class Told(BaseModel):
    notice_id: str
    kind_label: str
    issued_date: str
    pdf: str = Field(description="POST the receipt number and query code here for the PDF")
    docx: str


class ReviewOffer(BaseModel):
    kind: Literal["review", "recheck"]
    label: str = Field(description="申请复查 or 申请复核")
    until_date: str = Field(description="the last day to ask, e.g. 2027年1月20日")


class Standing(BaseModel):
    """Where the matter stands, in plain words: no names, no content."""

    receipt_no: str
    status: str
    status_label: str
    holder: str | None = Field(description="the unit handling it now")
    due: list[Due]
    notices: list[Told] = Field(description="the written notices issued to the petitioner")
    may_evaluate: bool = Field(description="a reply is there to evaluate, not evaluated yet")
    review: ReviewOffer | None = Field(description="the review the petitioner may ask for now, and until when")


class PortalLimits:
    """The two buckets every attempt spends from: its source address's and its receipt number's."""

    def __init__(self, per_source: int, per_receipt: int) -> None:
        self.source = RateLimiter(per_source, "查询次数过多，请稍后再试", "too many attempts from this address")
        self.receipt = RateLimiter(per_receipt, "查询次数过多，请稍后再试", "too many attempts on this receipt number")

    def spend(self, source: str, receipt_no: str) -> None:
        self.source.check(source)
        self.receipt.check(receipt_no)

    def forget_full(self) -> None:
        """Drop the refilled buckets: numbers made up by the thousand keep no memory."""
        self.source.forget_full()
        self.receipt.forget_full()


def _wrong() -> Problem:
    return Problem(404, "portal.not_found", "登记编号或查询码不正确", "wrong receipt number or query code")


def _spend(request: Request, body: Query) -> None:
    request.app.state.intake.portal_limits.spend(source_of(request), body.receipt_no)


async def _slip(conn: asyncpg.Connection, body: Query) -> str:
    """The matter whose receipt slip the body quotes, or the one 404 (after the same work either way)."""
    row = await conn.fetchrow(LOOKUP, body.receipt_no)
    pid, kept = row["petition_id"], row["code_sha256"]
    typed = code_hash(str(pid or STAND_IN), body.query_code)
    if not hmac.compare_digest(typed, bytes(kept) if kept is not None else NO_HASH) or kept is None:
        raise _wrong()
    return str(pid)


def petitioner(pid: str, state: PetitionState) -> Terminal:
    """The petitioner as the one who acts: sees the matter as its registering unit does, may only evaluate and
    ask for review (``PETITIONER``); the events' actor is ``petitioner:<matter>``, never a terminal."""
    return Terminal(id=f"petitioner:{pid}", unit_id=state.registered_unit, roles=PETITIONER)


def _review(app, state: PetitionState, now: datetime) -> ReviewOffer | None:
    offer, start = REVIEWS.get(state.status), state.answer_window_start
    if offer is None or start is None:
        return None
    until = context(app.county, state.registered_unit, PETITIONER, now, state.holder_tier).window_end(start, offer[1])
    if now > until:
        return None
    return ReviewOffer(kind=offer[0], label=offer[2], until_date=chinese_date(until.astimezone(app.county.zone).date()))


STANDING = """SELECT p.state, p.version, p.head_hash,
                     (SELECT coalesce(jsonb_agg(jsonb_build_object('at', e.occurred_at, 'kind', b #>> '{data,kind}',
                                                                   'id', b #>> '{data,notice_id}') ORDER BY e.seq), '[]')
                      FROM events e CROSS JOIN LATERAL (SELECT convert_from(e.body, 'UTF8')::jsonb AS b) AS doc
                      WHERE e.petition_id = p.petition_id AND e.type = 'petition.notice_issued.v1') AS notices
              FROM petitions p WHERE p.petition_id = $1"""


async def _standing(app, conn: asyncpg.Connection, pid: str) -> Standing:
    """The matter and its notices in one round trip."""
    row = await conn.fetchrow(STANDING, uuid.UUID(pid))
    loaded, notices = store.loaded_from(row), orjson.loads(row["notices"])
    state, county = loaded.state, app.county
    assert state is not None
    holder = None
    if state.holder_unit:
        try:
            holder = county.unit(state.holder_unit).name
        except KeyError:
            holder = None
    day = lambda moment: chinese_date(moment.astimezone(county.zone).date())  # noqa: E731
    base = f"{router.prefix}/notices"
    return Standing(receipt_no=state.receipt_no, status=state.status, status_label=STATUSES[state.status],
                    holder=holder,
                    due=[Due(stage_label=STAGE_LABELS.get(stage, stage), due_date=day(parse_time(at)))  # type: ignore[call-overload]
                         for stage, at, _ in ([] if state.suspended else state.due)],
                    notices=[Told(notice_id=n["id"], kind_label=NOTICE_LABELS[n["kind"]],
                                  issued_date=day(parse_time(n["at"])), pdf=f"{base}/{n['id']}.pdf",
                                  docx=f"{base}/{n['id']}.docx") for n in notices],
                    may_evaluate=state.answered_at is not None and not state.evaluated,
                    review=_review(app, state, datetime.now(timezone.utc)))


async def _as_petitioner(request: Request, body: Query, command_for: Callable[[PetitionState], c.Command]) -> Standing:
    """Run the petitioner's command (made from the matter as it stands) through the one command path, then answer
    where the matter stands."""
    app = request.app.state.intake
    _spend(request, body)
    async with app.pool.acquire() as conn:
        pid = await _slip(conn, body)
        state = (await store.load(conn, pid)).state

    async def make(_conn, current, _receipt_no, _people) -> c.Command:
        return command_for(current or state)

    await app.service.execute(petitioner(pid, state), pid, make, lambda _state, _version: (200, {}),
                              occurred=None, idem=None, actor=f"petitioner:{pid}")
    async with app.pool.acquire() as conn:
        return await _standing(app, conn, pid)


@router.post("/query", response_model=Standing, responses=NOT_FOUND)
async def query(request: Request, body: Query) -> Standing:
    """查询事项办理情况。Where a matter stands, for the petitioner holding its receipt slip: status, the unit
    handling it, the due dates, the notices issued, whether it may be evaluated or reviewed now. A wrong number and
    a wrong code answer the same 404."""
    app = request.app.state.intake
    _spend(request, body)
    async with app.pool.acquire() as conn:
        return await _standing(app, conn, await _slip(conn, body))


@router.post("/notices/{notice}", responses={**NOT_FOUND, **MADE, **DOCUMENT}, response_class=Response)
async def download(request: Request, notice: str, body: Query) -> Response:
    """下载告知书。An issued notice of the matter, reproduced from its event: `{notice_id}.pdf` or
    `{notice_id}.docx` (the paths the query lists), the receipt number and query code in the body (a POST, so the
    code is never in a URL). The download is written to the access log."""
    app = request.app.state.intake
    notice_id, fmt = _format(notice, request.headers.get("accept"))
    _spend(request, body)
    async with app.pool.acquire() as conn:
        pid = await _slip(conn, body)
        state = (await store.load(conn, pid)).state
    document, issued = await _guarded(app.notices.document(petitioner(pid, state), pid, notice_id, fmt))
    await app.audit(f"petitioner:{pid}", None, "read_personal_data", pid, "allowed",
                    f"portal notice {issued.data.kind} {notice_id}.{fmt}")
    return _document(document, fmt, f"{issued.data.kind}-{notice_id}")


@router.post("/evaluation", response_model=Standing, responses=REFUSED)
async def evaluate(request: Request, body: EvaluationIn) -> Standing:
    """评价答复。The petitioner's evaluation of the latest reply (满意 / 基本满意 / 不满意, an optional remark), once
    per reply: the event `petition.evaluated.v2` with actor `petitioner:<matter>`, counted in 满意率 and 参评率 as
    one typed at a terminal. 409 before a reply, or when it is evaluated already."""
    return await _as_petitioner(request, body,
                                lambda _state: c.Evaluate(satisfaction=body.satisfaction, remark=body.remark or None))


@router.post("/review", response_model=Standing, responses=REFUSED)
async def request_review(request: Request, body: ReviewIn) -> Standing:
    """申请复查（复核）。Ask for review of the reply (or re-review of the review's reply) within 30 days of the
    recorded delivery of its written notice: the event `petition.review_requested.v2` (`recheck_requested`) with
    actor `petitioner:<matter>`; the query's `review` says which one may be asked and until when. 409 when the time
    has passed or there is nothing to contest."""
    def command_for(state: PetitionState) -> c.Command:
        if REVIEWS.get(state.status, ("review",))[0] == "recheck":
            return c.RequestRecheck(reason=body.reason)
        return c.RequestReview(reason=body.reason)  # refused by decide unless replied, with the reason

    return await _as_petitioner(request, body, command_for)

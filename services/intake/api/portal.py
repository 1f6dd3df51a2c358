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
"""
from __future__ import annotations

import hmac
import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from intake import store
from intake.api.deps import RateLimiter, source_of
from intake.domain.model import STATUSES
from intake.notices.codes import code_hash
from intake.notices.compose import chinese_date
from xinfang.events.envelope import parse_time
from xinfang.problems import PROBLEM, Problem
from xinfang.vocabulary import NOTICE_LABELS, STAGE_LABELS

router = APIRouter(prefix="/portal/v1", tags=["portal"])
STAND_IN = uuid.UUID(int=0)  # whose "code hash" a number without one is compared with
NO_HASH = bytes(32)
LOOKUP = """SELECT p.petition_id, q.code_sha256 FROM (SELECT $1::text AS receipt_no) AS asked
            LEFT JOIN petitions p ON p.receipt_no = asked.receipt_no
            LEFT JOIN query_codes q ON q.petition_id = p.petition_id"""
NOT_FOUND = {404: {"content": {PROBLEM: {}}, "description": "登记编号或查询码不正确 wrong receipt number or query "
                   "code (the same answer for both)"},
             429: {"content": {PROBLEM: {}}, "description": "too many attempts from this address or on this number"}}


class Query(BaseModel):
    """登记回执上的登记编号和查询码 — the receipt number and the query code on the receipt slip."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    receipt_no: str = Field(min_length=1, max_length=40, description="登记编号, e.g. 2026-361402-0000123")
    query_code: str = Field(min_length=1, max_length=40, description="查询码, e.g. K7QM-3XPD-9T2A (dashes and case "
                            "do not matter)")


class Due(BaseModel):
    stage_label: str
    due_date: str = Field(description="e.g. 2026年12月20日")


class Told(BaseModel):
    kind_label: str
    issued_date: str


class Standing(BaseModel):
    """Where the matter stands, in plain words: no names, no content."""

    receipt_no: str
    status: str
    status_label: str
    holder: str | None = Field(description="the unit handling it now")
    due: list[Due]
    notices: list[Told] = Field(description="the written notices issued to the petitioner")


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


@router.post("/query", response_model=Standing, responses=NOT_FOUND)
async def query(request: Request, body: Query) -> Standing:
    """查询事项办理情况。Where a matter stands, for the petitioner holding its receipt slip: status, the unit
    handling it, the due dates, the notices issued. A wrong number and a wrong code answer the same 404."""
    app = request.app.state.intake
    app.portal_limits.spend(source_of(request), body.receipt_no)
    async with app.pool.acquire() as conn:
        row = await conn.fetchrow(LOOKUP, body.receipt_no)
        pid, kept = row["petition_id"], row["code_sha256"]
        typed = code_hash(str(pid or STAND_IN), body.query_code)
        if not hmac.compare_digest(typed, bytes(kept) if kept is not None else NO_HASH) or kept is None:
            raise _wrong()
        loaded = await store.load(conn, str(pid))
        notices = await conn.fetch("""SELECT occurred_at, convert_from(body, 'UTF8')::jsonb #>> '{data,kind}' AS kind FROM events
                                      WHERE petition_id = $1 AND type = 'petition.notice_issued.v1' ORDER BY seq""", pid)
    state, county = loaded.state, app.county
    assert state is not None
    holder = None
    if state.holder_unit:
        try:
            holder = county.unit(state.holder_unit).name
        except KeyError:
            holder = None
    day = lambda moment: chinese_date(moment.astimezone(county.zone).date())  # noqa: E731
    return Standing(receipt_no=state.receipt_no, status=state.status, status_label=STATUSES[state.status],
                    holder=holder,
                    due=[Due(stage_label=STAGE_LABELS.get(stage, stage), due_date=day(parse_time(at)))  # type: ignore[call-overload]
                         for stage, at, _ in ([] if state.suspended else state.due)],
                    notices=[Told(kind_label=NOTICE_LABELS[n["kind"]], issued_date=day(n["occurred_at"]))
                             for n in notices])

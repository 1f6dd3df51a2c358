"""Reads the web terminal needs beside the terminal API's: who the calling terminal is, the places it may register
in, a matter's whole timeline with the actions its state allows, and the matters of a unit and the units below it.

Every route takes the terminal's token, like the rest of /v1; what a terminal may see is what ``may_see`` and
``County.in_scope`` say (a matter outside answers 404, as one that does not exist)."""
from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from intake import store
from intake.api import schemas as s
from intake.api.deps import AuthenticatedFirst, TerminalDep
from intake.api.routes import ERRORS, _work_item
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import STATUSES
from intake.organisation import acts_for, context, may_see
from intake.service import not_found
from xinfang import vocabulary as v
from xinfang.events import UPCASTERS, CloudEvent
from xinfang.problems import Problem

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)
TAGS = ["terminal-page"]
#: what a matter needs an action in, as the worklist says
TO_DO = ["assigned", "accepted", "review_requested", "recheck_requested"]
#: a harmless body of each action, to ask decide() whether the matter's state and the caller allow it at all
SAMPLES: dict[str, dict[str, Any]] = {
    "decline": {"reason": "-"}, "transfer": {"reason": "-"}, "object": {"reason": "-"},
    "extend": {"days": 1, "reason": "-"}, "suspend": {"reason": "-"},
    "reply": {"decision": "support", "resolved": True, "facts": "-", "grounds": "-"},
    "reply_review": {"decision": "support", "resolved": True, "facts": "-", "grounds": "-"},
    "reply_recheck": {"decision": "support", "resolved": True, "facts": "-", "grounds": "-"},
    "request_review": {"reason": "-"}, "request_recheck": {"reason": "-"}, "evaluate": {"satisfaction": "satisfied"},
    "unmerge": {"reason": "-"},
}


class UnitBrief(BaseModel):
    id: str
    name: str
    tier: str
    jurisdiction: str


class Me(BaseModel):
    """The calling terminal, and what its pages need to speak the county's words."""

    terminal_id: str
    unit: UnitBrief
    roles: list[str]
    county_code: str
    county_name: str
    offline_window_seconds: int = Field(description="how far back a fact may be dated (离线补录期限)")
    max_head_count: int
    collective_threshold: int
    labels: dict[str, dict[str, str]] = Field(description="channel, decision, satisfaction, redirect, tier, stage, "
                                                          "status, event, action → Chinese label")


class Place(BaseModel):
    code: str
    name: str
    tier: str
    parent: str | None


class TimelineEntry(BaseModel):
    source: str = Field(description="intake (本系统登记、办理) or escalation (交办、预警、超期、升级)")
    seq: int
    type: str
    label: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any] = Field(description="the event's data; petitioners (encrypted) replaced by their count")


class ActionOption(BaseModel):
    action: str
    label: str
    allowed: bool
    reason_zh: str | None = None
    reason_en: str | None = None


class Timeline(BaseModel):
    petition_id: str
    receipt_no: str
    status: str
    status_label: str
    version: int
    entries: list[TimelineEntry]
    actions: list[ActionOption] = Field(description="every action, allowed or not (then with the reason) for this "
                                                    "terminal now, as POST …/actions would decide it")


class MatterItem(s.WorkItem):
    holder_unit: str | None
    holder_tier: str | None
    registered_at: datetime
    working_days_left: int | None = Field(description="working days from today to the due day (0: due today; "
                                                      "negative: overdue), in the county's calendar")
    warned: bool = Field(description="escalation sent a deadline warning (临期预警) for the open due")
    overdue: bool


@router.get("/me", response_model=Me, tags=TAGS, responses=ERRORS)
async def me(request: Request, terminal: TerminalDep) -> Me:
    """本终端：单位、角色与页面用语。The calling terminal: its unit, roles and the labels its pages show."""
    county = request.app.state.intake.county
    unit = county.unit(terminal.unit_id)
    labels = {"channel": v.CHANNEL_LABELS, "decision": v.DECISION_LABELS, "satisfaction": v.SATISFACTION_LABELS,
              "redirect": v.REDIRECT_LABELS, "tier": v.TIER_LABELS, "stage": v.STAGE_LABELS, "status": STATUSES,
              "event": v.EVENT_LABELS, "action": v.ACTION_LABELS}
    return Me(terminal_id=terminal.id, roles=sorted(terminal.roles), county_code=county.code, county_name=county.name,
              unit=UnitBrief(id=unit.id, name=unit.name, tier=unit.tier, jurisdiction=unit.jurisdiction),
              offline_window_seconds=int(county.offline_window.total_seconds()), max_head_count=county.max_head_count,
              collective_threshold=county.collective_threshold, labels=labels)  # type: ignore[arg-type]


@router.get("/places", response_model=list[Place], tags=TAGS, responses=ERRORS)
async def places(request: Request, terminal: TerminalDep) -> list[Place]:
    """本单位辖区内的区划（可登记的事项发生地），按县文件顺序。The places of the terminal's jurisdiction subtree — where
    a matter it registers may have arisen — in the county file's order, each with its parent."""
    county = request.app.state.intake.county
    return [Place(code=j.code, name=j.name, tier=j.tier, parent=j.parent) for j in county.jurisdictions
            if county.in_scope(terminal.unit_id, j.code)]


@router.get("/petitions/{petition_id}/timeline", response_model=Timeline, tags=TAGS, responses=ERRORS)
async def timeline(request: Request, petition_id: uuid.UUID, terminal: TerminalDep) -> Timeline:
    """事项的全部经过与本终端现在可做的操作。A matter's whole history — intake's facts and the routing facts
    (assignment, warnings, overdue notices, escalations) in the order intake applied them — and every action with
    whether this terminal may take it now and, if not, why. Petitioners' data is not in it (see GET
    /v1/petitions/{id})."""
    app = request.app.state.intake
    async with app.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT state, version FROM petitions WHERE petition_id = $1", petition_id)
        state = store.state_from_json(row["state"]) if row else None
        if state is None or not may_see(app.county, terminal.unit_id, state):
            raise not_found()
        own = await conn.fetch("SELECT seq, body FROM events WHERE petition_id = $1 ORDER BY seq", petition_id)
        routing = await conn.fetch("SELECT after_seq, body FROM routing_events WHERE petition_id = $1 "
                                   "ORDER BY after_seq, seq", petition_id)
    entries: list[TimelineEntry] = []
    pending = list(routing)
    for event in own:
        entries.append(_entry("intake", event["body"]))
        while pending and pending[0]["after_seq"] <= event["seq"]:
            entries.append(_entry("escalation", pending.pop(0)["body"]))
    entries.extend(_entry("escalation", r["body"]) for r in pending)
    await app.audit(terminal.id, terminal.unit_id, "read_timeline", str(petition_id), "allowed",
                    f"{len(entries)} entries")  # summaries, reasons and opinions: a read worth a line
    ctx = context(app.county, terminal.unit_id, terminal.roles, datetime.now(timezone.utc), state.holder_tier)
    return Timeline(petition_id=str(petition_id), receipt_no=state.receipt_no, status=state.status,
                    status_label=STATUSES[state.status], version=row["version"], entries=entries,
                    actions=[_option(name, state, ctx) for name in OFFERED])


def _entry(source: str, body: bytes) -> TimelineEntry:
    event = CloudEvent.from_json(body)
    current, data = UPCASTERS.decode(event.type, event.data)
    shown = data.model_dump(mode="json")
    if "petitioners" in shown:
        shown["petitioners"] = len(shown["petitioners"])
    return TimelineEntry(source=source, seq=event.seq, type=current, label=v.EVENT_LABELS.get(current.rsplit(".", 1)[0],
                         current), occurred_at=event.occurred_at, recorded_at=event.recorded_at, actor=event.actor,
                         data=shown)


#: the actions a matter page offers: every one, 并单 and its undo included (the page asks for the surviving matter)
OFFERED = tuple(c.ACTIONS)


def _sample(name: str, state) -> c.Command:
    """A harmless command of the action. 并单's names a survivor that passes every check on the second matter (open,
    not merged, in scope), so what decide() says is about this matter and this terminal alone."""
    if name == "merge":
        other = replace(state, petition_id=str(uuid.UUID(int=0)), status="accepted", merged_into=None)
        return c.Merge(into=other.petition_id, reason="-", survivor=other)
    return c.ACTIONS[name](**SAMPLES.get(name, {}))


def _option(name: str, state, ctx) -> ActionOption:
    """Whether ``decide`` lets this terminal take the action now: the one rule, asked with a harmless body."""
    label = v.ACTION_LABELS[name]
    try:
        decide(state, _sample(name, state), ctx)
    except Refused as refused:
        if refused.kind in ("state", "forbidden"):
            return ActionOption(action=name, label=label, allowed=False, reason_zh=refused.zh, reason_en=refused.en)
    return ActionOption(action=name, label=label, allowed=True)


@router.get("/matters", response_model=list[MatterItem], tags=TAGS, responses=ERRORS)
async def matters(request: Request, terminal: TerminalDep,
                  view: Annotated[str, Query(pattern="^(worklist|scope)$")] = "scope",
                  status: Annotated[str | None, Query(max_length=32)] = None,
                  tier: Annotated[v.Tier | None, Query()] = None,
                  category: Annotated[str | None, Query(max_length=32)] = None,
                  overdue: bool | None = None,
                  limit: Annotated[int, Query(ge=1, le=2000)] = 1000) -> Response:
    """事项列表，最先到期的在前。Matters, soonest due first, each with the working days left, whether it was warned and
    whether it is overdue. ``view=worklist``: what this unit must act on now (the rows of GET /v1/worklist, up to
    2,000); ``view=scope`` (主管): every matter of this unit and the units and places below it, filtered by status,
    holding tier, category and overdue."""
    app = request.app.state.intake
    county = app.county
    if status is not None and status not in STATUSES:
        raise Problem(422, "validation", f"参数 status 有误：未知的状态 {status}", f"invalid parameter status: unknown "
                      f"status {status!r}", errors=[{"field": "status", "message_zh": "未知的状态",
                                                      "message_en": "unknown status"}])
    if category is not None and category not in {k.code for k in county.categories}:
        raise Problem(422, "validation", f"参数 category 有误：未知的类别 {category}", f"invalid parameter category: "
                      f"unknown category {category!r}", errors=[{"field": "category", "message_zh": "未知的类别",
                                                                  "message_en": "unknown category"}])
    me_ = terminal.unit_id
    if view == "worklist":
        sql, scope, statuses = _WORKLIST, (me_,), [status] if status else TO_DO
    else:
        codes = [j.code for j in county.jurisdictions if county.in_scope(me_, j.code)]
        units = [u.id for u in county.units if acts_for(county, me_, u.id)]
        sql, scope, statuses = _SCOPE, (me_, codes, units), [status] if status else list(STATUSES)
    async with app.pool.acquire() as conn:
        rows = await conn.fetch(sql, statuses, tier, category, overdue, limit, *scope)
    today = datetime.now(county.zone).date()
    # dues fall at the end of a day: one count per due day, not per matter
    left = functools.cache(lambda day: county.work_calendar.working_days_between(today, day))
    # plain dicts to orjson, not 1,000 MatterItem validated twice: 120 ms of a 1,000-row worklist's answer, now 45
    return Response(orjson.dumps([_matter_item(r, county.zone, left) for r in rows]), media_type="application/json")


_SELECT = """
SELECT p.petition_id, p.receipt_no, p.status, p.category, p.jurisdiction, p.next_due_at, p.holder_unit,
       p.state->>'holder_tier' AS holder_tier, p.state->>'registered_at' AS registered_at,
       coalesce((p.state->>'suspended')::boolean, false) AS suspended, coalesce(p.state->'due', '[]') AS due,
       p.next_due_at < now() AS overdue,
       EXISTS (SELECT 1 FROM routing_events r  -- a warning's bytes are found before any body is parsed: 28 → 9 ms
               WHERE r.petition_id = p.petition_id                      -- for 1,000 matters (canonical JSON, so the
                 AND position('"type":"petition.deadline_warning.v1"'::bytea IN r.body) > 0  -- bytes are these)
                 AND convert_from(r.body, 'UTF8')::jsonb->'data'->>'due_at'
                     IN (SELECT d->>1 FROM jsonb_array_elements(p.state->'due') d)) AS warned
FROM petitions p
WHERE p.status = ANY($1::text[])
  AND ($2::text IS NULL OR p.state->>'holder_tier' = $2)
  AND ($3::text IS NULL OR p.category = $3)
  AND ($4::boolean IS NULL OR coalesce(p.next_due_at < now(), false) = $4)"""
_ORDER = "\nORDER BY p.next_due_at NULLS LAST, p.created_at LIMIT $5"
# the unit's own holdings (the worklist index), as GET /v1/worklist
_WORKLIST = _SELECT + "\n  AND p.holder_unit = $6" + _ORDER
# may_see in SQL, its accusation rule included: the places below the unit, the units it acts for, what it registered
_SCOPE = _SELECT + """
  AND ((p.accused_unit IS NULL AND (p.jurisdiction = ANY($7::text[]) OR p.holder_unit = ANY($8::text[])
                                    OR p.registered_unit = $6))
       OR (p.accused_unit IS NOT NULL AND p.accused_unit <> $6 AND $6 IN (p.holder_unit, p.registered_unit)))""" + _ORDER


def _matter_item(r, zone, left) -> dict:
    """One row of the listing, as MatterItem says (the WorkItem of GET /v1/worklist and the listing's fields)."""
    item = _work_item(r)
    return {**item.model_dump(mode="json"), "holder_unit": r["holder_unit"], "holder_tier": r["holder_tier"],
            "registered_at": r["registered_at"], "warned": r["warned"],
            "overdue": bool(r["overdue"]) and not item.suspended,
            "working_days_left": None if item.next_due_at is None else left(item.next_due_at.astimezone(zone).date())}

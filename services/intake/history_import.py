"""Imports of history from the old system: a matter with its batches and actions, back-dated.

One line of NDJSON is one matter.  Each matter is imported in one transaction, idempotently per
``external_id`` (a second import of the same id changes nothing and says so).  Imported events are
marked ``imported``: statistics count them, escalation never escalates them retroactively.  The
lifecycle rules still hold — an import cannot record a reply before an acceptance — but the
historical unit of each action is taken as given.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from intake import store
from intake.api.schemas import PersonIn
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.occurred import check_occurred_at
from intake.organisation import context
from xinfang.county.model import County
from xinfang.events.chain import ChainLink
from xinfang.vocabulary import Channel, Decision, Satisfaction

IMPORT_ROLES = frozenset({"registrar", "handler", "supervisor"})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BatchIn(_In):
    occurred_at: AwareDatetime
    channel: Channel
    head_count: int = Field(ge=1, le=100000)
    unit: str = Field(description="the unit that received this batch")
    petitioners: list[PersonIn] = Field(default_factory=list, max_length=200)
    summary: str | None = Field(None, max_length=4000)


class _Act(_In):
    occurred_at: AwareDatetime
    unit: str


class ImportAccept(_Act):
    action: Literal["accept"]


class ImportDecline(_Act):
    action: Literal["decline"]
    reason: str = Field(min_length=1, max_length=4000)


class ImportReply(_Act):
    action: Literal["reply", "reply_review", "reply_recheck"]
    decision: Decision
    resolved: bool
    opinion: str = Field(min_length=1, max_length=4000)


class ImportRequest(_Act):
    action: Literal["request_review", "request_recheck"]
    reason: str = Field(min_length=1, max_length=4000)


class ImportExtend(_Act):
    action: Literal["extend"]
    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=4000)


class ImportEvaluate(_Act):
    action: Literal["evaluate"]
    satisfaction: Satisfaction


class ImportWithdraw(_Act):
    action: Literal["withdraw"]
    reason: str | None = None


ImportAction = Annotated[
    ImportAccept | ImportDecline | ImportReply | ImportRequest | ImportExtend | ImportEvaluate | ImportWithdraw,
    Field(discriminator="action")]


class ImportedMatter(_In):
    """一件历史事项 — one matter from the old system."""

    external_id: str = Field(min_length=1, max_length=128, description="the old system's id; imports are idempotent on it")
    jurisdiction: str
    category: str
    summary: str = Field(min_length=1, max_length=4000)
    batches: list[BatchIn] = Field(min_length=1, max_length=1000, description="the first is the registration")
    actions: list[ImportAction] = Field(default_factory=list, max_length=100)


class ImportResult(BaseModel):
    line: int
    external_id: str | None
    outcome: Literal["created", "exists", "refused", "invalid"]
    petition_id: uuid.UUID | None = None
    detail: str | None = None
    field: str | None = Field(None, description="the field of the line the refusal is about, e.g. batches.1.occurred_at")


class ImportSummary(BaseModel):
    """导入结果 — what an import did, line by line for what was not created."""

    created: int
    existing: int
    refused: int
    results: list[ImportResult]

    @classmethod
    def of(cls, results: list[ImportResult]) -> ImportSummary:
        count = lambda *kinds: sum(r.outcome in kinds for r in results)  # noqa: E731
        return cls(created=count("created"), existing=count("exists"), refused=count("refused", "invalid"),
                   results=results)


def _command(action) -> c.Command:
    fields = action.model_dump(exclude={"action", "occurred_at", "unit"})
    kind = {"accept": c.Accept, "decline": c.Decline, "reply": c.Reply, "reply_review": c.ReplyReview,
            "reply_recheck": c.ReplyRecheck, "request_review": c.RequestReview, "request_recheck": c.RequestRecheck,
            "extend": c.Extend, "evaluate": c.Evaluate, "withdraw": c.Withdraw}[action.action]
    return kind(**fields)


async def import_line(service, terminal, line_no: int, raw: bytes) -> ImportResult:
    """Import one NDJSON line; never raises for bad input."""
    try:
        matter = ImportedMatter.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return ImportResult(line=line_no, external_id=None, outcome="invalid", detail=f"{where}: {first['msg']}")
    try:
        return await _import(service, terminal, line_no, matter)
    except Refused as refused:
        return ImportResult(line=line_no, external_id=matter.external_id, outcome="refused",
                            detail=f"{refused.zh} {refused.en}", field=refused.field)


async def _import(service, terminal, line_no: int, matter: ImportedMatter) -> ImportResult:
    county: County = service.county
    if not county.in_scope(terminal.unit_id, matter.jurisdiction):
        raise Refused("forbidden", "jurisdiction", "区划不在本单位辖区内", f"{matter.jurisdiction} is outside this unit")
    for unit in {b.unit for b in matter.batches} | {a.unit for a in matter.actions}:
        try:
            county.unit(unit)
        except KeyError:
            raise Refused("invalid", "unit", f"未知的单位 {unit}", f"unknown unit {unit!r}") from None
    recorded = datetime.now(timezone.utc)
    when = {where: check_occurred_at(county, item.occurred_at, recorded, imported=True, field=f"{where}.occurred_at")
            for where, item in [*((f"batches.{i}", b) for i, b in enumerate(matter.batches)),
                                *((f"actions.{i}", a) for i, a in enumerate(matter.actions))]}
    drawn: list[str] = []  # a number drawn for a matter whose import is then refused is recorded void
    async with service.voided_unless_written(drawn), service.pool.acquire() as conn, conn.transaction():
        existing = await conn.fetchval("SELECT petition_id FROM petitions WHERE external_id = $1", matter.external_id)
        if existing is not None:
            return ImportResult(line=line_no, external_id=matter.external_id, outcome="exists", petition_id=str(existing))
        petition_id = str(uuid.uuid4())
        loaded = store.Loaded(None)
        first, *later = matter.batches
        steps: list[tuple[str, datetime, c.Command, str]] = []
        people, receipt_no = await service.petitioners(conn, petition_id, [p.model_dump() for p in first.petitioners],
                                                       receipt_at=when["batches.0"])
        drawn.append(receipt_no)
        steps.append((first.unit, when["batches.0"], c.RegisterPetition(
            petition_id=petition_id, receipt_no=receipt_no,
            batch_id=uuid.uuid4().hex, channel=first.channel, jurisdiction=matter.jurisdiction,
            category=matter.category, summary=matter.summary, head_count=first.head_count, petitioners=people,
            imported=True, external_id=matter.external_id), "batches.0"))
        for i, batch in enumerate(later, 1):
            people, _ = await service.petitioners(conn, petition_id, [p.model_dump() for p in batch.petitioners])
            steps.append((batch.unit, when[f"batches.{i}"], c.RecordVisit(
                batch_id=uuid.uuid4().hex, channel=batch.channel, head_count=batch.head_count, petitioners=people,
                summary=batch.summary, imported=True), f"batches.{i}"))
        steps += [(a.unit, when[f"actions.{i}"], _command(a), f"actions.{i}") for i, a in enumerate(matter.actions)]
        steps.sort(key=lambda step: step[1])
        if not isinstance(steps[0][2], c.RegisterPetition):
            raise Refused("invalid", "order", "首批次须早于所有办理记录", "the first batch must precede every action",
                          "batches.0.occurred_at")
        for unit, occurred, command, where in steps:
            ctx = replace(context(county, unit, IMPORT_ROLES, occurred), acts_for=lambda _holder: True,
                          in_scope=lambda _code: True)
            try:
                produced = decide(loaded.state, command, ctx)
            except Refused as refused:
                raise Refused(refused.kind, refused.code, refused.zh, refused.en,
                              refused.field and f"{where}.{refused.field}") from None
            state, events = await store.append(
                conn, loaded, petition_id, produced, occurred=occurred, recorded=recorded,
                actor=f"import:{terminal.id}", source=service.source, hashalg=service.hashalg)
            loaded = store.Loaded(state, loaded.version + 1, ChainLink(state.seq, events[-1].hash))
        return ImportResult(line=line_no, external_id=matter.external_id, outcome="created", petition_id=petition_id)



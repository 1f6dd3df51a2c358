"""Imports of history from the old system: a matter with its batches and actions, back-dated.

One line of NDJSON is one matter, run through the same runner as a live command
(``IntakeService.execute``): the same ``decide`` on every batch and action in the order of their
times, each as the unit the line names for it did it then, and the same one-statement write —
one transaction per matter, idempotent per ``external_id`` (the matter's id is derived from it; a
second import changes nothing and says so).  Where imported history differs from a live command
the domain is told (``Context.importer``): every unit named must be the importing terminal's unit
or lie below it, the matter's place in its jurisdiction; times may reach back to the county's
``history_from``; a review or re-review request names its reviewer at once (the tier above the
unit whose answer is contested) instead of waiting for escalation; events are marked
``imported`` and escalation never escalates them retroactively.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal, Union

from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, create_model

from intake.api import schemas as s
from intake.api.problems import STATUS_OF_REFUSAL
from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.domain.occurred import check_occurred_at
from intake.service import IntakeService, Step
from xinfang.county.model import County
from xinfang.problems import Problem, field_errors, problem_body
from xinfang.vocabulary import Channel

IMPORT_ROLES = frozenset({"registrar", "handler", "supervisor"})  # what the historical units did
#: the line's own fields, which the first batch's registration decides on
MATTER_FIELDS = frozenset({"external_id", "jurisdiction", "category", "summary"})
#: a matter's id from its external id: a second import of the same line finds the first
NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")

BATCH_UNIT = ("登记单位：当时登记该批次的单位（GET /v1/units 的 id），须为导入终端所属单位或其下级单位。The unit whose "
              "terminal registered this batch then (an id of GET /v1/units): the importing terminal's unit or one "
              "below it. The first batch's unit holds the matter: it accepts, replies, extends — or a unit above it")
ACTION_UNIT = ("办理单位：当时作出该操作的单位。The unit that took this action then, the importing terminal's unit or "
               "one below it: for accept, decline, extend, suspend, resume and reply the unit holding the matter (the "
               "first batch's) or one above it; for reply_review the reviewer, the tier above the unit that replied "
               "(a village room's reply is reviewed by its township's station), or one above it; for reply_recheck "
               "the tier above the reviewer; for request_review, request_recheck, evaluate and withdraw the unit that "
               "recorded the petitioner's request")
#: the live actions an import may hold (transfer and objection are routed by escalation: import the unit that
#: handled the matter as the first batch's)
IMPORTED = (s.AcceptIn, s.DeclineIn, s.ExtendIn, s.SuspendIn, s.ResumeIn, s.ReplyIn, s.RequestReviewIn,
            s.ReplyReviewIn, s.RequestRecheckIn, s.ReplyRecheckIn, s.EvaluateIn, s.WithdrawIn)


def _imported(live: type[BaseModel]) -> type[BaseModel]:
    """The live action's body, with the time it happened required and the unit that took it."""
    return create_model(f"Imported{live.__name__.removesuffix('In')}", __base__=live,
                        occurred_at=(AwareDatetime, Field(description="办理时间 when it happened")),
                        unit=(str, Field(min_length=1, max_length=32, description=ACTION_UNIT)))


ImportAction = Annotated[Union[tuple(_imported(live) for live in IMPORTED)],  # noqa: UP007
                         Field(discriminator="action")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BatchIn(_In):
    occurred_at: AwareDatetime = Field(description="来访/来信时间 when the batch came in")
    channel: Channel
    head_count: int = Field(ge=1, le=100000)
    unit: str = Field(min_length=1, max_length=32, description=BATCH_UNIT)
    petitioners: list[s.PersonIn] = Field(default_factory=list, max_length=200)
    summary: str | None = Field(None, max_length=4000)


class ImportedMatter(_In):
    """一件历史事项 — one matter from the old system, with every batch and action: reviews and re-reviews (the
    re-review's reply terminates it), evaluations and withdrawals included. Batches and actions are taken in the
    order of their `occurred_at`; each names the unit that registered or took it then."""

    external_id: str = Field(min_length=1, max_length=128, description="the old system's id; imports are idempotent on it")
    jurisdiction: str = Field(min_length=1, max_length=32, description="事项发生地区划代码 (属地): a code of the county "
                              "file, in the importing terminal's jurisdiction")
    category: str = Field(min_length=1, max_length=32)
    summary: str = Field(min_length=1, max_length=4000)
    batches: list[BatchIn] = Field(min_length=1, max_length=1000, description="the first is the registration")
    actions: list[ImportAction] = Field(default_factory=list, max_length=100)


class ImportResult(BaseModel):
    line: int
    external_id: str | None
    outcome: Literal["created", "exists", "refused", "invalid"]
    petition_id: uuid.UUID | None = None
    detail: str | None = Field(None, description="why, in Chinese and English, naming the line and the item")
    field: str | None = Field(None, description="the field of the line the refusal is about, e.g. batches.1.occurred_at")
    item: str | None = Field(None, description="the batch or action it is about, e.g. actions.2")
    problem: dict | None = Field(None, description="the refusal as problem+json (detail_zh, detail_en, code, errors), "
                                 "as a live command's refusal is answered")


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


def petition_id_of(county_code: str, external_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{county_code}:{external_id}"))


async def import_line(service: IntakeService, terminal, line_no: int, raw: bytes) -> ImportResult:
    """Import one NDJSON line; never raises for bad input."""
    try:
        matter = ImportedMatter.model_validate_json(raw)
    except ValidationError as exc:
        errors = field_errors(RequestValidationError(exc.errors()))
        fields = ", ".join(e["field"] for e in errors)
        zh, en = f"第{line_no}行内容有误：{fields}", f"line {line_no}: invalid fields: {fields}"
        first = errors[0]
        return ImportResult(line=line_no, external_id=None, outcome="invalid", field=first["field"],
                            detail=f"{zh}（{first['message_zh']}） {en} ({first['message_en']})",
                            problem=problem_body(422, "validation", zh, en, line=line_no, errors=errors))
    pid = petition_id_of(service.county_code, matter.external_id)
    try:
        await _import(service, terminal, pid, matter)
    except Refused as refused:
        if refused.code == "exists":
            async with service.pool.acquire() as conn:  # imported under this id, or under another before ids were
                pid = str(await conn.fetchval("SELECT petition_id FROM petitions WHERE external_id = $1",
                                              matter.external_id) or pid)
            return ImportResult(line=line_no, external_id=matter.external_id, outcome="exists", petition_id=pid)
        return _refused(line_no, matter, refused)
    except Problem as problem:  # changed concurrently five times over: the line is not imported, the others are
        return ImportResult(line=line_no, external_id=matter.external_id, outcome="refused",
                            detail=f"第{line_no}行：{problem.zh} line {line_no}: {problem.en}",
                            problem=problem_body(problem.status, problem.code, problem.zh, problem.en, line=line_no))
    return ImportResult(line=line_no, external_id=matter.external_id, outcome="created", petition_id=pid)


def _refused(line_no: int, matter: ImportedMatter, refused: Refused) -> ImportResult:
    """The refusal named by line, item (``actions.2``, the action's name and time) and field."""
    where_zh, where_en = f"第{line_no}行", f"line {line_no}"
    if refused.item:
        kind, index = refused.item.split(".")
        fact = matter.batches[int(index)] if kind == "batches" else matter.actions[int(index)]
        name = "batch" if kind == "batches" else fact.action
        where_zh += f" {refused.item}（{name}，{fact.occurred_at.isoformat()}）"
        where_en += f", {refused.item} ({name} at {fact.occurred_at.isoformat()})"
    zh, en = f"{where_zh}：{refused.zh}", f"{where_en}: {refused.en}"
    if refused.code == "status":
        en += "; a line's batches and actions are taken in the order of their occurred_at"
    field = refused.field
    if field and refused.item and field.removeprefix(f"{refused.item}.") in MATTER_FIELDS:
        field = field.removeprefix(f"{refused.item}.")  # the registration's: a field of the line, not of its batch
    named = {"errors": [{"field": field, "message_zh": refused.zh, "message_en": refused.en}]} if field else {}
    return ImportResult(line=line_no, external_id=matter.external_id, outcome="refused", detail=f"{zh} {en}",
                        field=field, item=refused.item,
                        problem=problem_body(STATUS_OF_REFUSAL[refused.kind], f"refused.{refused.code}", zh, en,
                                             line=line_no, item=refused.item, **named))


def times(county: County, matter: ImportedMatter, recorded: datetime) -> list[tuple[str, datetime]]:
    """Every batch's and action's time, checked as imported history, in the order they are decided."""
    items = [*((f"batches.{i}", b) for i, b in enumerate(matter.batches)),
             *((f"actions.{i}", a) for i, a in enumerate(matter.actions))]
    when = []
    for where, item in items:
        try:
            when.append((where, check_occurred_at(county, item.occurred_at, recorded, imported=True)))
        except Refused as refused:
            raise refused.within(where) from None
    when.sort(key=lambda pair: pair[1])  # stable: at the same moment, batches before actions, each in line order
    first, at = when[0]
    if first != "batches.0":
        raise Refused("invalid", "before_first_batch", f"早于首批次（{matter.batches[0].occurred_at.isoformat()}）："
                      "事项的首批次即登记，须早于所有其他批次和办理记录",
                      f"it lies before the first batch ({matter.batches[0].occurred_at.isoformat()}): the first batch "
                      "registers the matter and precedes every other batch and action", "occurred_at").within(first)
    return when


async def _import(service: IntakeService, terminal, pid: str, matter: ImportedMatter) -> None:
    order = times(service.county, matter, datetime.now(timezone.utc))
    people = [p.model_dump() for b in matter.batches for p in b.petitioners]

    async def make(_conn, _state, receipt_no: str | None, petitioners: tuple) -> list[Step]:
        return steps(matter, order, pid, receipt_no, petitioners)

    await service.execute(terminal, pid, make, lambda _state, _version: (201, None), occurred=None, idem=None,
                          actor=f"import:{terminal.id}", roles=IMPORT_ROLES, people=people, receipt=True,
                          make_writes=False, imported=True, receipt_at=order[0][1])


def steps(matter: ImportedMatter, order: list[tuple[str, datetime]], pid: str, receipt_no: str | None,
          petitioners: tuple) -> list[Step]:
    """The line's batches and actions as the runner's steps, in ``order`` (:func:`times`); ``petitioners``: every
    batch's, encrypted, in the order of the line."""
    given, offset = [], 0
    for batch in matter.batches:
        given.append(petitioners[offset:offset + len(batch.petitioners)])
        offset += len(batch.petitioners)
    return [Step(_command(matter, where, pid, receipt_no, given), _unit(matter, where), at, where)
            for where, at in order]


def _unit(matter: ImportedMatter, where: str) -> str:
    kind, index = where.split(".")
    return (matter.batches if kind == "batches" else matter.actions)[int(index)].unit


def _command(matter: ImportedMatter, where: str, pid: str, receipt_no: str | None,
             petitioners: list[tuple]) -> c.Command:
    kind, index = where.split(".")
    i = int(index)
    if kind == "actions":
        action = matter.actions[i]
        return c.ACTIONS[action.action](**action.model_dump(exclude={"action", "occurred_at", "unit"}))
    batch = matter.batches[i]
    if i == 0:
        return c.RegisterPetition(
            petition_id=pid, receipt_no=receipt_no or "", batch_id=uuid.uuid4().hex, channel=batch.channel,
            jurisdiction=matter.jurisdiction, category=matter.category, summary=matter.summary,
            head_count=batch.head_count, petitioners=petitioners[0], imported=True, external_id=matter.external_id)
    return c.RecordVisit(batch_id=uuid.uuid4().hex, channel=batch.channel, head_count=batch.head_count,
                         petitioners=petitioners[i], summary=batch.summary, imported=True)

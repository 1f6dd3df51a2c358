"""The terminal API, v1. Route docstrings are the OpenAPI text the terminal vendor reads."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Header, Query, Request, Response

from intake import idempotency, store
from intake.api import schemas as s
from intake.api.deps import AdminDep, AuthenticatedFirst, TerminalDep, WriteDep
from intake.api.lookup_schemas import possible_repeat
from intake.auth import Terminal, create_terminal, revoke_terminal
from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.domain.model import STATUSES, PetitionState
from intake.history_import import ImportResult, ImportSummary, import_line
from intake.service import Answer
from xinfang.problems import Problem
from xinfang.vocabulary import CALENDAR_ASSUMED_LABEL, PAUSED_LABEL

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)
WHY = {
    400: "缺少或无效的 Idempotency-Key。Missing or malformed Idempotency-Key",
    401: "令牌缺失、无效或已吊销。Missing, invalid or revoked token: checked before the body is read, so a request "
    "without a valid token gets 401 whatever its body",
    403: "本终端的角色无权执行该操作，或需要管理令牌 the terminal's roles do not allow this, or the admin token is needed",
    404: "事项不存在或不在本单位辖区内（两者答复相同）。No such matter, or outside your unit's jurisdiction: the same "
    "answer for both, so it tells nothing of other units' matters",
    409: "状态不允许该操作，或同一 Idempotency-Key 的请求仍在处理。The matter's state does not allow it, or the request "
    "with this Idempotency-Key is still in flight",
    413: "请求体过大（导入另有上限）。Body over the size limit (imports have a limit of their own)",
    415: "请求体的媒体类型不受支持。Unsupported Content-Type",
    422: "请求内容有误（逐字段说明），或同一 Idempotency-Key 用于不同内容。Invalid fields, each named; or the same "
    "Idempotency-Key with another body",
    429: "请求过于频繁：本终端超出每分钟请求数，或本地址认证失败过多（默认每分钟20次，此时不再查验令牌）。Too many "
    "requests from this terminal, or too many failed authentications from this address (20 a minute by default; "
    "then refused before the token is looked up). Retry after the seconds in Retry-After",
    503: "暂不可用（如滚动升级中由更新版本写入的事项）。Unavailable for now, e.g. a matter written by a newer replica "
    "during a rolling upgrade; retry",
}
HEADERS = {429: {"Retry-After": {"description": "seconds to wait before retrying",
                                 "schema": {"type": "integer", "minimum": 1}}},
           401: {"WWW-Authenticate": {"description": "Bearer, when the token is missing",
                                      "schema": {"type": "string"}}}}


def errors(*statuses: int) -> dict:
    """The problem+json answers of an operation (their schema: xinfang.apidocs.wire_truths)."""
    return {status: {"description": WHY[status], **({"headers": HEADERS[status]} if status in HEADERS else {})}
            for status in sorted(statuses)}


ERRORS = errors(401, 403, 404, 413, 422, 429, 503)
WRITES = errors(400, 401, 403, 404, 409, 413, 422, 429, 503)  # a POST with an Idempotency-Key
IMPORTS = errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
MAX_JSON_MATTERS = 1000  # the JSON variant is for small imports; files go as NDJSON (python -m intake.history_upload)
NDJSON_EXAMPLE = (
    '{"external_id": "JX-2019-0001", "jurisdiction": "361402001001", "category": "labour", "summary": "欠薪", '
    '"batches": [{"occurred_at": "2019-02-11T09:30:00+08:00", "channel": "visit", "head_count": 3, '
    '"unit": "room.361402001001", "petitioners": [{"name": "王五"}]}], "actions": [{"action": "accept", '
    '"occurred_at": "2019-02-12T09:00:00+08:00", "unit": "room.361402001001"}]}\n'
    '{"external_id": "JX-2019-0002", "jurisdiction": "361402001000", "category": "labour", "summary": "欠薪", '
    '"batches": [{"occurred_at": "2019-03-01T10:00:00+08:00", "channel": "letter", "head_count": 1, '
    '"unit": "station.361402001000"}]}\n')


def _answer(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type="application/json")


def public(state: PetitionState, version: int, people: list[dict] | None = None) -> s.PetitionPublic:
    return s.PetitionPublic(
        petition_id=state.petition_id, receipt_no=state.receipt_no, status=state.status,
        status_label=STATUSES[state.status], jurisdiction=state.jurisdiction, category=state.category,
        registered_unit=state.registered_unit, registered_at=state.registered_at,
        holder_unit=state.holder_unit, holder_tier=state.holder_tier, department=state.department,
        due=[s.DueOut(stage=stage, due_at=datetime.fromisoformat(at.replace("Z", "+00:00")), calendar_assumed=assumed,
                      calendar_label=CALENDAR_ASSUMED_LABEL if assumed else None)
             for stage, at, assumed in state.due],
        batches=state.batches, head_count=state.head_count, extended=state.extended,
        suspended=state.suspended, resolved=state.resolved, imported=state.imported, version=version,
        petitioners=[s.PersonOut(**p) for p in people or []], merged_into=state.merged_into,
        merged=list(state.merged_in))


@router.post("/terminals", status_code=201, response_model=s.TerminalCreated, tags=["terminals"],
             responses=ERRORS, name="create_terminal")
async def create(request: Request, body: s.TerminalCreate, _: AdminDep) -> s.TerminalCreated:
    """创建终端并签发令牌（仅管理令牌）。Create a terminal of a unit and issue its token (admin token only).

    The token is shown once; only its hash is stored."""
    app = request.app.state.intake
    try:
        app.county.unit(body.unit_id)
    except KeyError:
        raise Problem(422, "unit", f"未知的单位 {body.unit_id}", f"unknown unit {body.unit_id!r}") from None
    async with app.pool.acquire() as conn:
        terminal_id, token = await create_terminal(conn, body.unit_id, body.name, list(body.roles))
    app.terminal_events.wake()  # reporting and escalation learn it from xinfang.terminals
    return s.TerminalCreated(id=terminal_id, unit_id=body.unit_id, roles=list(body.roles), token=token)


@router.delete("/terminals/{terminal_id}", status_code=204, tags=["terminals"], responses=ERRORS,
               name="revoke_terminal")
async def revoke(request: Request, terminal_id: str, _: AdminDep) -> Response:
    """吊销终端令牌，立即生效。Revoke a terminal's token; effective at once."""
    async with request.app.state.intake.pool.acquire() as conn:
        revoked = await revoke_terminal(conn, terminal_id)
    request.app.state.intake.terminals.entries.clear()  # at once here; other replicas hear the NOTIFY
    request.app.state.intake.terminal_events.wake()  # reporting and escalation: through xinfang.terminals
    if not revoked:
        raise Problem(404, "terminal", "终端不存在或已吊销", "no such active terminal")
    return Response(status_code=204)


def registration(county, state: PetitionState, repeats=()) -> dict:
    """The answer to a registration, as ``s.Registration`` writes it (its fields, in its order, as JSON): built as
    the JSON it is, not as a model validated and then dumped (tests/unit/intake/test_registration_decided_once.py)."""
    return {"petition_id": state.petition_id, "receipt_no": state.receipt_no, "status": state.status,
            "status_label": STATUSES[state.status],
            "possible_repeats": [possible_repeat(county, found).model_dump(mode="json") for found in repeats]}


@router.post("/petitions", status_code=201, response_model=s.Registration, tags=["petitions"],
             responses=WRITES, name="register_petition")
async def register(request: Request, body: s.PetitionCreate, write: WriteDep) -> Response:
    """登记信访事项及首批次。Register a matter with its first batch.

    A 201 means the matter is durably stored; it reaches the other services even if Kafka is
    down at that moment. Personal data is encrypted before it is stored. Retry with the same
    Idempotency-Key after a network failure: you get the first answer, never a second matter.
    `possible_repeats` lists the same people's open or recently closed matters in your scope (by identity number
    or phone, as `POST /v1/petitions/repeat-check`): never a refusal, the clerk decides."""
    terminal, idem = write
    app = request.app.state.intake
    petition_id = str(uuid.uuid4())

    async def make(_conn, _state, receipt_no, people) -> c.RegisterPetition:
        return c.RegisterPetition(
            petition_id=petition_id, receipt_no=receipt_no,
            batch_id=uuid.uuid4().hex, channel=body.channel, jurisdiction=body.jurisdiction,
            category=body.category, summary=body.summary, head_count=body.head_count, petitioners=people,
            accused_unit=body.accused_unit)

    def respond(state: PetitionState, _version: int, repeats=()) -> tuple[int, dict]:
        return 201, registration(app.county, state, repeats)

    return _answer(await app.service.execute(terminal, petition_id, make, respond, occurred=body.occurred_at,
                                             idem=idem, people=[p.model_dump() for p in body.petitioners],
                                             receipt=True, make_writes=False,
                                             repeat_check=app.settings.repeat_detection))


@router.post("/petitions/{petition_id}/visits", status_code=201, response_model=s.PetitionPublic,
             tags=["petitions"], responses=WRITES, name="record_visit")
async def visit(request: Request, petition_id: uuid.UUID, body: s.VisitCreate, write: WriteDep) -> Response:
    """登记同一事项的后续批次（重复访）。Record a later batch on the same matter."""
    terminal, idem = write
    app = request.app.state.intake
    pid = str(petition_id)

    async def make(_conn, _state, _receipt_no, people) -> c.RecordVisit:
        return c.RecordVisit(batch_id=uuid.uuid4().hex, channel=body.channel, head_count=body.head_count,
                             petitioners=people, summary=body.summary)

    return _answer(await app.service.execute(
        terminal, pid, make, lambda state, version: (201, public(state, version)), occurred=body.occurred_at, idem=idem,
        people=[p.model_dump() for p in body.petitioners], make_writes=False))


@router.post("/petitions/{petition_id}/actions", response_model=s.PetitionPublic, tags=["petitions"],
             responses=WRITES, name="act_on_petition")
async def act(request: Request, petition_id: uuid.UUID, body: Annotated[s.ActionIn, Body()],
              write: WriteDep) -> Response:
    """办理操作：受理、不予受理、转送、派单异议、延期、中止/恢复计时、答复、复查/复核申请与意见、评价、撤回。

    Handle the matter: `accept`, `decline`, `transfer`, `object`, `extend`, `suspend`, `resume`,
    `reply`, `request_review`, `reply_review`, `request_recheck`, `reply_recheck`, `evaluate`,
    `withdraw`. An action the matter's state or your unit does not allow is refused with the
    reason (409 state, 403 role or unit, 422 naming the field: an `occurred_at` before the step it
    follows or beyond the county's offline window, `days` above the tier's extension limit); nothing
    is stored then. An extension must be approved before the handling limit passes. A matter outside
    your unit's jurisdiction answers 404, exactly as one that does not exist.

    `merge` (并单, supervisor): this matter, registered in error, into the one it repeats (`into`): its batches
    count as repeat batches there, its deadlines close, and it answers `merged_into`. Refused into itself, into a
    merged or closed matter, or a matter outside your jurisdiction (404 naming `into`). `unmerge` (county-tier
    supervisor, once): the matter counts on its own again."""
    terminal, idem = write
    fields = body.model_dump(exclude={"action", "occurred_at"})
    if body.action == "merge":
        fields["into"] = fields["into"].lower()
    command = c.ACTIONS[body.action](**fields)
    app = request.app.state.intake
    if isinstance(command, c.Merge | c.Unmerge):
        return _answer(await app.service.merge(terminal, str(petition_id), command,
                                               lambda state, version: (200, public(state, version)),
                                               occurred=body.occurred_at, idem=idem))

    async def make(_conn, _state, _receipt_no, _people) -> c.Command:
        return command

    return _answer(await app.service.execute(
        terminal, str(petition_id), make, lambda state, version: (200, public(state, version)),
        occurred=body.occurred_at, idem=idem, make_writes=False))


@router.get("/petitions/{petition_id}", response_model=s.PetitionPublic, tags=["petitions"],
            responses=ERRORS, name="get_petition")
async def get_petition(request: Request, petition_id: uuid.UUID, terminal: TerminalDep) -> s.PetitionPublic:
    """查看事项，含信访人信息（读取记入访问日志）。A matter with its petitioners; the read is logged."""
    return await _read(request.app.state.intake, terminal, str(petition_id))


async def _read(app, terminal: Terminal, petition_id: str) -> s.PetitionPublic:
    """A matter as the terminal may see it (404 outside its scope), every read and refusal in the access log."""
    try:
        state, version, people = await app.service.read(terminal, petition_id)
    except Exception:
        await app.audit(terminal.id, terminal.unit_id, "read_petition", petition_id, "refused", "not visible")
        raise
    await app.audit(terminal.id, terminal.unit_id, "read_personal_data", petition_id, "allowed",
                    f"{len(people)} petitioners")
    return public(state, version, people)


@router.get("/petitions", response_model=list[s.PetitionPublic], tags=["petitions"], responses=ERRORS,
            name="find_petitions")
async def find_petitions(
        request: Request, terminal: TerminalDep,
        external_id: Annotated[str | None, Query(min_length=1, max_length=128,
                                                 description="旧系统编号（导入时的 external_id）the old system's id")] = None,
        receipt_no: Annotated[str | None, Query(min_length=1, max_length=64,
                                                description="回执编号 e.g. 2026-361402-0000123")] = None,
) -> list[s.PetitionPublic]:
    """按旧系统编号或回执编号查找事项（二者选一）。Find a matter by the old system's id or by its receipt number.

    Give exactly one of `external_id` and `receipt_no`. The answer is a list of the matching matter, with its
    petitioners, exactly as `GET /v1/petitions/{petition_id}` shows it (the read is logged), or an empty list:
    a matter outside your unit's jurisdiction answers `[]`, exactly as one that does not exist."""
    if (external_id is None) == (receipt_no is None):
        raise Problem(422, "validation", "参数 external_id、receipt_no 须且只须给出一个",
                      "give exactly one of the parameters external_id and receipt_no",
                      errors=[{"field": field, "message_zh": "须且只须给出一个", "message_en": "exactly one of two"}
                              for field in ("external_id", "receipt_no")])
    app = request.app.state.intake
    column, value = ("external_id", external_id) if external_id is not None else ("receipt_no", receipt_no)
    if "\x00" in value:  # PostgreSQL's text holds no NUL: nothing stored can match (and asking would fail)
        return []
    async with app.pool.acquire() as conn:
        found = await conn.fetchval(f"SELECT petition_id FROM petitions WHERE {column} = $1", value)
    if found is None:
        return []
    try:
        return [await _read(app, terminal, str(found))]
    except Refused as refused:
        if refused.kind != "not_found":
            raise
        return []


@router.post("/petitions/{petition_id}/petitioners/{ref}/erasure", response_model=s.PetitionPublic,
             tags=["personal-data"], responses=WRITES, name="erase_petitioner")
async def erase(request: Request, petition_id: uuid.UUID, ref: str, _: AdminDep,
                key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response:
    """删除信访人个人信息（仅管理令牌）。Erase a petitioner's personal data (admin token only).

    The petitioner's data key is destroyed (crypto-shredding): their fields read as erased
    everywhere — this API, exports, the audit timeline and the immutable event log, whose hash
    chains stay valid because they cover the ciphertext. The erasure is itself an event."""
    app = request.app.state.intake
    admin_terminal = Terminal(id="admin", unit_id=app.county.unit_for(app.county.code, "county").id,
                              roles=frozenset({"admin"}))
    idem = idempotency.parse("admin", key, "POST", request.url.path, b"")

    async def make(conn, state, _receipt_no, _people) -> c.Command:
        command = c.ErasePersonalData(petitioner_ref=ref)
        if state is not None and ref in state.petitioner_refs and ref not in state.erased_refs:
            await app.keyring.destroy(conn, ref)
        return command

    answer = await app.service.execute(admin_terminal, str(petition_id), make,
                                       lambda state, version: (200, public(state, version)),
                                       occurred=None, idem=idem, actor="system:admin")
    await app.audit("admin", None, "erase_personal_data", str(petition_id), "allowed", f"petitioner {ref}")
    return _answer(answer)


@router.get("/worklist", response_model=list[s.WorkItem], tags=["petitions"], responses=ERRORS, name="worklist")
async def worklist(request: Request, terminal: TerminalDep,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[s.WorkItem]:
    """本单位待办事项，最先到期的在前。What my unit must do, soonest due first."""
    app = request.app.state.intake
    async with app.pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT petition_id, receipt_no, status, category, jurisdiction, next_due_at,
                      coalesce((state->>'suspended')::boolean, false) AS suspended,
                      coalesce(state->'due', '[]') AS due FROM petitions
               WHERE holder_unit = $1 AND status = ANY($2::text[])
               ORDER BY next_due_at NULLS LAST, created_at LIMIT $3""",
            terminal.unit_id, ["assigned", "accepted", "review_requested", "recheck_requested"], limit)
    return [_work_item(r) for r in rows]


def _work_item(r) -> s.WorkItem:
    first = None if r["suspended"] else store.soonest(store.dues(orjson.loads(r["due"])))
    assumed = bool(first and first[1])  # of the due the worklist shows
    return s.WorkItem(petition_id=str(r["petition_id"]), receipt_no=r["receipt_no"], status=r["status"],
                      status_label=STATUSES[r["status"]], category=r["category"],
                      jurisdiction=r["jurisdiction"], next_due_at=None if r["suspended"] else r["next_due_at"],
                      suspended=r["suspended"], due_label=PAUSED_LABEL if r["suspended"] else None,
                      calendar_assumed=assumed, calendar_label=CALENDAR_ASSUMED_LABEL if assumed else None)


@router.get("/units", response_model=list[s.UnitOut], tags=["reference"], responses=ERRORS, name="list_units")
async def units(request: Request, _terminal: TerminalDep) -> list[s.UnitOut]:
    """全县承办单位。The county's handling units."""
    return [s.UnitOut(id=u.id, name=u.name, tier=u.tier, jurisdiction=u.jurisdiction, kind=u.kind)
            for u in request.app.state.intake.county.units]


@router.get("/categories", response_model=list[s.CategoryOut], tags=["reference"], responses=ERRORS,
            name="list_categories")
async def categories(request: Request, _terminal: TerminalDep) -> list[s.CategoryOut]:
    """信访事项分类目录。The category catalogue."""
    return [s.CategoryOut(code=k.code, name=k.name, name_en=k.name_en, department=k.department)
            for k in request.app.state.intake.county.categories]



IMPORTED_MATTER = {"$ref": "#/components/schemas/ImportedMatter"}
NDJSON = ("application/x-ndjson", "application/jsonl")


@router.post("/imports", response_model=ImportSummary, tags=["imports"], responses=IMPORTS, name="import_history",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-ndjson": {"schema": {  # OpenAPI 3.1 cannot say "a sequence of": the text, described
                     "type": "string", "format": "binary", "description": "NDJSON: one ImportedMatter (see the "
                     "application/json form and components/schemas/ImportedMatter) a line, UTF-8"},
                     "example": NDJSON_EXAMPLE},
                 "application/json": {"schema": {
                     "type": "object", "required": ["matters"], "additionalProperties": False,
                     "properties": {"matters": {"type": "array", "minItems": 1, "maxItems": MAX_JSON_MATTERS,
                                                "items": IMPORTED_MATTER}}}}}}})
async def import_history(request: Request, terminal: TerminalDep,
                         key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response:
    """导入旧系统历史事项。Import history from the old system.

    Two forms of the same import, by `Content-Type`:
    - `application/x-ndjson` (or `application/jsonl`): one matter (`ImportedMatter`) a line, read as it
      arrives — for files; `python -m intake.history_upload FILE` sends a file in chunks;
    - `application/json`: `{"matters": [ImportedMatter, …]}`, at most 1,000 matters — for small imports and
      generated clients. `line` in the answer is then the matter's position in `matters`, from 1.

    Each matter carries its batches and actions with their original times; each batch and action names the unit
    (`unit`, an id of `GET /v1/units`) that received or handled it. Imports are idempotent per `external_id`:
    a matter already imported is reported as `exists` and left unchanged. Imported matters are counted in
    statistics and never escalated retroactively. A matter that cannot be imported is reported with its line
    number and reason; the others still are. Needs a supervisor or admin terminal."""
    app = request.app.state.intake
    if not {"supervisor", "admin"} & terminal.roles:
        raise Problem(403, "refused.role", "导入需要主管或管理员终端", "imports need a supervisor or admin terminal")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (*NDJSON, "application/json"):
        raise Problem(415, "media_type", "请以 application/x-ndjson 或 application/json 提交",
                      "send the body as application/x-ndjson or application/json")
    idem = idempotency.parse(terminal.id, key, "POST", request.url.path, b"")
    digest = hashlib.sha256(b"POST " + request.url.path.encode() + b"\n")
    chunks = _body(request, app.settings.max_import_bytes, digest)
    async with app.pool.acquire() as lock_conn:
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", idem.lock_id):
            raise Problem(409, "idempotency.in_flight", "相同 Idempotency-Key 的导入正在进行",
                          "an import with this Idempotency-Key is still running")
        try:
            known = await lock_conn.fetchval("SELECT 1 FROM idempotency_keys WHERE terminal_id = $1 AND key = $2",
                                             terminal.id, idem.key)
            if known:
                async for _chunk in chunks:  # the fingerprint of the whole body
                    pass
                stored = await idempotency.replay_stream(lock_conn, terminal.id, idem.key, digest.digest())
                return Response(stored.body, status_code=stored.status, media_type="application/json")
            matters = _ndjson_lines(chunks) if media in NDJSON else _json_matters(chunks)
            results: list[ImportResult] = [await import_line(app.service, terminal, line_no, raw)
                                           async for line_no, raw in matters]
            body = ImportSummary.of(results).model_dump_json().encode()
            await idempotency.finish(lock_conn, idempotency.IdempotencyKey(terminal.id, idem.key, digest.digest()),
                                     200, body)
            return Response(body, status_code=200, media_type="application/json")
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock($1)", idem.lock_id)


async def _body(request: Request, limit: int, digest) -> AsyncIterator[bytes]:
    """The body as it arrives, fingerprinted, refused (413) past ``limit`` bytes."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too_large", "导入文件过大，请分批导入", f"import body over {limit} bytes; split it")
        digest.update(chunk)
        yield chunk


async def _ndjson_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Each non-blank line with its number, as the lines arrive."""
    line_no, buffer = 0, b""
    async for chunk in chunks:
        *lines, buffer = (buffer + chunk).split(b"\n")
        for raw in lines:
            line_no += 1
            if raw.strip():
                yield line_no, raw
    if buffer.strip():
        yield line_no + 1, buffer


async def _json_matters(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Each matter of ``{"matters": [...]}`` with its position from 1, as the line an NDJSON body would give it."""
    body = b"".join([chunk async for chunk in chunks])
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    matters = document.get("matters") if isinstance(document, dict) and document.keys() == {"matters"} else None
    if not isinstance(matters, list) or not 1 <= len(matters) <= MAX_JSON_MATTERS:
        raise Problem(422, "validation", f"请求内容有误：matters 须为1至{MAX_JSON_MATTERS}件事项的数组",
                      f"invalid request fields: matters must be an array of 1 to {MAX_JSON_MATTERS} matters",
                      errors=[{"field": "matters", "message_zh": "须为事项数组", "message_en": "an array of matters"}])
    for position, matter in enumerate(matters, 1):
        yield position, orjson.dumps(matter)

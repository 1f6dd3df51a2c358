"""The desk's lookups by a person's identifier, and the repeat check before a registration (POST bodies only: an
identity number or phone never travels in a URL, so no proxy or access log outside intake records it)."""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from pydantic import Field

from intake import desk
from intake.api.deps import AuthenticatedFirst, TerminalDep
from intake.api.lookup_schemas import LookupAnswer, RepeatCheckAnswer, matter_found, possible_repeat
from intake.api.routes import ERRORS
from intake.api.schemas import Body
from intake.auth import Terminal
from intake.domain import identifiers
from intake.domain.errors import Refused
from intake.keyring import INDEXED

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)
DESK_ROLES = frozenset({"registrar", "handler", "supervisor"})
TAGS = ["desk"]
ID_NUMBER = ("居民身份证号码：18位，或旧版15位；校验码须正确 citizen identity number: 18 characters (or 15 on an old "
             "card), its check character valid")
PHONE = "电话号码，可带 +86/0086、空格或连字符 phone number; +86/0086, spaces and hyphens allowed"


class IdNumberLookup(Body):
    """按身份证号码查询 — find a person's matters by identity number."""

    id_number: str = Field(min_length=1, max_length=32, description=ID_NUMBER)


class PhoneLookup(Body):
    """按电话号码查询 — find a person's matters by phone number."""

    phone: str = Field(min_length=1, max_length=32, description=PHONE)


class PersonKeys(Body):
    id_number: str | None = Field(None, max_length=32, description=ID_NUMBER)
    phone: str | None = Field(None, max_length=32, description=PHONE)


class RepeatCheck(Body):
    """登记前查重 — the people of a registration about to be made."""

    petitioners: list[PersonKeys] = Field(min_length=1, max_length=200)


def desk_terminal(request: Request, terminal: Terminal) -> None:
    """A desk's terminal, within its lookup allowance: 403 for other roles, 429 beyond the county's limit."""
    if not DESK_ROLES & terminal.roles:
        raise Refused("forbidden", "role", "只有登记、办理或主管终端可以按个人信息查询",
                      "only registrar, handler or supervisor terminals look people up")
    request.app.state.intake.lookups.check(terminal.id)


async def lookup(request: Request, terminal: Terminal, kind: str, normalised: str) -> LookupAnswer:
    app = request.app.state.intake
    async with app.pool.acquire() as conn:
        found = await desk.matters_of(conn, app.county, terminal.unit_id, [(kind, app.keyring.digest(kind, normalised))])
        names = await desk.names_of(conn, app.keyring, found)
        await desk.log_lookup(conn, terminal.id, terminal.unit_id, f"lookup_{kind}", found, f"by {kind}")
    return LookupAnswer(matters=[matter_found(app.county, f, [names.get(ref) for ref in f.refs]) for f in found])


@router.post("/lookups/id-number", response_model=LookupAnswer, tags=TAGS, responses=ERRORS)
async def by_id_number(request: Request, body: IdNumberLookup, terminal: TerminalDep) -> LookupAnswer:
    """按身份证号码查找信访人的事项。Find a person's matters by identity number.

    Answers the matters in your unit's scope (as `GET /v1/petitions/{id}` would show them) with their status,
    category, place, holder, dates and receipt number, and the names the number was registered under. A number
    with no matters and one whose matters all lie outside your scope answer alike: `{"matters": []}`. A number
    not in a valid form (length, birth date, check character) is refused with 422 naming `id_number`.

    Every lookup by identity number or phone is written to the access log and limited per terminal (the county's
    `lookups_per_minute`, 30 by default; beyond it 429 with Retry-After). Registrar, handler and supervisor
    terminals only. A lookup changes nothing: it needs no Idempotency-Key, and its answer, which holds names,
    is not kept."""
    desk_terminal(request, terminal)
    return await lookup(request, terminal, "id_number", identifiers.id_number(body.id_number))


@router.post("/lookups/phone", response_model=LookupAnswer, tags=TAGS, responses=ERRORS)
async def by_phone(request: Request, body: PhoneLookup, terminal: TerminalDep) -> LookupAnswer:
    """按电话号码查找信访人的事项。Find a person's matters by phone number.

    As the lookup by identity number (logged, limited per terminal, desk roles only); `+86 138-0000-0000`,
    `0086 13800000000` and `13800000000` are one number; a number not of 5 to 15 digits is refused with 422
    naming `phone`."""
    desk_terminal(request, terminal)
    return await lookup(request, terminal, "phone", identifiers.phone(body.phone))


@router.post("/petitions/repeat-check", response_model=RepeatCheckAnswer, tags=TAGS, responses=ERRORS)
async def repeat_check(request: Request, body: RepeatCheck, terminal: TerminalDep) -> RepeatCheckAnswer:
    """登记前查重：同一信访人的在办或近期办结事项。Before registering: the same people's open or recently closed matters.

    The matters `POST /v1/petitions` would list as `possible_repeats` (open, or closed within the county's
    `repeat_window`, 365 days by default; in your scope), with category and place and no personal data: record
    the visit on one of them (`POST /v1/petitions/{id}/visits`) rather than registering a new matter. Nothing
    is ever refused for a possible repeat; the clerk decides. An identifier not in a valid form is refused with
    422 naming it (`petitioners.0.id_number`). Logged and limited as the lookups are."""
    desk_terminal(request, terminal)
    app = request.app.state.intake
    digests = [(kind, app.keyring.digest(kind, normalise(value, f"petitioners.{i}.{kind}")))
               for i, person in enumerate(body.petitioners) for kind, normalise in INDEXED.items()
               if (value := getattr(person, kind))]
    async with app.pool.acquire() as conn:  # logged even when it finds nothing: it is a lookup by identifier
        found = await desk.possible_repeats(conn, app.county, terminal.unit_id, digests, datetime.now(timezone.utc))
        await desk.log_lookup(conn, terminal.id, terminal.unit_id, "repeat_check", found, "before registering")
    return RepeatCheckAnswer(possible_repeats=[possible_repeat(app.county, f) for f in found])

"""Drafting, issuing, listing and reproducing a matter's notices: the I/O around ``compose`` and ``render``.

Issuing runs as any command does (``IntakeService.execute``: decide, then the event in the same statement as the
write model, the outbox and the Idempotency-Key): ``make`` composes the notice from the matter's events as they
stand, decrypts the petitioners addressed, renders both documents and hands their hashes to ``decide``.  The
document's date and times are the event's occurred time, fixed before the command runs, so the event says exactly
what the document was rendered with.  The names, the address and the query code are decrypted (or derived) into
the document only: never into the event, a log line or an answer other than the document itself.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg

from intake import store
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import notice_basis, notice_issued
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from intake.keyring import Keyring
from intake.notices import compose, render
from intake.notices.codes import QueryCodes, code_hash
from intake.organisation import context, may_see
from intake.service import Answer, IntakeService, not_found
from xinfang.county.model import County
from xinfang.events import CloudEvent, event_type_of
from xinfang.events.catalogue import NoticeIssued
from xinfang.events.upcasting import UPCASTERS
from xinfang.vocabulary import Delivery, NoticeKind

NOTICE_TYPE = event_type_of(NoticeIssued.model_construct())
DRAFT_ID = "未签发（预览） draft, not issued"
MASKED_CODE = "（签发时打印 printed when issued）"


class Gone(Exception):
    """A petitioner the notice addresses was erased: the document can no longer be made as it was."""


class NotReproducible(Exception):
    """The document rendered again differs from the hash its event recorded (the font or the renderer changed)."""


@dataclass(frozen=True)
class Issued:
    """One issued notice as its event records it."""

    seq: int
    occurred: datetime
    recorded: datetime | None  # None in the answer to the issuing request (the event's own time is not at hand)
    actor: str
    data: NoticeIssued


class Notices:
    """A matter's notices, for the terminals that may see it."""

    def __init__(self, pool: asyncpg.Pool, county: County, keyring: Keyring, service: IntakeService) -> None:
        self.pool, self.county, self.keyring, self.service = pool, county, keyring, service
        self.codes = QueryCodes(keyring.master)

    # ---- reads --------------------------------------------------------------------------

    async def _visible(self, conn: asyncpg.Connection, terminal: Terminal, petition_id: str) -> PetitionState:
        loaded = await store.load(conn, petition_id)
        if loaded.state is None or not may_see(self.county, terminal.unit_id, loaded.state):
            raise not_found()
        return loaded.state

    async def _history(self, conn: asyncpg.Connection, petition_id: str) -> list[tuple[CloudEvent, Any]]:
        rows = await conn.fetch("SELECT body FROM events WHERE petition_id = $1 ORDER BY seq", uuid.UUID(petition_id))
        events = [CloudEvent.from_json(row["body"]) for row in rows]
        return [(event, UPCASTERS.decode(event.type, event.data)[1]) for event in events]

    async def _people(self, conn: asyncpg.Connection, history: compose.History, refs: tuple[str, ...]) -> dict:
        """ref → decrypted name and address of the petitioners addressed; Gone if one was erased."""
        encrypted = compose.encrypted_people(history, refs)
        keys = await self.keyring.keys(conn, list(encrypted))
        people = {}
        for ref, person in encrypted.items():
            if keys.get(ref) is None:
                raise Gone(ref)
            plain = self.keyring.decrypt(person, keys[ref])
            people[ref] = {"name": plain["name"], "address": plain["address"]}
        return people

    async def issued(self, terminal: Terminal, petition_id: str) -> list[Issued]:
        """The notices issued on a matter, oldest first (any role that may see the matter: auditors too)."""
        pid = _petition(petition_id)
        async with self.pool.acquire() as conn:
            await self._visible(conn, terminal, pid)
            rows = await conn.fetch("SELECT body FROM events WHERE petition_id = $1 AND type = $2 ORDER BY seq",
                                    uuid.UUID(pid), NOTICE_TYPE)
        events = [CloudEvent.from_json(row["body"]) for row in rows]
        return [Issued(e.seq, e.occurred_at, e.recorded_at, e.actor, UPCASTERS.decode(e.type, e.data)[1])
                for e in events]

    # ---- documents ------------------------------------------------------------------------

    def _ctx(self, terminal: Terminal, state: PetitionState, now: datetime):
        return context(self.county, terminal.unit_id, terminal.roles, now, state.holder_tier)

    async def draft(self, terminal: Terminal, petition_id: str, kind: NoticeKind, fmt: str) -> tuple[bytes, str]:
        """A notice as it would be issued now (not recorded; the receipt slip's query code not shown)."""
        pid, now = _petition(petition_id), datetime.now(timezone.utc)
        async with self.pool.acquire() as conn:
            state = await self._visible(conn, terminal, pid)
            notice_basis(state, kind, self._ctx(terminal, state, now))
            history = _plain(await self._history(conn, pid))
            draft = compose.draft(self.county, state, history, kind)
            people = await self._people(conn, history, draft.addressed)
        notice = compose.fill(self.county, draft, notice_id=DRAFT_ID, issued_at=now, people=people,
                              query_code=MASKED_CODE)
        return render.RENDERERS[fmt](notice, self.county.zone), f"{kind}-draft"

    async def document(self, terminal: Terminal, petition_id: str, notice_id: str, fmt: str) -> tuple[bytes, Issued]:
        """An issued notice reproduced from its event, checked against the hash the event recorded."""
        pid = _petition(petition_id)
        async with self.pool.acquire() as conn:
            await self._visible(conn, terminal, pid)
            history = await self._history(conn, pid)
            found = next(((e, d) for e, d in history if isinstance(d, NoticeIssued) and d.notice_id == notice_id), None)
            if found is None:
                raise Refused("not_found", "notice", "该事项没有此告知书", "no such notice on this matter")
            event, data = found
            plain = _plain(history)
            people = await self._people(conn, plain, tuple(data.addressed))
        code = self.codes.code(pid, data.query_code_generation) if data.query_code_generation else None
        draft = compose.Draft(data.kind, data.basis_seq, data.unit, data.title, tuple(data.body),
                              tuple(data.fields.items()), tuple(data.addressed))
        notice = compose.fill(self.county, draft, notice_id=data.notice_id, issued_at=event.occurred_at,
                              people=people, query_code=code)
        body = render.RENDERERS[fmt](notice, self.county.zone)
        if hashlib.sha256(body).hexdigest() != getattr(data, f"{fmt}_sha256"):
            raise NotReproducible(data.notice_id)
        return body, Issued(event.seq, event.occurred_at, event.recorded_at, event.actor, data)

    # ---- issuing ---------------------------------------------------------------------------

    async def issue(self, terminal: Terminal, petition_id: str, kind: NoticeKind, delivery: Delivery,
                    occurred: datetime | None, idem, respond: Callable[[Issued], Any], new_code: bool = False) -> Answer:
        """Record a notice as issued: the event with its text (personal data left out) and both documents' hashes.
        ``new_code``: a receipt slip with a new query code (the desk reissuing it: the old one stops working)."""
        pid = _petition(petition_id)
        issued_at = occurred or datetime.now(timezone.utc)  # the event's occurred time and the document's, alike
        made: list[c.IssueNotice] = []

        async def make(conn: asyncpg.Connection, state: PetitionState | None, _receipt, _people) -> c.IssueNotice:
            if state is None:
                raise not_found()
            notice_basis(state, kind, self._ctx(terminal, state, issued_at))  # refused before anything is decrypted
            history = _plain(await self._history(conn, pid))
            draft = compose.draft(self.county, state, history, kind)
            generation = await self._generation(conn, pid, new_code) if kind == "receipt" else None
            people = await self._people(conn, history, draft.addressed)
            notice_id = uuid.uuid4().hex
            notice = compose.fill(self.county, draft, notice_id=notice_id, issued_at=issued_at, people=people,
                                  query_code=self.codes.code(pid, generation) if generation else None)
            digests = {fmt: hashlib.sha256(renderer(notice, self.county.zone)).hexdigest()
                       for fmt, renderer in render.RENDERERS.items()}
            made[:] = [c.IssueNotice(notice_id=notice_id, kind=kind, delivery=delivery, basis_seq=draft.basis_seq,
                                     title=draft.title, body=draft.body, fields=draft.fields,
                                     addressed=draft.addressed, pdf_sha256=digests["pdf"],
                                     docx_sha256=digests["docx"], query_code_generation=generation,
                                     layout=compose.LAYOUT)]
            return made[0]

        def answered(state: PetitionState, _version: int) -> tuple[int, Any]:
            data = notice_issued(made[0], draft_unit(state, kind))
            return 201, respond(Issued(state.seq, issued_at, None, f"terminal:{terminal.id}", data))

        # a receipt slip writes the query code's hash with the event (make writes: its own transaction)
        return await self.service.execute(terminal, pid, make, answered, occurred=issued_at, idem=idem,
                                          make_writes=kind == "receipt")

    async def _generation(self, conn: asyncpg.Connection, petition_id: str, new: bool) -> int:
        """The query code's generation a receipt slip shows: the current one (the first is made with the matter's
        first slip), or with ``new`` the next, whose hash replaces the old code's (under the row's lock)."""
        pid = uuid.UUID(petition_id)
        current = await conn.fetchval("SELECT generation FROM query_codes WHERE petition_id = $1 FOR UPDATE", pid)
        if current is not None and not new:
            return current
        generation = (current or 0) + 1
        await conn.execute("""INSERT INTO query_codes (petition_id, generation, code_sha256) VALUES ($1, $2, $3)
                              ON CONFLICT (petition_id) DO UPDATE SET generation = excluded.generation,
                                  code_sha256 = excluded.code_sha256, issued_at = now()""",
                           pid, generation, code_hash(petition_id, self.codes.code(petition_id, generation)))
        return generation


def draft_unit(state: PetitionState, kind: NoticeKind) -> str:
    """The unit a notice of ``kind`` goes out in the name of: the one that decided what it tells."""
    fact = state.notice_fact(kind)
    assert fact is not None, "decide issued a notice without its fact"
    return fact[1]


def _plain(history: list[tuple[CloudEvent, Any]]) -> compose.History:
    return [(event.seq, event.occurred_at, data) for event, data in history]


def _petition(petition_id: str) -> str:
    try:
        return str(uuid.UUID(petition_id))
    except ValueError:
        raise not_found() from None

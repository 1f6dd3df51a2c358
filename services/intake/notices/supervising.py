"""Supervision notices (督办单): a supervisor lists a unit's overdue matters on one notice, recorded as one
``petition.supervised.v1`` event on each listed matter's stream — in one transaction, through the one command path
(:meth:`IntakeService.execute` on the first matter, the others decided and written by its ``then``), so a notice is
issued whole or not at all, and its Idempotency-Key replays the first answer.

Which matters: those the unit holds whose earliest open due lies before the notice's time (intake's own write
model: ``petitions.holder_unit`` and ``next_due_at``, then each matter's dues), read again under their row locks
inside the transaction.  Who may: a supervisor of a unit above the unit supervised (its jurisdiction covers it);
a unit outside the caller's scope answers 404, as an unknown one.  The document is reproduced from the events and
checked against the SHA-256 they recorded, like the petitioner's notices.
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
from intake.domain.decide import may_supervise
from intake.domain.errors import Refused
from intake.notices import render
from intake.notices import supervision as compose
from intake.notices.issuing import NotReproducible
from intake.organisation import acts_for, context
from intake.service import Answer, IntakeService
from xinfang.county.model import County
from xinfang.events import CloudEvent, event_type_of
from xinfang.events.catalogue import Supervised
from xinfang.events.upcasting import UPCASTERS

SUPERVISED_TYPE = event_type_of(Supervised.model_construct())
MAX_LISTED = 1000  # the event's bound; a unit with more overdue matters gets the soonest due first


@dataclass(frozen=True)
class SupervisionNotice:
    """One issued notice: its number, the units, when, and its lines."""

    notice_id: str
    number: str
    issuing_unit: str
    unit: str
    reason: str | None
    issued_at: datetime
    lines: tuple[compose.Line, ...]
    pdf_sha256: str
    docx_sha256: str


def unknown_notice() -> Refused:
    return Refused("not_found", "supervision_notice", "督办单不存在", "no such supervision notice")


class Supervision:
    """Issues supervision notices and reproduces their documents."""

    def __init__(self, pool: asyncpg.Pool, county: County, service: IntakeService) -> None:
        self.pool, self.county, self.service = pool, county, service

    def _in_scope(self, terminal: Terminal, unit: str) -> None:
        """404 for a unit the county file does not know or the caller may not see (its own unit, or below it)."""
        try:
            self.county.unit(unit)
        except KeyError:
            raise Refused("invalid", "unknown_unit", f"未知的单位 {unit}", f"unknown unit {unit!r}", "unit") from None
        try:
            seen = acts_for(self.county, terminal.unit_id, unit)
        except KeyError:
            seen = False
        if not seen:
            raise Refused("not_found", "unit", "单位不在本终端辖区内", "no such unit in this terminal's scope", "unit")

    async def issue(self, terminal: Terminal, unit: str, reason: str | None, idem,
                    respond: Callable[[SupervisionNotice], Any]) -> Answer:
        """Issue a notice for ``unit``'s overdue matters; 409 when none is overdue."""
        self._in_scope(terminal, unit)
        now = datetime.now(timezone.utc)
        may_supervise(context(self.county, terminal.unit_id, terminal.roles, now), unit)  # before anything is read
        async with self.pool.acquire() as conn:
            candidates = [str(r["petition_id"]) for r in await conn.fetch(
                """SELECT petition_id FROM petitions WHERE holder_unit = $1 AND next_due_at < $2
                   ORDER BY next_due_at, receipt_no LIMIT $3""", unit, now, MAX_LISTED)]
        if not candidates:
            raise Refused("state", "nothing_overdue", "该单位没有超期未办的信访事项",
                          f"unit {unit} holds no overdue matter")
        made: dict[str, Any] = {}

        async def make(conn: asyncpg.Connection, state, _receipt, _people) -> c.Command:
            # every candidate locked (in id order: two notices of one unit cannot deadlock), read again as it stands
            rows = await conn.fetch("SELECT petition_id FROM petitions WHERE petition_id = ANY($1::uuid[]) "
                                    "ORDER BY petition_id FOR UPDATE", candidates)
            loaded = {str(r["petition_id"]): await store.load(conn, str(r["petition_id"])) for r in rows}
            lines = [line for pid in candidates if pid in loaded and loaded[pid].state is not None
                     and (line := compose.overdue(self.county, loaded[pid].state, unit, now)) is not None]
            if not lines or lines[0].petition_id != candidates[0]:
                raise store.Conflict("the first overdue matter changed meanwhile")  # decided again on the new list
            year = now.astimezone(self.county.zone).year
            serial = await conn.fetchval("SELECT coalesce(max(serial), 0) + 1 FROM supervision_notices "
                                         "WHERE issuing_unit = $1 AND year = $2", terminal.unit_id, year)
            notice_id, number = uuid.uuid4().hex, compose.number(year, serial)
            document = compose.notice(self.county, notice_id=notice_id, number=number, issuer=terminal.unit_id,
                                      unit=unit, reason=reason, lines=lines, issued_at=now)
            digests = {fmt: hashlib.sha256(renderer(document, self.county.zone)).hexdigest()
                       for fmt, renderer in render.RENDERERS.items()}
            commands = [c.Supervise(notice_id=notice_id, number=number, unit=unit, reason=reason, stage=line.stage,
                                    due_at=line.due_at, days_overdue=line.days_overdue, position=i,
                                    listed=len(lines), pdf_sha256=digests["pdf"], docx_sha256=digests["docx"])
                        for i, line in enumerate(lines, 1)]
            made.update(lines=lines, loaded=loaded, commands=commands, year=year, serial=serial,
                        notice=SupervisionNotice(notice_id, number, terminal.unit_id, unit, reason, now,
                                                 tuple(lines), digests["pdf"], digests["docx"]))
            return commands[0]

        async def then(conn: asyncpg.Connection, _loaded, _state, when, recorded, actor) -> None:
            for line, command in list(zip(made["lines"], made["commands"], strict=True))[1:]:
                other = made["loaded"][line.petition_id]
                after, events = self.service.decided(terminal, terminal.roles, other, line.petition_id, command,
                                                     when, recorded, actor)
                await store.write(conn, other, after, events, recorded=recorded,
                                  notify=self.service.committed is None)
            notice = made["notice"]
            await conn.execute(
                """INSERT INTO supervision_notices (notice_id, number, issuing_unit, unit, year, serial, issued_at,
                                                    petition_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[])""",
                notice.notice_id, notice.number, notice.issuing_unit, unit, made["year"], made["serial"], when,
                [line.petition_id for line in made["lines"]])

        return await self.service.execute(terminal, candidates[0], make, lambda _s, _v: (201, respond(made["notice"])),
                                          occurred=now, idem=idem, then=then)

    async def document(self, terminal: Terminal, notice_id: str, fmt: str) -> tuple[bytes, SupervisionNotice]:
        """An issued notice reproduced from its events, checked against the SHA-256 they recorded."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT unit, issuing_unit, petition_ids FROM supervision_notices "
                                      "WHERE notice_id = $1", notice_id)
            if row is None or not self._may_read(terminal, row["unit"], row["issuing_unit"]):
                raise unknown_notice()
            rows = await conn.fetch("SELECT petition_id, body FROM events WHERE petition_id = ANY($1::uuid[]) "
                                    "AND type = $2", row["petition_ids"], SUPERVISED_TYPE)
        found = []
        for r in rows:
            event = CloudEvent.from_json(r["body"])
            data = UPCASTERS.decode(event.type, event.data)[1]
            if data.notice_id == notice_id:
                found.append((str(r["petition_id"]), event.occurred_at, data))
        document = compose.from_events(self.county, [(at, data) for _, at, data in found])
        body = render.RENDERERS[fmt](document, self.county.zone)
        first = min(found, key=lambda item: item[2].position)[2]
        if hashlib.sha256(body).hexdigest() != getattr(first, f"{fmt}_sha256"):
            raise NotReproducible(notice_id)
        lines = tuple(compose.Line(pid, d.receipt_no, d.stage, d.due_at, d.days_overdue)
                      for pid, _, d in sorted(found, key=lambda item: item[2].position))
        return body, SupervisionNotice(notice_id, first.number, first.issuing_unit, first.unit, first.reason,
                                       document.issued_at, lines, first.pdf_sha256, first.docx_sha256)

    def _may_read(self, terminal: Terminal, unit: str, issuer: str) -> bool:
        """The issuing unit, the unit supervised, and the units above either."""
        try:
            return any(acts_for(self.county, terminal.unit_id, u) for u in (unit, issuer))
        except KeyError:
            return False


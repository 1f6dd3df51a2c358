"""The application service: one transaction per command — decide, append, answer, remember the key.

Entry points (HTTP routes, the import CLI) call these methods; they hold no business rules.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import asyncpg
import orjson

from xinfang.county.model import County

from intake import idempotency, store
from intake.api.problems import Problem
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from intake.keyring import Keyring
from intake.organisation import context, may_see

MAX_ATTEMPTS = 5
Respond = Callable[[PetitionState, int], tuple[int, Any]]  # (state, version) → (status, body)


def dumps(body: Any) -> bytes:
    if hasattr(body, "model_dump"):
        body = body.model_dump(mode="json")
    return orjson.dumps(body)


@dataclass
class Answer:
    status: int
    body: bytes


class IntakeService:
    """Runs commands against the event store with optimistic concurrency and idempotency."""

    def __init__(self, pool: asyncpg.Pool, county: County, keyring: Keyring, hashalg: str,
                 county_code: str | None = None) -> None:
        self.pool, self.county, self.keyring, self.hashalg = pool, county, keyring, hashalg
        self.county_code = county_code or county.code[:6]  # 6-digit county code: readable on the phone
        self.source = f"/xinfang/{self.county_code}/intake"
        self._receipt_years: set[int] = set()

    # ---- the one way a command runs -----------------------------------------------

    async def execute(
        self, terminal: Terminal, petition_id: str, make: Callable[[asyncpg.Connection, PetitionState | None], Awaitable[c.Command]],
        respond: Respond, *, occurred: datetime | None, idem: idempotency.IdempotencyKey | None,
        actor: str | None = None, roles: frozenset[str] | None = None,
    ) -> Answer:
        recorded = datetime.now(timezone.utc)
        occurred = occurred or recorded
        if occurred > recorded:
            raise Problem(422, "occurred_in_future", "发生时间不能晚于当前时间", "occurred_at lies in the future")
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    if idem is not None and (stored := await idempotency.begin(conn, idem)) is not None:
                        return Answer(stored.status, stored.body)
                    loaded = await store.load(conn, petition_id)
                    if loaded.state is not None and not may_see(self.county, terminal.unit_id, loaded.state):
                        raise Refused("forbidden", "scope", "该事项不在本单位辖区内，无权操作",
                                      "the matter is outside this terminal's unit")
                    command = await make(conn, loaded.state)
                    tier = loaded.state.holder_tier if loaded.state else None
                    ctx = context(self.county, terminal.unit_id, roles or terminal.roles, occurred, tier)
                    produced = decide(loaded.state, command, ctx)
                    state, _events = await store.append(
                        conn, loaded, petition_id, produced, occurred=occurred, recorded=recorded,
                        actor=actor or f"terminal:{terminal.id}", source=self.source, hashalg=self.hashalg)
                    status, body = respond(state, loaded.version + 1)
                    answer = Answer(status, dumps(body))
                    if idem is not None:
                        await idempotency.finish(conn, idem, answer.status, answer.body)
                    return answer
            except store.Conflict:
                continue  # another command won the race: decide again on the new state
        raise Problem(409, "conflict", "事项正被同时修改，请重试", "the matter is being changed concurrently; retry")

    # ---- registration ---------------------------------------------------------------

    async def receipt_no(self, conn: asyncpg.Connection, when: datetime) -> str:
        """Readable on the phone: year, county code, serial — unique per county."""
        year = when.astimezone(self.county.zone).year
        if year not in self._receipt_years:
            async with self.pool.acquire() as ddl:
                await ddl.execute(f"CREATE SEQUENCE IF NOT EXISTS receipt_{year}")
            self._receipt_years.add(year)
        serial = await conn.fetchval(f"SELECT nextval('receipt_{year}')")
        return f"{year}-{self.county_code}-{serial:07d}"

    async def seal_people(self, conn: asyncpg.Connection, petition_id: str, people: list[dict]) -> tuple[c.SealedPetitioner, ...]:
        sealed = tuple([await self.keyring.seal_new(conn, person) for person in people])
        return sealed

    async def store_people(self, conn: asyncpg.Connection, petition_id: str, sealed: tuple[c.SealedPetitioner, ...]) -> None:
        await conn.executemany(
            """INSERT INTO petitioners (petition_id, ref, name, id_number, phone, address)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            [(uuid.UUID(petition_id), p.ref, p.name, p.id_number, p.phone, p.address) for p in sealed])

    # ---- reads ----------------------------------------------------------------------

    async def read(self, terminal: Terminal, petition_id: str) -> tuple[PetitionState, int, list[dict]]:
        """A matter as the terminal may see it, with its sealed petitioners (404 outside its scope)."""
        try:
            pid = uuid.UUID(petition_id)
        except ValueError:
            raise Refused("not_found", "unknown", "事项不存在", "no such matter") from None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT state, version FROM petitions WHERE petition_id = $1", pid)
            if row is None:
                raise Refused("not_found", "unknown", "事项不存在", "no such matter")
            state = store.state_from_json(row["state"])
            if not may_see(self.county, terminal.unit_id, state):
                raise Refused("not_found", "unknown", "事项不存在", "no such matter")
            people = [dict(r) for r in await conn.fetch(
                "SELECT ref, name, id_number, phone, address FROM petitioners WHERE petition_id = $1 ORDER BY ref", pid)]
            keys = await self.keyring.keys(conn, [p["ref"] for p in people])
        opened = []
        for person in people:
            key = keys.get(person["ref"])
            plain = self.keyring.open(person, key)
            opened.append({"ref": person["ref"], **plain, "erased": key is None})
        return state, row["version"], opened

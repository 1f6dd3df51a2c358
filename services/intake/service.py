"""The application service: one transaction per command — decide, append, answer, remember the key.

Entry points (HTTP routes, the import CLI) call these methods; they hold no business rules.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import asyncpg
import orjson

from xinfang import logs
from xinfang.county.model import County
from xinfang.problems import Problem

from intake import idempotency, store
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from intake.keyring import Keyring
from intake.organisation import context, may_see

MAX_ATTEMPTS = 5
log = logging.getLogger("intake.commands")
Respond = Callable[[PetitionState, int], tuple[int, Any]]
Make = Callable[[asyncpg.Connection, "PetitionState | None", "str | None", tuple], Awaitable[c.Command]]  # (state, version) → (status, body)


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
                 county_code: str | None = None, committed: Callable[[], None] | None = None) -> None:
        self.pool, self.county, self.keyring, self.hashalg = pool, county, keyring, hashalg
        # called after each commit of events (rings the relay); None: the write NOTIFYs in its transaction
        self.committed = committed
        self.county_code = county_code or county.code[:6]  # 6-digit county code: readable on the phone
        self.source = f"/xinfang/{self.county_code}/intake"
        self._receipt_years: set[int] = set()
        self._receipt_lock = asyncio.Lock()

    # ---- the one way a command runs -----------------------------------------------

    async def execute(
        self, terminal: Terminal, petition_id: str, make: Make, respond: Respond, *, occurred: datetime | None,
        idem: idempotency.IdempotencyKey | None, actor: str | None = None, roles: frozenset[str] | None = None,
        people: list[dict] | None = None, receipt: bool = False, make_writes: bool = True,
    ) -> Answer:
        """Run one command: decide on the matter as it stands, write its events, answer — one transaction.

        ``make(conn, state, receipt_no, petitioners)`` builds the command; ``people`` are new petitioners to encrypt
        (their keys and fields are written with the events); ``receipt`` draws a receipt number.

        ``make_writes``: make() writes with ``conn`` (erasure), so the command runs in an explicit transaction
        that takes the Idempotency-Key's lock first (four round trips: BEGIN, read, write, COMMIT).  Otherwise
        the read needs no transaction (the write is guarded by the version it read) and the write is one
        statement that takes the key's lock, so it commits alone: two round trips, same answers."""
        logs.petition_id.set(petition_id)
        recorded = datetime.now(timezone.utc)
        encrypted_people = [self.keyring.encrypt_new(person) for person in people or []]
        year = await self.receipt_year(recorded) if receipt else None
        occurred = occurred or recorded
        if occurred > recorded:
            raise Problem(422, "occurred_in_future", "发生时间不能晚于当前时间", "occurred_at lies in the future")
        if recorded - occurred > self.county.offline_window:  # older history goes through imports
            window = self.county.offline_window
            raise Problem(422, "occurred_before_offline_window",
                          f"发生时间早于离线补录期限（{window}），更早的历史请通过导入提交",
                          f"occurred_at is older than the county's offline window ({window}); send older "
                          f"history through /v1/imports",
                          errors=[{"field": "occurred_at", "message_zh": f"早于离线补录期限 {window}",
                                   "message_en": f"before the offline window of {window}"}])
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self.pool.acquire() as conn:
                    async with (conn.transaction() if make_writes else contextlib.nullcontext()):
                        loaded, stored, serial = await self._begin(conn, petition_id, idem, year, lock=make_writes)
                        if stored is not None:
                            return Answer(stored.status, stored.body)
                        if loaded.state is not None and not may_see(self.county, terminal.unit_id, loaded.state):
                            raise Refused("forbidden", "scope", "该事项不在本单位辖区内，无权操作",
                                          "the matter is outside this terminal's unit")
                        receipt_no = self.receipt_no(year, serial) if year else None
                        command = await make(conn, loaded.state, receipt_no, tuple(p for p, _ in encrypted_people))
                        tier = loaded.state.holder_tier if loaded.state else None
                        ctx = context(self.county, terminal.unit_id, roles or terminal.roles, occurred, tier)
                        produced = decide(loaded.state, command, ctx)
                        state, chained = store.chain_events(
                            loaded, petition_id, produced, occurred=occurred, recorded=recorded,
                            actor=actor or f"terminal:{terminal.id}", source=self.source, hashalg=self.hashalg)
                        status, body = respond(state, loaded.version + 1)
                        answer = Answer(status, dumps(body))
                        record = (idem.terminal_id, idem.key, idem.fingerprint, answer.status, answer.body) if idem else None
                        await store.write(conn, loaded, state, chained, occurred=occurred, recorded=recorded,
                                          idempotency=record, people=encrypted_people, cipher_alg=self.keyring.alg,
                                          notify=self.committed is None,
                                          lock_id=idem.lock_id if idem and not make_writes else None)
                if self.committed is not None:
                    self.committed()
                log.info("%s: %s", type(command).__name__, ", ".join(e.type for e in chained),
                         extra={"terminal": terminal.id, "status": state.status, "seq": state.seq})
                return answer
            except store.KeyInFlight:
                raise idempotency.in_flight() from None
            except store.Conflict:
                continue  # another command won the race: decide again on the new state
            except asyncpg.UniqueViolationError:
                continue  # the same Idempotency-Key committed meanwhile: the next attempt replays its answer
        raise Problem(409, "conflict", "事项正被同时修改，请重试", "the matter is being changed concurrently; retry")

    async def _begin(self, conn: asyncpg.Connection, petition_id: str, idem: idempotency.IdempotencyKey | None,
                     receipt_year: int | None, lock: bool = True,
                     ) -> tuple[store.Loaded, idempotency.Stored | None, int | None]:
        """One round trip: the key's stored answer (and, with ``lock``, its transaction lock), the matter as it
        stands, a receipt serial."""
        serial = f"nextval('receipt_{receipt_year:04d}')" if receipt_year else "NULL::bigint"
        row = await conn.fetchrow(
            f"""SELECT l.locked, k.request_hash, k.status, k.body, p.state, p.version, p.head_hash, {serial} AS serial
               FROM (SELECT CASE WHEN $1::bigint IS NULL THEN true ELSE pg_try_advisory_xact_lock($1) END AS locked) l
               LEFT JOIN idempotency_keys k ON k.terminal_id = $2 AND k.key = $3
               LEFT JOIN petitions p ON p.petition_id = $4""",
            idem.lock_id if idem and lock else None, idem.terminal_id if idem else None, idem.key if idem else None,
            uuid.UUID(petition_id))
        if idem is not None:
            stored = idempotency.check(row["locked"], row["request_hash"], row["status"], row["body"], idem)
            if stored is not None:
                return store.Loaded(None), stored, None
        return store.loaded_from(row), None, row["serial"]

    # ---- registration ---------------------------------------------------------------

    def receipt_no(self, year: int, serial: int) -> str:
        """Readable on the phone: year, county code, serial — unique per county."""
        return f"{year}-{self.county_code}-{serial:07d}"

    async def receipt_year(self, when: datetime) -> int:
        year = when.astimezone(self.county.zone).year
        if year not in self._receipt_years:
            await self.ensure_receipt_year(year)
        return year

    async def ensure_receipt_year(self, year: int) -> None:
        """The serial of a year, created once; concurrent creators (other replicas too) are harmless."""
        async with self._receipt_lock:
            if year in self._receipt_years:
                return
            async with self.pool.acquire() as ddl:
                try:
                    await ddl.execute(f"CREATE SEQUENCE IF NOT EXISTS receipt_{year:04d}")
                except (asyncpg.UniqueViolationError, asyncpg.DuplicateTableError):
                    pass  # another replica created it between the check and the insert of the catalog row
            self._receipt_years.add(year)

    async def petitioners(self, conn: asyncpg.Connection, petition_id: str, people: list[dict],
                          receipt_at: datetime | None = None) -> tuple[tuple[c.EncryptedPetitioner, ...], str | None]:
        """Encrypt and store new petitioners (and draw a receipt number when registering)."""
        encrypted = [self.keyring.encrypt_new(person) for person in people]
        year = await self.receipt_year(receipt_at) if receipt_at else None
        serial = await self.keyring.store(conn, petition_id, encrypted, year)
        return tuple(p for p, _ in encrypted), (self.receipt_no(year, serial) if year else None)

    # ---- reads ----------------------------------------------------------------------

    async def read(self, terminal: Terminal, petition_id: str) -> tuple[PetitionState, int, list[dict]]:
        """A matter as the terminal may see it, with its decrypted petitioners (404 outside its scope)."""
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
            plain = self.keyring.decrypt(person, key)
            opened.append({"ref": person["ref"], **plain, "erased": key is None})
        return state, row["version"], opened

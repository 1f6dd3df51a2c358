"""The application service: one transaction per command — decide, append, answer, remember the key.

Entry points (HTTP routes, the import CLI) call these methods; they hold no business rules.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
import orjson

from intake import desk, idempotency, store
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from intake.domain.occurred import check_occurred_at
from intake.keyring import Keyring
from intake.organisation import context, may_see
from xinfang import logs
from xinfang.county.model import County
from xinfang.problems import Problem

MAX_ATTEMPTS = 5


def not_found() -> Refused:
    """The one answer for a matter that does not exist and for one outside the caller's scope."""
    return Refused("not_found", "unknown", "事项不存在", "no such matter")

log = logging.getLogger("intake.commands")
# (state, version[, the matters it may repeat: with repeat_check]) → (status, body)
Respond = Callable[..., tuple[int, Any]]
# (conn, state, receipt number, petitioners) → the command
Make = Callable[[asyncpg.Connection, "PetitionState | None", "str | None", tuple], Awaitable[c.Command]]


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
        self._drawn_at_last_pass: dict[int, int] = {}

    # ---- the one way a command runs -----------------------------------------------

    async def execute(
        self, terminal: Terminal, petition_id: str, make: Make, respond: Respond, *, occurred: datetime | None,
        idem: idempotency.IdempotencyKey | None, actor: str | None = None, roles: frozenset[str] | None = None,
        people: list[dict] | None = None, receipt: bool = False, make_writes: bool = True,
        repeat_check: bool = False,
    ) -> Answer:
        """Run one command: decide on the matter as it stands, write its events, answer — one transaction.

        ``make(conn, state, receipt_no, petitioners)`` builds the command; ``people`` are new petitioners to encrypt
        (their keys and fields are written with the events); ``receipt`` draws a receipt number — only for a command
        decided acceptable (a refused registration consumes none; make() must then not use ``conn``), and one drawn
        but not written is recorded void with the reason.  The people's blind indexes are written with them;
        ``repeat_check``: the answer lists the matters the command may repeat (``possible_repeats``, intake.desk).

        ``make_writes``: make() writes with ``conn`` (erasure), so the command runs in an explicit transaction
        that takes the Idempotency-Key's lock first (four round trips: BEGIN, read, write, COMMIT).  Otherwise
        the read needs no transaction (the write is guarded by the version it read) and the write is one
        statement that takes the key's lock, so it commits alone: two round trips, same answers."""
        logs.petition_id.set(petition_id)
        recorded = datetime.now(timezone.utc)
        encrypted_people = [self.keyring.encrypt_new(person) for person in people or []]
        indexes = self.keyring.blind_indexes_of(people or [], encrypted_people)
        year = await self.receipt_year(recorded) if receipt else None
        # the time checks and a registration's decision come before a receipt number is drawn (a refused one
        # draws none); either refusal is raised only after the Idempotency-Key was read, so a retry still gets
        # the first answer, even days later
        try:
            when, refusal = check_occurred_at(self.county, occurred, recorded), None
        except Refused as refused:
            when, refusal = recorded, refused
        if refusal is None and year:
            refusal = await self._refusal(terminal, make, roles or terminal.roles, when, year,
                                          tuple(p for p, _ in encrypted_people))
        for _ in range(MAX_ATTEMPTS):
            drawn: list[str] = []
            try:
                async with self.voided_unless_written(drawn), self.pool.acquire() as conn:
                    async with (conn.transaction() if make_writes else contextlib.nullcontext()):
                        loaded, stored, serial = await self._begin(conn, petition_id, idem,
                                                                   year if refusal is None else None, lock=make_writes)
                        if stored is not None:
                            return Answer(stored.status, stored.body)  # a retry is answered as first, even days later
                        if refusal is not None:
                            raise refusal
                        if loaded.state is not None and not may_see(self.county, terminal.unit_id, loaded.state):
                            raise not_found()  # as for a matter that does not exist: it tells nothing of the others
                        receipt_no = self.receipt_no(year, serial) if year else None
                        drawn.extend([receipt_no] if receipt_no else [])
                        command = await make(conn, loaded.state, receipt_no, tuple(p for p, _ in encrypted_people))
                        tier = loaded.state.holder_tier if loaded.state else None
                        ctx = context(self.county, terminal.unit_id, roles or terminal.roles, when, tier)
                        produced = decide(loaded.state, command, ctx)
                        state, chained = store.chain_events(
                            loaded, petition_id, produced, occurred=when, recorded=recorded,
                            actor=actor or f"terminal:{terminal.id}", source=self.source, hashalg=self.hashalg)
                        if repeat_check:  # the matters found go to the answer (respond's third argument)
                            status, body = respond(state, loaded.version + 1, await self.repeats(
                                conn, terminal, [(kind, digest) for kind, digest, _ in indexes], when))
                        else:
                            status, body = respond(state, loaded.version + 1)
                        answer = Answer(status, dumps(body))
                        record = (idem.terminal_id, idem.key, idem.fingerprint, answer.status, answer.body) if idem else None
                        await store.write(conn, loaded, state, chained, occurred=when, recorded=recorded,
                                          idempotency=record, people=encrypted_people, cipher_alg=self.keyring.alg,
                                          notify=self.committed is None, indexes=indexes,
                                          lock_id=idem.lock_id if idem and not make_writes else None)
                    drawn.clear()  # committed with the matter
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
        # a number only where the command will be decided, not for a replayed answer or a key in flight
        serial = (f"CASE WHEN k.request_hash IS NULL AND l.locked THEN nextval('receipt_{receipt_year:04d}') END"
                  if receipt_year else "NULL::bigint")
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

    async def _refusal(self, terminal: Terminal, make: Make, roles: frozenset[str], occurred: datetime, year: int,
                       people: tuple) -> Refused | None:
        """A registration decided before its number is drawn (decide is pure and the matter new, so the decision
        made again with the number is the same): a refused one draws none.  Raised only after the Idempotency-Key
        was read, so a retry still gets the first answer."""
        command = await make(None, None, self.receipt_no(year, 0), people)  # type: ignore[arg-type]
        try:
            decide(None, command, context(self.county, terminal.unit_id, roles, occurred, None))
        except Refused as refused:
            return refused
        return None

    # ---- registration ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def voided_unless_written(self, drawn: list[str]):
        """Around drawing a receipt number and committing it: a number left in ``drawn`` when an error leaves is
        recorded void with the error as the reason, once the connection is back in the pool."""
        try:
            yield
        except BaseException as exc:
            if drawn:
                await self.void_receipt(drawn.pop(), unused_because(exc))
            raise

    async def void_receipt(self, receipt_no: str, reason: str) -> None:
        try:
            async with self.pool.acquire() as conn:
                await store.void_receipt(conn, receipt_no, reason)
        except Exception:  # the caller's error goes on; void_unused_receipts records the number later
            log.exception("receipt number %s unused (%s), not yet recorded void", receipt_no, reason)

    async def void_unused_receipts(self) -> int:
        """Void each number drawn before the previous pass (an hour earlier) that no registration used: one whose
        process stopped between drawing and writing it (every other failure voids its number where it happens)."""
        async with self.pool.acquire() as conn:
            drawn = await store.receipts_drawn(conn)
            voided = 0
            for year, upto in self._drawn_at_last_pass.items():
                voided += await store.void_unused(conn, f"{year}-{self.county_code}-", upto)
        self._drawn_at_last_pass = drawn
        return voided


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
        serial = await self.keyring.store(conn, petition_id, encrypted, year,
                                          self.keyring.blind_indexes_of(people, encrypted))
        return tuple(p for p, _ in encrypted), (self.receipt_no(year, serial) if year else None)

    # ---- reads ----------------------------------------------------------------------

    async def repeats(self, conn: asyncpg.Connection, terminal: Terminal, digests: list[desk.Digest],
                      now: datetime) -> list[desk.Found]:
        """The matters a registration at ``now`` may repeat, logged when there are any (a registration is no way to
        walk the identity numbers: each one stores a matter)."""
        found = await desk.possible_repeats(conn, self.county, terminal.unit_id, digests, now)
        if found:
            await desk.log_lookup(conn, terminal.id, terminal.unit_id, "repeat_check", found, "at registration")
        return found

    async def read(self, terminal: Terminal, petition_id: str) -> tuple[PetitionState, int, list[dict]]:
        """A matter as the terminal may see it, with its decrypted petitioners (404 outside its scope)."""
        try:
            pid = uuid.UUID(petition_id)
        except ValueError:
            raise not_found() from None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT state, version FROM petitions WHERE petition_id = $1", pid)
            if row is None:
                raise not_found()
            state = store.state_from_json(row["state"])
            if not may_see(self.county, terminal.unit_id, state):
                raise not_found()
            people = [dict(r) for r in await conn.fetch(
                "SELECT ref, name, id_number, phone, address FROM petitioners WHERE petition_id = $1 ORDER BY ref", pid)]
            keys = await self.keyring.keys(conn, [p["ref"] for p in people])
        opened = []
        for person in people:
            key = keys.get(person["ref"])
            plain = self.keyring.decrypt(person, key)
            opened.append({"ref": person["ref"], **plain, "erased": key is None})
        return state, row["version"], opened


def unused_because(exc: BaseException) -> str:
    """Why a receipt number drawn was not used, for the auditor."""
    if isinstance(exc, store.KeyInFlight):
        return "同一 Idempotency-Key 的请求正在处理 a request with the same Idempotency-Key was in flight"
    if isinstance(exc, asyncpg.UniqueViolationError):
        return "同一 Idempotency-Key 的请求已先提交 the same Idempotency-Key committed first"
    if isinstance(exc, store.Conflict):
        return "事项被并发修改 a concurrent change came first"
    if isinstance(exc, Refused):
        return f"登记被拒绝 refused: {exc.zh} {exc.en}"
    return f"登记未提交 the registration did not commit: {type(exc).__name__}: {exc}"[:500]

"""The application service: one transaction per command — decide, append, answer, remember the key.

Entry points (HTTP routes, the import CLI) call these methods; they hold no business rules.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
from intake.domain.decide import Importer, decide, numbered, survivor_event
from intake.domain.errors import Refused
from intake.domain.model import PetitionState, evolve
from intake.domain.occurred import check_occurred_at
from intake.keyring import Keyring
from intake.organisation import context, importer, may_see
from xinfang import logs
from xinfang.county.model import County
from xinfang.events import EventData
from xinfang.events.chain import ChainLink
from xinfang.problems import Problem

MAX_ATTEMPTS = 5


def not_found() -> Refused:
    """The one answer for a matter that does not exist and for one outside the caller's scope."""
    return Refused("not_found", "unknown", "事项不存在", "no such matter")

log = logging.getLogger("intake.commands")
# (state, version[, the matters it may repeat: with repeat_check]) → (status, body)
Respond = Callable[..., tuple[int, Any]]


@dataclass(frozen=True)
class Step:
    """One fact of a history decided in order (an import's batches and actions): the command, the unit that acted
    and when, and the part of the request it came from (``actions.2``), which a refusal names.  A live command is
    one step of the terminal's own unit at the request's time."""

    command: c.Command
    unit: str | None = None
    occurred: datetime | None = None
    where: str | None = None
    decided: tuple[EventData, ...] | None = None  # its events, decided already (a registration, before its number)


# (conn, the matter as loaded, its new state, occurred, recorded, actor) → None: the write of a second matter
Then = Callable[[asyncpg.Connection, "store.Loaded", PetitionState, datetime, datetime, str], Awaitable[None]]
# (conn, state, receipt number, petitioners) → the command, or the steps of a history
Make = Callable[[asyncpg.Connection, "PetitionState | None", "str | None", tuple], Awaitable["c.Command | list[Step]"]]


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
        imported: bool = False, receipt_at: datetime | None = None, repeat_check: bool = False,
        then: Then | None = None,
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
        statement that takes the key's lock, so it commits alone: two round trips, same answers.

        ``imported``: make() gives the steps of history the terminal imports, each by the unit that acted then,
        at its checked time; the receipt number is of the year of ``receipt_at`` (the first batch's).

        ``then(conn, loaded, state, when, recorded, actor)``: writes what the command does to another matter, in the
        same transaction, after this matter's write (a merge: the survivor's stream); needs ``make_writes``."""
        logs.petition_id.set(petition_id)
        recorded = datetime.now(timezone.utc)
        encrypted_people = [self.keyring.encrypt_new(person) for person in people or []]
        indexes = self.keyring.blind_indexes_of(people or [], encrypted_people)
        year = await self.receipt_year(receipt_at or recorded) if receipt else None
        # the time checks and a registration's decision come before a receipt number is drawn (a refused one
        # draws none); either refusal is raised only after the Idempotency-Key was read, so a retry still gets
        # the first answer, even days later
        first: Step | None = None  # a live registration decided before its number: not decided again with it
        try:
            when, refusal = check_occurred_at(self.county, occurred, recorded), None
        except Refused as refused:
            when, refusal = recorded, refused
        if refusal is None and year:
            refusal, first = await self._refusal(terminal, make, roles or terminal.roles, when, year,
                                                 tuple(p for p, _ in encrypted_people), imported)
        for _ in range(MAX_ATTEMPTS):
            drawn: list[str] = []
            try:
                async with self.voided_unless_written(drawn), self.pool.acquire() as conn:
                    async with (conn.transaction() if make_writes else contextlib.nullcontext()):
                        loaded, stored, serial, candidates = await self._begin(
                            conn, petition_id, idem, year if refusal is None else None, lock=make_writes,
                            digests=[(kind, digest) for kind, digest, _ in indexes] if repeat_check else [])
                        if stored is not None:
                            return Answer(stored.status, stored.body)  # a retry is answered as first, even days later
                        if refusal is not None:
                            raise refusal
                        if loaded.state is not None and not imported and \
                                not may_see(self.county, terminal.unit_id, loaded.state):
                            raise not_found()  # as for a matter that does not exist: it tells nothing of the others
                        receipt_no = self.receipt_no(year, serial) if year and serial else None
                        drawn.extend([receipt_no] if receipt_no else [])
                        if first is not None and loaded.state is None and receipt_no:
                            made = [Step(first.command, decided=numbered(first.decided or (), receipt_no))]
                        else:
                            made = await make(conn, loaded.state, receipt_no, tuple(p for p, _ in encrypted_people))
                        state, chained = self.decided(terminal, roles or terminal.roles, loaded, petition_id, made,
                                                      when, recorded, actor or f"terminal:{terminal.id}", imported)
                        if repeat_check:  # the matters found go to the answer (respond's third argument)
                            status, body = respond(state, loaded.version + 1, await self.repeats(
                                conn, terminal, candidates, when))
                        else:
                            status, body = respond(state, loaded.version + 1)
                        answer = Answer(status, dumps(body))
                        record = (idem.terminal_id, idem.key, idem.fingerprint, answer.status, answer.body) if idem else None
                        await store.write(conn, loaded, state, chained, recorded=recorded,
                                          idempotency=record, people=encrypted_people, cipher_alg=self.keyring.alg,
                                          notify=self.committed is None, indexes=indexes,
                                          lock_id=idem.lock_id if idem and not make_writes else None)
                        if then is not None:
                            await then(conn, loaded, state, when, recorded, actor or f"terminal:{terminal.id}")
                    drawn.clear()  # committed with the matter
                if self.committed is not None:
                    self.committed()
                if log.isEnabledFor(logging.INFO):  # its arguments are not built for nothing
                    log.info("%s: %s", "import" if imported else type(first.command if first else made).__name__,
                             ", ".join(e.type for e in chained),
                             extra={"terminal": terminal.id, "status": state.status, "seq": state.seq})
                return answer
            except store.Exists:  # imported before under another id: the external id is the matter's
                raise Refused("state", "exists", "该外部编号的事项已导入", "a matter with this external_id was imported "
                              "before", "external_id") from None
            except store.KeyInFlight:
                raise idempotency.in_flight() from None
            except (store.Conflict, asyncpg.DeadlockDetectedError):
                continue  # another command won the race (two merges of a pair, crosswise): decide on the new state
            except asyncpg.UniqueViolationError:
                continue  # the same Idempotency-Key committed meanwhile: the next attempt replays its answer
        raise Problem(409, "conflict", "事项正被同时修改，请重试", "the matter is being changed concurrently; retry")

    async def _begin(self, conn: asyncpg.Connection, petition_id: str, idem: idempotency.IdempotencyKey | None,
                     receipt_year: int | None, lock: bool = True, digests: list[desk.Digest] | None = None,
                     ) -> tuple[store.Loaded, idempotency.Stored | None, int | None, list[desk.Found]]:
        """One round trip: the key's stored answer (and, with ``lock``, its transaction lock), the matter as it
        stands, a receipt serial, and the candidate repeats of the people with these ``digests``
        (``desk.candidates_column``: in the same round trip, not a statement of their own)."""
        # a number only where the command will be decided, not for a replayed answer or a key in flight
        # (nor for a matter already stored: an imported one imported again)
        serial = (f"CASE WHEN k.request_hash IS NULL AND l.locked AND p.petition_id IS NULL "
                  f"THEN nextval('receipt_{receipt_year:04d}') END"
                  if receipt_year else "NULL::bigint")
        candidates = desk.candidates_column("$5", "$6") if digests else "NULL::json"
        row = await conn.fetchrow(
            f"""SELECT l.locked, k.request_hash, k.status, k.body, p.state, p.version, p.head_hash, {serial} AS serial,
                      {candidates} AS candidates
               FROM (SELECT CASE WHEN $1::bigint IS NULL THEN true ELSE pg_try_advisory_xact_lock($1) END AS locked) l
               LEFT JOIN idempotency_keys k ON k.terminal_id = $2 AND k.key = $3
               LEFT JOIN petitions p ON p.petition_id = $4""",
            idem.lock_id if idem and lock else None, idem.terminal_id if idem else None, idem.key if idem else None,
            uuid.UUID(petition_id), *([[k for k, _ in digests], [d for _, d in digests]] if digests else []))
        if idem is not None:
            stored = idempotency.check(row["locked"], row["request_hash"], row["status"], row["body"], idem)
            if stored is not None:
                return store.Loaded(None), stored, None, []
        return store.loaded_from(row), None, row["serial"], desk.candidates(row["candidates"])

    def decided(self, terminal: Terminal, roles: frozenset[str], loaded: store.Loaded, petition_id: str,
                made: c.Command | list[Step], when: datetime, recorded: datetime, actor: str | None,
                imported: bool = False) -> tuple[PetitionState, list]:
        """Decide each step on the matter as the steps before it left it, and chain its events (``actor`` None:
        decide only, nothing chained — the state then folded by ``evolve`` alone).  The one place commands are
        decided: live commands and imported history alike, each with the context of its unit and time."""
        steps = made if isinstance(made, list) else [Step(made)]
        by = importer(self.county, terminal.unit_id) if imported else None
        state, head, chained = loaded.state, loaded.head, []
        for step in steps:
            at = step.occurred or when
            try:
                produced = list(step.decided) if step.decided is not None else \
                    self.decision(state, step.command, step.unit or terminal.unit_id, roles, at, by)
            except Refused as refused:
                raise refused if step.where is None else refused.within(step.where) from None
            if actor is None:
                for data in produced:
                    state = evolve(state, data, at, (state.seq if state else 0) + 1)
                continue
            state, events = store.chain_events(store.Loaded(state, loaded.version, head), petition_id, produced,
                                               occurred=at, recorded=recorded, actor=actor, source=self.source,
                                               hashalg=self.hashalg)
            head, chained = ChainLink(state.seq, events[-1].hash), chained + events
        assert state is not None
        return state, chained

    def decision(self, state: PetitionState | None, command: c.Command, unit: str, roles: frozenset[str],
                 at: datetime, by: Importer | None) -> list[EventData]:
        """One command decided on a matter as it stands, by ``unit`` at ``at`` (``by``: in an import)."""
        return decide(state, command, context(self.county, unit, roles, at, state.holder_tier if state else None, by))

    async def _refusal(self, terminal: Terminal, make: Make, roles: frozenset[str], occurred: datetime, year: int,
                       people: tuple, imported: bool) -> tuple[Refused | None, Step | None]:
        """A registration (or an imported history) decided before its number is drawn (decide is pure and the
        matter new, so the decision made again with the number is the same): a refused one draws none.  Raised
        only after the Idempotency-Key was read, so a retry still gets the first answer.  A live registration
        comes back decided (``Step.decided``), its events then numbered with the number drawn, not decided again
        (``decide.numbered``); a history is decided again with its number."""
        made = await make(None, None, self.receipt_no(year, 0), people)  # type: ignore[arg-type]
        try:
            if isinstance(made, list):
                self.decided(terminal, roles, store.Loaded(None), "", made, occurred, occurred, None, imported)
                return None, None
            by = importer(self.county, terminal.unit_id) if imported else None
            return None, Step(made, decided=tuple(self.decision(None, made, terminal.unit_id, roles, occurred, by)))
        except Refused as refused:
            return refused, None

    # ---- 并单: a command on two matters ------------------------------------------------

    async def merge(self, terminal: Terminal, petition_id: str, command: c.Merge | c.Unmerge, respond: Respond, *,
                    occurred: datetime | None, idem: idempotency.IdempotencyKey | None) -> Answer:
        """Merge a matter into the one it repeats, or undo it: the merged matter's event and the survivor's
        (``petition.merge_received.v1`` / ``merge_undone.v1``) in one transaction, each on its own stream and
        hash chain.  The survivor's row is locked while the merged one is decided; out of the caller's sight it
        is decided as no such matter."""
        survivor: dict[str, store.Loaded] = {}

        async def make(conn, state, _receipt_no, _people) -> c.Command:
            into = command.into if isinstance(command, c.Merge) else state.merged_into if state else None
            try:
                loaded = await store.load(conn, into, lock=True) if into else store.Loaded(None)
            except ValueError:  # not a petition id
                loaded = store.Loaded(None)
            if loaded.state is not None and not may_see(self.county, terminal.unit_id, loaded.state):
                loaded = store.Loaded(None)
            survivor["loaded"] = loaded
            return dataclasses.replace(command, survivor=loaded.state)

        async def then(conn, loaded, state, when, recorded, actor) -> None:
            other = survivor["loaded"]
            assert loaded.state is not None and other.state is not None
            produced = [survivor_event(loaded.state, state.merged_into is None, terminal.unit_id)]
            after, events = store.chain_events(other, other.state.petition_id, produced, occurred=when,
                                               recorded=recorded, actor=actor, source=self.source,
                                               hashalg=self.hashalg)
            await store.write(conn, other, after, events, recorded=recorded, notify=self.committed is None)

        return await self.execute(terminal, petition_id, make, respond, occurred=occurred, idem=idem, then=then)

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

    # ---- reads ----------------------------------------------------------------------

    async def repeats(self, conn: asyncpg.Connection, terminal: Terminal, candidates: list[desk.Found],
                      now: datetime) -> list[desk.Found]:
        """Of the candidates read with the matter, those a registration at ``now`` may repeat, logged when there
        are any (a registration is no way to walk the identity numbers: each one stores a matter)."""
        found = desk.offered(self.county, terminal.unit_id, candidates, now)
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

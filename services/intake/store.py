"""The event store: append a matter's events, its outbox rows and its write model in one transaction.

Optimistic concurrency: a command decides on the version it read; the append inserts
``(petition_id, seq)`` rows and updates the row ``WHERE version = read version``.  A second
command that decided on the same version fails with :class:`Conflict` and is retried by the caller.
"""
from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from intake.domain.model import PetitionState, apply_routing, evolve
from intake.keyring import IndexRow, index_columns
from xinfang.events import CloudEvent, EventData, event_type_of
from xinfang.events.chain import ChainLink

NOTIFY_CHANNEL = "intake_outbox"
#: The layout of the state JSON this code writes, its ``"layout"`` key (a row without one is layout 1).  A field
#: added or dropped needs no new layout: the reader ignores fields it does not know and gives missing ones their
#: defaults (``python -m intake.rebuild`` then folds the new field's value from the events).  A field whose
#: meaning changes raises the layout, so that older code refuses the rows instead of misreading them.
#: Layout 2: each due is ``[stage, due_at, calendar_assumed]`` (layout 1: ``[stage, due_at]``, read as not assumed).
LAYOUT = 2
_LAYOUT_HEAD = b'{"layout":%d,' % LAYOUT
_FIELDS = frozenset(f.name for f in dataclasses.fields(PetitionState))
_TIMES = {"registered_at", "assigned_at", "answered_at", "answer_delivered_at", "last_fact_at"}
_TUPLES = ("petitioner_refs", "erased_refs", "holdings", "told", "merged_in")  # and "due", "premerge_due" (dues())
log = logging.getLogger("intake.store")


class Conflict(Exception):
    """Another command changed the matter after this one read it."""


class Exists(Exception):
    """A matter with the same external id is already stored (imported history, idempotent per external id)."""


class NewerLayout(ValueError):
    """A matter's stored state was written by newer code, in a layout this code does not know."""


def state_to_json(state: PetitionState) -> bytes:
    # orjson writes a dataclass as asdict() would, 40 times faster; the layout goes before the fields
    return _LAYOUT_HEAD + orjson.dumps(state)[1:]


def state_from_json(raw: str | bytes) -> PetitionState:
    data = orjson.loads(raw)
    layout = data.pop("layout", 1)
    if layout > LAYOUT:
        raise NewerLayout(f"事项状态由较新版本的程序写入（格式 {layout}，本程序只认识到 {LAYOUT}），请运行新版本 intake "
                          f"the stored state was written by newer code (layout {layout}; this code knows up to "
                          f"{LAYOUT}): run the newer intake")
    for key in _TIMES:
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    for key in _TUPLES:
        if key in data:
            data[key] = tuple(tuple(x) if isinstance(x, list) else x for x in data[key])
    for key in ("due", "premerge_due"):
        if key in data:
            data[key] = dues(data[key])
    try:
        return PetitionState(**data)
    except TypeError:  # checked only when it fails: a subset test on every read costs a twentieth of it
        unknown = data.keys() - _FIELDS
        if not unknown:
            raise  # a field without a default is missing: not a state
    # written by newer code that added a field: not ours to interpret
    log.debug("state fields unknown to this code ignored: %s", ", ".join(sorted(unknown)))
    return PetitionState(**{key: value for key, value in data.items() if key in _FIELDS})


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A matter as read for a command: its state, version and chain head."""

    state: PetitionState | None
    version: int = 0
    head: ChainLink = ChainLink()


def loaded_from(row) -> Loaded:
    if row is None or row["state"] is None:
        return Loaded(None)
    state = state_from_json(row["state"])
    return Loaded(state, row["version"], ChainLink(state.seq, row["head_hash"]))


async def load(conn: asyncpg.Connection, petition_id: str, lock: bool = False) -> Loaded:
    """A matter as it stands (``lock``: its row locked until the transaction ends)."""
    return loaded_from(await conn.fetchrow(
        "SELECT state, version, head_hash FROM petitions WHERE petition_id = $1" + (" FOR UPDATE" if lock else ""),
        uuid.UUID(petition_id)))


def dues(stored: Any) -> tuple[tuple[str, str, bool], ...]:
    """Stored dues as the state holds them, ``(stage, due_at, calendar_assumed)``; one stored before the flag
    (layout 1, two items) was not counted over an assumed year."""
    return tuple((item[0], item[1], bool(item[2]) if len(item) > 2 else False) for item in stored)


def soonest(due: tuple[tuple[str, str, bool], ...]) -> tuple[datetime, bool] | None:
    """The soonest open due's time and whether it was counted over an assumed year; None when nothing is due."""
    times = [(datetime.fromisoformat(at.replace("Z", "+00:00")), assumed) for _, at, assumed in due]
    return min(times, key=lambda t: t[0]) if times else None


def next_due_at(state: PetitionState) -> datetime | None:
    if state.suspended:
        return None  # paused (暂停): nothing is due while the clock stands still
    first = soonest(state.due)
    return first[0] if first else None


def chain_events(
    loaded: Loaded, petition_id: str, produced: list[EventData], *, occurred: datetime, recorded: datetime,
    actor: str, source: str, hashalg: str,
) -> tuple[PetitionState, list[CloudEvent]]:
    """The matter's new state and its new events, appended to its hash chain (no I/O)."""
    state, head, chained = loaded.state, loaded.head, []
    for data in produced:
        seq, prevhash = head.next()
        event = CloudEvent.chained(
            event_id=str(uuid.uuid4()), source=source, type=event_type_of(data), subject=petition_id,
            recorded=recorded, occurred=occurred, actor=actor, seq=seq, prevhash=prevhash,
            data=data.model_dump(mode="json"), hashalg=hashalg,
        )
        state = evolve(state, data, occurred, seq, petition_id)
        head = ChainLink(seq, event.hash)
        chained.append(event)
    assert state is not None
    # built with its id (a registration's) or read back with it: replaced only where a caller folded without it
    return (state if state.petition_id == petition_id else dataclasses.replace(state, petition_id=petition_id)), chained


# One statement writes a command: the write model first (``pt``: the new row, or the update guarded by the version
# the command decided on), and only if that row was written the events, their outbox rows, the Idempotency-Key
# record and the petitioners (each reads ``pt``, so a lost race writes nothing even outside a transaction).
# ``l`` takes the Idempotency-Key's transaction lock when the caller did not already hold it ($31 / $27 NULL:
# held or no key); not getting it writes nothing and answers ``locked`` false.
_LOCK = """l AS (SELECT CASE WHEN ${n}::bigint IS NULL THEN true ELSE pg_try_advisory_xact_lock(${n}) END AS locked)"""
_EVENTS = """ev AS (
    INSERT INTO events (event_id, petition_id, seq, type, occurred_at, recorded_at, body)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::bytea[])
    WHERE EXISTS (SELECT FROM pt)
    RETURNING position, event_id, petition_id, body),
  ob AS (INSERT INTO outbox (position, event_id, petition_id, body) SELECT position, event_id, petition_id, body FROM ev),
  idem AS (INSERT INTO idempotency_keys (terminal_id, key, request_hash, status, body)
           SELECT $8::text, $9::text, $10::bytea, $11::int, $12::bytea WHERE $8::text IS NOT NULL AND EXISTS (SELECT FROM pt)),
  keys AS (INSERT INTO petitioner_keys (ref, alg, wrapped)
           SELECT r, $13::text, w FROM unnest($14::text[], $15::bytea[]) AS t(r, w) WHERE EXISTS (SELECT FROM pt)),
  people AS (INSERT INTO petitioners (petition_id, ref, name, id_number, phone, address)
             SELECT $2[1], * FROM unnest($14::text[], $16::text[], $17::text[], $18::text[], $19::text[])
             WHERE EXISTS (SELECT FROM pt))"""
# the blind indexes of new petitioners (intake.keyring), $n.. $n+2 after the statement's own parameters
_INDEXES = """bi AS (INSERT INTO blind_indexes (kind, digest, ref, petition_id)
         SELECT *, ($2::uuid[])[1] FROM unnest(${n}::text[], ${m}::bytea[], ${o}::text[]) WHERE EXISTS (SELECT FROM pt))"""
_INSERT = f"""WITH {_LOCK.format(n=31)},
  pt AS (INSERT INTO petitions (petition_id, receipt_no, external_id, jurisdiction, category, status, holder_unit,
             accused_unit, registered_unit, next_due_at, head_hash, version, state)
         SELECT ($2::uuid[])[1], $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, 1, $30::jsonb WHERE (SELECT locked FROM l)
         RETURNING 1),
  {_EVENTS},
  {_INDEXES.format(n=32, m=33, o=34)}
SELECT (SELECT count(*) FROM pt) AS saved, (SELECT locked FROM l) AS locked"""
_UPDATE = f"""WITH {_LOCK.format(n=27)},
  pt AS (UPDATE petitions SET status = $20, holder_unit = $21, next_due_at = $22, head_hash = $23, state = $24::jsonb,
             category = $25, version = version + 1, updated_at = now()
         WHERE petition_id = ($2::uuid[])[1] AND version = $26 AND (SELECT locked FROM l) RETURNING 1),
  {_EVENTS},
  {_INDEXES.format(n=28, m=29, o=30)}
SELECT (SELECT count(*) FROM pt) AS saved, (SELECT locked FROM l) AS locked"""
# With the relay's wake-up in the transaction (a service with no OutboxBell to ring).  Commands of the app
# leave it out and ring the OutboxBell after their commit: transactions that NOTIFY commit one after another.
_NOTIFY = f", pg_notify('{NOTIFY_CHANNEL}', '')"
_STATEMENTS = {(True, False): _INSERT, (False, False): _UPDATE,
               (True, True): _INSERT + _NOTIFY, (False, True): _UPDATE + _NOTIFY}


def write_statement(new_matter: bool, notify: bool = False) -> str:
    """The statement write() sends (bench/lookup_bench.py replays it in pgbench)."""
    return _STATEMENTS[new_matter, notify]


class KeyInFlight(Exception):
    """The Idempotency-Key's lock is held: a request with the same key is being processed."""


async def write(conn: asyncpg.Connection, loaded: Loaded, state: PetitionState, chained: list[CloudEvent], *,
                recorded: datetime,
                idempotency: tuple[str, str, bytes, int, bytes] | None = None,
                people: list | None = None, cipher_alg: str = "aes-gcm", notify: bool = True,
                lock_id: int | None = None, indexes: Iterable[IndexRow] = ()) -> None:
    """Events, outbox rows, the write model, the Idempotency-Key record, new petitioners with their blind indexes
    and (``notify``) the relay's wake-up: one statement, one round trip; outside a transaction it is one by itself
    (each event at its own occurred time: a history of several facts is one write).  ``lock_id``: take the
    Idempotency-Key's transaction lock in the same statement (:class:`KeyInFlight` if another holds it).
    Raises :class:`Conflict` if another command got there first; nothing is written then."""
    pid = uuid.UUID(state.petition_id)
    n = len(chained)
    events = ([uuid.UUID(e.id) for e in chained], [pid] * n, [e.seq for e in chained], [e.type for e in chained],
              [e.occurred_at for e in chained], [recorded] * n, [e.to_json() for e in chained])
    idem = idempotency or (None, None, None, None, None)
    encrypted_people = [p for p, _ in people or []]
    persons = (cipher_alg, [p.ref for p in encrypted_people], [w for _, w in people or []], [p.name for p in encrypted_people],
               [p.id_number for p in encrypted_people], [p.phone for p in encrypted_people],
               [p.address for p in encrypted_people])
    head_hash, state_json, next_due = chained[-1].hash, state_to_json(state).decode(), next_due_at(state)
    try:
        if loaded.state is None:
            row = await conn.fetchrow(_STATEMENTS[True, notify], *events, *idem, *persons, state.receipt_no,
                                      state.external_id, state.jurisdiction, state.category, state.status,
                                      state.holder_unit, state.accused_unit, state.registered_unit, next_due, head_hash,
                                      state_json, lock_id, *index_columns(indexes))
        else:
            row = await conn.fetchrow(_STATEMENTS[False, notify], *events, *idem, *persons, state.status,
                                      state.holder_unit, next_due, head_hash, state_json, state.category, loaded.version,
                                      lock_id, *index_columns(indexes))
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name and "idempotency" in exc.constraint_name:
            raise
        if exc.constraint_name and "external_id" in exc.constraint_name:
            raise Exists(state.external_id) from exc
        raise Conflict(str(exc)) from exc
    if not row["locked"]:
        raise KeyInFlight()
    if row["saved"] != 1:
        raise Conflict("事项已被并发修改 the matter changed concurrently")


async def apply_routing_event(conn: asyncpg.Connection, pid: uuid.UUID, event: CloudEvent, data: EventData) -> bool:
    """Fold one of escalation's routing facts about matter ``pid`` into the write model, and keep it beside intake's
    own events, after the one the state had reached (the rebuild folds it there again); False if already applied."""
    row = await conn.fetchrow(
        "SELECT state, version, routing_seq FROM petitions WHERE petition_id = $1 FOR UPDATE", pid)
    if row is None or event.seq <= row["routing_seq"]:
        return False
    before = state_from_json(row["state"])
    state = apply_routing(before, data, event.occurred_at, event.id)
    await conn.execute(
        """WITH kept AS (INSERT INTO routing_events (petition_id, seq, after_seq, body) VALUES ($1, $6, $7, $8))
           UPDATE petitions SET status = $2, holder_unit = $3, next_due_at = $4, state = $5::jsonb,
               routing_seq = $6, version = version + 1, updated_at = now()
           WHERE petition_id = $1""",
        pid, state.status, state.holder_unit, next_due_at(state), state_to_json(state).decode(), event.seq,
        before.seq, event.to_json())
    return True


def query_columns(state: PetitionState, head_hash: str) -> dict[str, Any]:
    """The write model's columns beside the state that change with it (the rebuild compares and rewrites them)."""
    return {"status": state.status, "holder_unit": state.holder_unit, "next_due_at": next_due_at(state),
            "category": state.category, "head_hash": head_hash}


async def replace_state(conn: asyncpg.Connection, state: PetitionState, head_hash: str) -> None:
    """Write a matter's state folded again from its events (``intake.rebuild``), under the row lock the caller
    holds; the version goes up, so a command that decided on the state before fails its guard and decides again."""
    columns = query_columns(state, head_hash)
    await conn.execute(
        """UPDATE petitions SET status = $2, holder_unit = $3, next_due_at = $4, category = $5, head_hash = $6,
               state = $7::jsonb, version = version + 1, updated_at = now()
           WHERE petition_id = $1""",
        uuid.UUID(state.petition_id), *columns.values(), state_to_json(state).decode())


def row_to_state(row: Any) -> PetitionState:
    return state_from_json(row["state"])


# ---- receipt numbers: every number drawn is a matter's or recorded void ----------------------------------------

async def void_receipt(conn: asyncpg.Connection, receipt_no: str, reason: str) -> None:
    """Record a drawn number as void — unless a committed registration holds it after all."""
    await conn.execute("""INSERT INTO receipt_voids (receipt_no, reason) SELECT $1, $2
                          WHERE NOT EXISTS (SELECT FROM petitions WHERE receipt_no = $1) ON CONFLICT DO NOTHING""",
                       receipt_no, reason[:500])


async def receipts_drawn(conn: asyncpg.Connection) -> dict[int, int]:
    """The last serial drawn of each year's series."""
    rows = await conn.fetch("""SELECT sequencename, last_value FROM pg_sequences
                               WHERE schemaname = current_schema() AND sequencename ~ '^receipt_[0-9]{4}$'
                                 AND last_value IS NOT NULL""")
    return {int(r["sequencename"][len("receipt_"):]): r["last_value"] for r in rows}


async def void_unused(conn: asyncpg.Connection, prefix: str, upto: int,
                      reason: str = "已分配但登记未提交（进程中断） drawn, but its registration never committed "
                                    "(the process stopped)") -> int:
    """Void every serial of ``prefix`` (``2026-361402-``) up to ``upto`` that neither a matter nor a void holds."""
    done = await conn.execute(
        """INSERT INTO receipt_voids (receipt_no, reason)
           SELECT n, $3 FROM (SELECT $1 || lpad(g::text, greatest(7, length(g::text)), '0') AS n
                              FROM generate_series(1, $2::bigint) AS g) AS s
           WHERE NOT EXISTS (SELECT FROM petitions p WHERE p.receipt_no = s.n)
           ON CONFLICT DO NOTHING""", prefix, upto, reason)
    return int(done.split()[-1])

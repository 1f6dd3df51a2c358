"""The event store: append a matter's events, its outbox rows and its write model in one transaction.

Optimistic concurrency: a command decides on the version it read; the append inserts
``(petition_id, seq)`` rows and updates the row ``WHERE version = read version``.  A second
command that decided on the same version fails with :class:`Conflict` and is retried by the caller.
"""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from xinfang.events import CloudEvent, EventData, event_type_of
from xinfang.events.chain import ChainLink

from intake.domain.model import PetitionState, apply_routing, evolve

NOTIFY_CHANNEL = "intake_outbox"
_TIMES = {"registered_at", "assigned_at", "answered_at"}


class Conflict(Exception):
    """Another command changed the matter after this one read it."""


def state_to_json(state: PetitionState) -> bytes:
    return orjson.dumps(dataclasses.asdict(state))


def state_from_json(raw: str | bytes) -> PetitionState:
    data = orjson.loads(raw)
    for key in _TIMES:
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    for key in ("due", "petitioner_refs", "erased_refs"):
        data[key] = tuple(tuple(x) if isinstance(x, list) else x for x in data[key])
    return PetitionState(**data)


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A matter as read for a command: its state, version and chain head."""

    state: PetitionState | None
    version: int = 0
    head: ChainLink = ChainLink()


async def load(conn: asyncpg.Connection, petition_id: str) -> Loaded:
    row = await conn.fetchrow(
        "SELECT state, version, head_hash FROM petitions WHERE petition_id = $1", uuid.UUID(petition_id))
    if row is None:
        return Loaded(None)
    state = state_from_json(row["state"])
    return Loaded(state, row["version"], ChainLink(state.seq, row["head_hash"]))


def _next_due(state: PetitionState) -> datetime | None:
    dues = [datetime.fromisoformat(at.replace("Z", "+00:00")) for _, at in state.due]
    return min(dues) if dues else None


async def append(
    conn: asyncpg.Connection,
    loaded: Loaded,
    petition_id: str,
    produced: list[EventData],
    *,
    occurred: datetime,
    recorded: datetime,
    actor: str,
    source: str,
    hashalg: str,
) -> tuple[PetitionState, list[CloudEvent]]:
    """Seal and store ``produced`` after ``loaded``; raises :class:`Conflict` on a lost race."""
    state, head, sealed = loaded.state, loaded.head, []
    for data in produced:
        seq, prevhash = head.next()
        event = CloudEvent.seal(
            event_id=str(uuid.uuid4()), source=source, type=event_type_of(data), subject=petition_id,
            recorded=recorded, occurred=occurred, actor=actor, seq=seq, prevhash=prevhash,
            data=data.model_dump(mode="json"), hashalg=hashalg,
        )
        state = evolve(state, data, occurred, seq)
        head = ChainLink(seq, event.hash)
        sealed.append(event)
    assert state is not None
    state = dataclasses.replace(state, petition_id=petition_id)
    pid = uuid.UUID(petition_id)
    try:
        rows = await conn.fetch(
            """INSERT INTO events (event_id, petition_id, seq, type, occurred_at, recorded_at, body)
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[],
                                    $6::timestamptz[], $7::bytea[])
               RETURNING position, event_id""",
            [uuid.UUID(e.id) for e in sealed], [pid] * len(sealed), [e.seq for e in sealed],
            [e.type for e in sealed], [occurred] * len(sealed), [recorded] * len(sealed),
            [e.to_json() for e in sealed])
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(str(exc)) from exc
    positions = {row["event_id"]: row["position"] for row in rows}
    await conn.execute(
        """INSERT INTO outbox (position, event_id, petition_id, body)
           SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::bytea[])""",
        [positions[uuid.UUID(e.id)] for e in sealed], [uuid.UUID(e.id) for e in sealed],
        [pid] * len(sealed), [e.to_json() for e in sealed])
    await _save_state(conn, loaded, pid, state, head.hash)
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    return state, sealed


async def _save_state(conn: asyncpg.Connection, loaded: Loaded, pid: uuid.UUID,
                      state: PetitionState, head_hash: str) -> None:
    values = (state.status, state.holder_unit, _next_due(state), head_hash, state_to_json(state).decode())
    if loaded.state is None:
        await conn.execute(
            """INSERT INTO petitions (petition_id, receipt_no, external_id, jurisdiction, category,
                   status, holder_unit, accused_unit, registered_unit, next_due_at, head_hash, version, state)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12::jsonb)""",
            pid, state.receipt_no, state.external_id, state.jurisdiction, state.category, values[0], values[1],
            state.accused_unit, state.registered_unit, values[2], values[3], values[4])
        return
    done = await conn.execute(
        """UPDATE petitions SET status = $2, holder_unit = $3, next_due_at = $4, head_hash = $5,
               state = $6::jsonb, category = $7, version = version + 1, updated_at = now()
           WHERE petition_id = $1 AND version = $8""",
        pid, *values, state.category, loaded.version)
    if done != "UPDATE 1":
        raise Conflict("事项已被并发修改 the matter changed concurrently")


async def apply_routing_event(conn: asyncpg.Connection, event: CloudEvent, data: EventData) -> bool:
    """Fold one of escalation's routing facts into the write model; False if already applied."""
    pid = uuid.UUID(event.subject)
    row = await conn.fetchrow(
        "SELECT state, version, routing_seq FROM petitions WHERE petition_id = $1 FOR UPDATE", pid)
    if row is None or event.seq <= row["routing_seq"]:
        return False
    state = apply_routing(state_from_json(row["state"]), data, event.occurred_at)
    await conn.execute(
        """UPDATE petitions SET status = $2, holder_unit = $3, next_due_at = $4, state = $5::jsonb,
               routing_seq = $6, version = version + 1, updated_at = now()
           WHERE petition_id = $1""",
        pid, state.status, state.holder_unit, _next_due(state), state_to_json(state).decode(), event.seq)
    return True


def row_to_state(row: Any) -> PetitionState:
    return state_from_json(row["state"])

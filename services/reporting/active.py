"""Which schema the reporting service reads and writes: the blue/green pointer.

The configured ``reporting_schema`` is the *name* of a deployment's statistics; the pointer row
``reporting_active(name → schema)`` says which physical schema holds them now.  A rebuild
(``python -m reporting.audit rebuild``) replays the topics into a new schema beside the live one
while the service goes on serving and projecting into the old; when the new one has caught up, the
pointer is switched in one transaction that holds the old schema's offsets locked (the live
projection waits for that moment) and checks that the new schema stands at or beyond them on every
partition.  ``NOTIFY reporting_active`` tells every replica, which then reads from the new schema
and moves its projection there, resuming from the offsets stored in it — no figure is served from
a schema that is behind what was served before, and no event is counted twice or skipped.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from reporting.store import quoted

CHANNEL = "reporting_active"
_TABLE = """CREATE TABLE IF NOT EXISTS public.reporting_active (
    name        text PRIMARY KEY,           -- the configured reporting_schema
    schema      text NOT NULL,              -- the physical schema serving it now
    switched_at timestamptz NOT NULL DEFAULT now(),
    previous    text                        -- the schema it replaced (kept for the auditors; drop by hand)
)"""


async def active_schema(conn: asyncpg.Connection, name: str) -> str:
    """The schema serving ``name`` (``name`` itself until a rebuild switched it)."""
    quoted(name)
    try:
        await conn.execute(_TABLE)
    except (asyncpg.DuplicateTableError, asyncpg.UniqueViolationError):
        pass  # IF NOT EXISTS is not safe against a replica creating the table at the same moment: it exists now
    await conn.execute("INSERT INTO public.reporting_active (name, schema) VALUES ($1, $1) ON CONFLICT DO NOTHING", name)
    return await conn.fetchval("SELECT schema FROM public.reporting_active WHERE name = $1", name)


async def behind(conn: asyncpg.Connection, old: str, new: str) -> int:
    """Records the new schema still lacks against the old one, over the partitions the old one has seen."""
    return await conn.fetchval(
        f"SELECT coalesce(sum(GREATEST(o.next_offset - coalesce(n.next_offset, 0), 0)), 0) FROM {quoted(old)}.offsets o "
        f"LEFT JOIN {quoted(new)}.offsets n ON n.topic = o.topic AND n.partition = o.partition")


async def switch(conn: asyncpg.Connection, name: str, old: str, new: str,
                 catch_up: Callable[[dict[tuple[str, int], int]], Awaitable[object]]) -> int:
    """Point ``name`` at ``new``: with the old schema's offsets locked (the live projection waits),
    ``catch_up(offsets)`` projects into ``new`` what it still lacks up to them; then, if ``new`` stands
    at or beyond ``old`` on every partition, the pointer moves and the replicas are told.  Returns 0
    when switched, else how many records ``new`` is behind (nothing changed)."""
    async with conn.transaction():
        current = await conn.fetchval("SELECT schema FROM public.reporting_active WHERE name = $1 FOR UPDATE", name)
        if current != old:
            raise RuntimeError(f"{name} 已指向 {current}，不是 {old} (another rebuild switched it)")
        rows = await conn.fetch(f"SELECT topic, partition, next_offset FROM {quoted(old)}.offsets FOR UPDATE")
        await catch_up({(r["topic"], r["partition"]): r["next_offset"] for r in rows})
        missing = await behind(conn, old, new)
        if missing:
            return missing
        await conn.execute("UPDATE public.reporting_active SET schema = $2, previous = $3, switched_at = now() "
                           "WHERE name = $1", name, new, old)
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, name)
        return 0

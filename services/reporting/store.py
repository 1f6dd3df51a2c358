"""Writes the projection's changes to PostgreSQL: rows and consumed offsets in one transaction.

Exactly-once effect: inside the transaction the stored offsets of the batch's partitions are
locked (``FOR UPDATE``) and records below them are dropped before projecting, so a batch that a
consumer receives again — after a crash, a rebalance, or from a second consumer that still thinks
it owns the partition — writes nothing twice.  Rows go in with one ``INSERT … SELECT FROM unnest``
per table; an event seen before (same id) is a no-op.  The matters touched are queued for the
recomputation of their current state (:mod:`reporting.state`), which :meth:`Store.refresh` does in
transactions of its own, so the projection's transaction stays small and a matter touched by many
batches is recomputed once.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Awaitable, Callable, Iterable

import asyncpg

from xinfang.migrations import migrate

from reporting.projection import KEYS, TABLES, Changes, Record, Role, Unreadable, project
from reporting.state import INPUTS, refresh_statements

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DeadLetterSink = Callable[[list[Unreadable]], Awaitable[None]]


def quoted(schema: str) -> str:
    if not SCHEMA.match(schema):
        raise ValueError(f"schema name {schema!r} must match {SCHEMA.pattern}")
    return f'"{schema}"'


class Store:
    """The statistics tables of one schema."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.q = quoted(schema)
        self._inserts = {name: self._insert_sql(name, columns) for name, columns in TABLES.items()}
        self._refresh = refresh_statements(self.q)
        self._refresh_key = int.from_bytes(hashlib.sha256(f"reporting.refresh:{schema}".encode()).digest()[:8], "big",
                                           signed=True)

    def _insert_sql(self, name: str, columns: tuple[tuple[str, str], ...]) -> str:
        names = ", ".join(column for column, _ in columns)
        arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(columns, 1))
        return f"INSERT INTO {self.q}.{name} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"

    async def migrate(self, conn: asyncpg.Connection) -> None:
        await migrate(conn, self.schema, MIGRATIONS)

    async def positions(self, conn: asyncpg.Connection, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """The next offset to read of every partition of ``topics`` the tables have seen."""
        rows = await conn.fetch(f"SELECT topic, partition, next_offset FROM {self.q}.offsets WHERE topic = ANY($1::text[])",
                                list(topics))
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def apply(self, conn: asyncpg.Connection, records: list[Record], roles: dict[str, Role],
                    dead_letter: DeadLetterSink | None = None, changes: Changes | None = None) -> Changes:
        """Write the changes of ``records`` (projected here unless the caller did it already, e.g. while
        the previous batch was committing) and their offsets in one transaction; returns what was written."""
        changes = changes if changes is not None else project(records, roles)
        async with conn.transaction():
            stored = await self._lock(conn, {(r.topic, r.partition) for r in records})
            if any(r.offset < stored.get((r.topic, r.partition), 0) for r in records):
                # seen before (a redelivery after a crash or a rebalance): only what is new counts
                changes = project([r for r in records if r.offset >= stored.get((r.topic, r.partition), 0)], roles)
            if changes.unreadable:
                if dead_letter is not None:
                    await dead_letter(changes.unreadable)  # before the commit: at least once on the topic
                await conn.executemany(
                    f'INSERT INTO {self.q}.dead_letters (topic, partition, "offset", reason) VALUES ($1, $2, $3, $4) '
                    "ON CONFLICT DO NOTHING",
                    [(u.record.topic, u.record.partition, u.record.offset, u.reason) for u in changes.unreadable])
            for name, rows in changes.rows.items():
                if rows:
                    await conn.execute(self._inserts[name], *map(list, zip(*rows)))
            queued = [(p, state) for state, inputs in INPUTS.items()
                      for p in set().union(*(changes.touched.get(table, ()) for table in inputs))]
            if queued:
                await conn.execute(f"INSERT INTO {self.q}.refresh_queue (petition_id, state) "
                                   "SELECT * FROM unnest($1::text[], $2::text[])",
                                   [p for p, _ in queued], [s for _, s in queued])
            if changes.positions:
                keys = list(changes.positions)
                await conn.execute(
                    f"INSERT INTO {self.q}.offsets (topic, partition, next_offset) "
                    "SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[]) "
                    "ON CONFLICT (topic, partition) DO UPDATE "
                    "SET next_offset = GREATEST(offsets.next_offset, EXCLUDED.next_offset)",
                    [t for t, _ in keys], [p for _, p in keys], [changes.positions[k] for k in keys])
        return changes

    async def refresh(self, conn: asyncpg.Connection, limit: int = 5000) -> int:
        """Recompute the current state of up to ``limit`` queued matters in one transaction; how many."""
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._refresh_key):
                return 0  # another instance is refreshing this schema
            rows = await conn.fetch(
                f"DELETE FROM {self.q}.refresh_queue q USING (SELECT DISTINCT petition_id FROM {self.q}.refresh_queue "
                f"ORDER BY petition_id LIMIT $1) pick WHERE q.petition_id = pick.petition_id "
                "RETURNING q.petition_id, q.state", limit)
            wanted: dict[str, set[str]] = {}
            for row in rows:
                wanted.setdefault(row["state"], set()).add(row["petition_id"])
            for state, (delete, insert) in self._refresh.items():  # matter_state before batch_state
                if state in wanted:
                    petitions = sorted(wanted[state])
                    await conn.execute(delete, petitions)
                    await conn.execute(insert, petitions)
            return len({row["petition_id"] for row in rows})

    async def refresh_all(self, conn: asyncpg.Connection) -> int:
        """Drain the queue (the replay does this at the end)."""
        total = 0
        while n := await self.refresh(conn, 20000):
            total += n
        return total

    async def queued(self, conn: asyncpg.Connection) -> int:
        return await conn.fetchval(f"SELECT count(*) FROM {self.q}.refresh_queue")

    async def _lock(self, conn: asyncpg.Connection, partitions: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        topics, numbers = [t for t, _ in partitions], [p for _, p in partitions]
        await conn.execute(f"INSERT INTO {self.q}.offsets (topic, partition, next_offset) "
                           "SELECT t, p, 0 FROM unnest($1::text[], $2::integer[]) AS u(t, p) ON CONFLICT DO NOTHING",
                           topics, numbers)
        rows = await conn.fetch(f"SELECT o.topic, o.partition, o.next_offset FROM {self.q}.offsets o "
                                "JOIN unnest($1::text[], $2::integer[]) AS u(t, p) ON o.topic = u.t AND o.partition = u.p "
                                "ORDER BY o.topic, o.partition FOR UPDATE OF o", topics, numbers)
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


#: every table of the projection, facts and current state, in the order a comparison reports them
ALL_TABLES = (*TABLES, "batch_state", "matter_state", "obligation_state", "evaluation_state", "dead_letters", "offsets",
              "refresh_queue")


async def differences(conn: asyncpg.Connection, left: str, right: str) -> dict[str, dict[str, int]]:
    """Per table, how many rows only ``left`` has and how many only ``right`` has (empty: equal)."""
    found: dict[str, dict[str, int]] = {}
    for name in ALL_TABLES:
        columns = "petition_id, state" if name == "refresh_queue" else "*"
        a, b = f"SELECT {columns} FROM {quoted(left)}.{name}", f"SELECT {columns} FROM {quoted(right)}.{name}"
        only_left = await conn.fetchval(f"SELECT count(*) FROM ({a} EXCEPT ALL {b}) d")
        only_right = await conn.fetchval(f"SELECT count(*) FROM ({b} EXCEPT ALL {a}) d")
        if only_left or only_right:
            found[name] = {"only_" + left: only_left, "only_" + right: only_right}
    return found


__all__ = ["ALL_TABLES", "KEYS", "Store", "differences", "quoted"]

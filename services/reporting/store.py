"""Writes the projection's changes to PostgreSQL: rows and consumed offsets in one transaction.

Exactly-once effect: inside the transaction the stored offsets of the batch's partitions are
locked (``FOR UPDATE``) and records below them are dropped before projecting, so a batch that a
consumer receives again — after a crash, a rebalance, or from a second consumer that still thinks
it owns the partition — writes nothing twice.  Rows go in with COPY, one per table; if the
tables hold one of the events already (published twice, at two offsets) the batch's rows go in
again with ``INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING``: an event seen before is a no-op.  The matters
touched are queued for the
recomputation of their current state (:mod:`reporting.state`), which :meth:`Store.refresh` does in
transactions of its own, so the projection's transaction stays small and a matter touched by many
batches is recomputed once.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from reporting import rollups
from reporting.projection import KEYS, TABLES, Changes, Record, Role, Unreadable, project
from reporting.state import INPUTS, bulk_statements, refresh_statements
from xinfang.migrations import migrate

MIGRATIONS = Path(__file__).parent / "migrations"
LOADING = "xinfang: bulk load in progress"
BULK_WORK_MEM = "256MB"  # the bulk load's whole-table state statements: hashes and sorts in memory
BULK_MAINTENANCE_WORK_MEM = "512MB"  # and its key and index builds: sorted in memory, not in runs on disk
SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DeadLetterSink = Callable[[list[Unreadable]], Awaitable[None]]


#: Every connection of reporting runs with these.  JIT off: the projection's and the figures' queries
#: are short index-driven statements whose cost estimates still cross jit_above_cost, and compiling
#: them took 0.5 s a statement here — more than running them.  Custom plans: the figures' queries
#: have optional filters ($n IS NULL OR …) that a generic plan cannot prune, and planning is cheap.
SERVER_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection to the reporting database (the projection, the replay, the audit)."""
    return await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS)


async def pool(dsn: str, *, min_size: int = 1, max_size: int = 4) -> asyncpg.Pool:
    """A pool of such connections (the API, the audit's comparisons)."""
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, server_settings=SERVER_SETTINGS)


def quoted(schema: str) -> str:
    if not SCHEMA.match(schema):
        raise ValueError(f"schema name {schema!r} must match {SCHEMA.pattern}")
    return f'"{schema}"'


@dataclass
class BulkKeys:
    """The keys and indexes a bulk load dropped: (table, name, definition) and (name, CREATE INDEX …)."""

    constraints: list[tuple[str, str, str]]  # (schema-qualified table, name, definition)
    indexes: list[tuple[str, str, str]]  # (table, name, CREATE INDEX …)


class FirstSeen:
    """Drops the rows whose key a table already has, as ``ON CONFLICT DO NOTHING`` does (bulk loads)."""

    def __init__(self) -> None:
        self.seen: dict[str, set] = {name: set() for name in TABLES}
        self._key = {name: [i for i, (column, _) in enumerate(columns) if column in KEYS.get(name, ("event_id",))]
                     for name, columns in TABLES.items()}

    def __call__(self, changes: Changes) -> Changes:
        for name, rows in changes.rows.items():
            seen, key, kept = self.seen[name], self._key[name], []
            for row in rows:
                k = row[key[0]] if len(key) == 1 else tuple(row[i] for i in key)
                if k not in seen:
                    seen.add(k)
                    kept.append(row)
            changes.rows[name] = kept
        return changes


#: state tables a migration added to schemas that had matters (0010): filled from the facts at the first start
ADDED_STATES = ("holding_state", "breach_state")


class Store:
    """The statistics tables of one schema."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.q = quoted(schema)
        self._inserts = {name: self._insert_sql(name, columns) for name, columns in TABLES.items()}
        self._refresh = refresh_statements(self.q)
        self._bulk_states = bulk_statements(self.q)
        self.timings: dict[str, float] = {}  # of the last end_bulk
        self._refresh_key = int.from_bytes(hashlib.sha256(f"reporting.refresh:{schema}".encode()).digest()[:8], "big",
                                           signed=True)

    def _insert_sql(self, name: str, columns: tuple[tuple[str, str], ...]) -> str:
        names = ", ".join(column for column, _ in columns)
        arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(columns, 1))
        return f"INSERT INTO {self.q}.{name} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"

    async def migrate(self, conn: asyncpg.Connection) -> None:
        """The pending migrations, then the roll-ups' triggers (:mod:`reporting.rollups`, their sums written there
        once), a state table added by a migration filled from the facts (the first start after 0010), and the
        roll-ups filled if the state tables have rows they do not (the first start after 0009 and 0010)."""
        await migrate(conn, self.schema, MIGRATIONS)
        async with conn.transaction():
            # self-conflicting: replicas starting together install one after the other (SHARE would deadlock them)
            await conn.execute(f"LOCK TABLE {self.q}.batch_state, {self.q}.obligation_state IN SHARE ROW EXCLUSIVE MODE")
            for statement in rollups.install(self.q):
                await conn.execute(statement)
            for name in ADDED_STATES:
                if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.q}.batch_state) "
                                       f"AND NOT EXISTS (SELECT 1 FROM {self.q}.{name})"):
                    await conn.execute(self._bulk_states[name])
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.q}.batch_state) "
                                   f"AND NOT EXISTS (SELECT 1 FROM {self.q}.batch_rollup)"):
                for statement in rollups.rebuild(self.q):
                    await conn.execute(statement)

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
            try:
                async with conn.transaction():  # a savepoint: COPY is about twice as fast as INSERT here …
                    await self._copy_rows(conn, changes)
            except asyncpg.UniqueViolationError:
                # … but cannot skip an event the tables hold already (one published twice, at two offsets)
                for name, rows in changes.rows.items():
                    if rows:
                        await conn.execute(self._inserts[name], *map(list, zip(*rows, strict=True)))
            queued = [(p, state) for state, inputs in INPUTS.items()
                      for p in set().union(*(changes.touched.get(table, ()) for table in inputs))]
            if queued:
                await conn.copy_records_to_table("refresh_queue", schema_name=self.schema, records=queued,
                                                 columns=["petition_id", "state"])
            await self._store_positions(conn, changes.positions)
        return changes

    # --- bulk load: a replay into a fresh schema -------------------------------------------------
    # The same rows as :meth:`apply`, written with COPY into tables whose keys and indexes are put
    # back once everything is in (building an index from sorted data costs a fraction of keeping it
    # up to date row by row).  A redelivered event is dropped by :class:`FirstSeen` as ``ON CONFLICT
    # DO NOTHING`` would drop it.  The schema is marked while loading: an interrupted load is
    # incomplete and is dropped by the next replay rather than continued.

    async def loading(self, conn: asyncpg.Connection) -> bool:
        """True if a bulk load of this schema began and did not finish."""
        return await conn.fetchval("SELECT obj_description(oid, 'pg_namespace') = $1 FROM pg_namespace "
                                   "WHERE nspname = $2", LOADING, self.schema) or False

    async def empty(self, conn: asyncpg.Connection) -> bool:
        """True if nothing has been projected into this schema yet."""
        return not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.q}.offsets WHERE next_offset > 0)")

    async def begin_bulk(self, conn: asyncpg.Connection) -> BulkKeys:
        """Mark the (empty) schema as loading and drop its keys and indexes; returns what to put back."""
        if not await self.empty(conn):
            raise ValueError(f"模式 {self.schema} 不是空的 schema {self.schema} is not empty: bulk load refused")
        constraints = [(r["tbl"], r["name"], r["definition"]) for r in await conn.fetch(
            "SELECT c.conrelid::regclass::text AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS definition "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = $1 AND c.contype IN ('p', 'u') AND NOT EXISTS (SELECT 1 FROM pg_class r "
            "WHERE r.oid = c.conrelid AND r.relname = ANY($2::text[])) ORDER BY 1, 2", self.schema, list(rollups.ROLLUPS))]
        indexes = [(r["tablename"], r["indexname"], r["indexdef"]) for r in await conn.fetch(
            "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = $1 AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = i.schemaname AND c.conname = i.indexname) AND i.tablename <> ALL($2::text[]) "
            "ORDER BY 1", self.schema, list(rollups.ROLLUPS))]
        async with conn.transaction():
            await conn.execute(f"COMMENT ON SCHEMA {self.q} IS '{LOADING}'")
            for _, name, _ in indexes:
                await conn.execute(f'DROP INDEX {self.q}."{name}"')
            for table, name, _ in constraints:
                await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        return BulkKeys(constraints, indexes)

    async def copy(self, conn: asyncpg.Connection, changes: Changes) -> None:
        """Write the rows of ``changes`` (already passed through :class:`FirstSeen`) with COPY, one transaction."""
        async with conn.transaction():
            await self._copy_rows(conn, changes)
            if changes.unreadable:
                await conn.copy_records_to_table(
                    "dead_letters", schema_name=self.schema, columns=["topic", "partition", "offset", "reason"],
                    records=[(u.record.topic, u.record.partition, u.record.offset, u.reason) for u in changes.unreadable])

    async def _copy_rows(self, conn: asyncpg.Connection, changes: Changes) -> None:
        for name, rows in changes.rows.items():
            if rows:
                await conn.copy_records_to_table(name, schema_name=self.schema, records=rows,
                                                 columns=[column for column, _ in TABLES[name]])

    async def end_bulk(self, pool: asyncpg.Pool, keys: BulkKeys, positions: dict[tuple[str, int], int]) -> int:
        """Put the fact tables' keys back, then (in parallel over the pool's connections) their indexes, one
        after the other, beside the current state of every matter, computed by whole-table statements
        (:func:`reporting.state.bulk_statements`) into the still unindexed state tables, each indexed once
        written; store the offsets reached and clear the mark; returns the number of matters."""
        async def add_key(table: str, name: str, definition: str) -> None:
            async with pool.acquire() as conn:
                await conn.execute(f"SET maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
                try:
                    await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                except asyncpg.UniqueViolationError:
                    # the same event in two partitions (an injected copy): keep one, as ON CONFLICT would
                    columns = [c.strip() for c in definition[definition.index("(") + 1:definition.rindex(")")].split(",")]
                    same = " AND ".join(f"a.{c} = b.{c}" for c in columns)
                    await conn.execute(f"DELETE FROM {table} a USING {table} b WHERE {same} AND a.ctid > b.ctid")
                    await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

        async def add_index(definition: str) -> None:
            async with pool.acquire() as conn:
                await conn.execute(f"SET maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
                await conn.execute(definition)

        def of_states(table: str) -> bool:
            return table.rsplit(".", 1)[-1].strip('"') in INPUTS

        def table_of(table: str) -> str:
            return table.rsplit(".", 1)[-1].strip('"')

        async def put_back(name: str) -> None:
            """The keys, then the indexes, of the state table ``name``."""
            await asyncio.gather(*(add_key(*c) for c in keys.constraints if table_of(c[0]) == name))
            await asyncio.gather(*(add_index(d) for t, _, d in keys.indexes if table_of(t) == name))

        async def state(name: str, keyed: bool = True) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
                await conn.execute(self._bulk_states[name])
            if keyed:
                await put_back(name)

        async def states() -> None:
            # whole-table statements (hash joins, sorts) need none of the fact tables' indexes: they run while
            # those are built, all at once but batch_state, which reads matter_state (whose key waits for it);
            # each table is indexed as soon as it is written
            async def matters_then_batches() -> None:
                await state("matter_state", keyed=False)
                await state("batch_state")
                await put_back("matter_state")

            await asyncio.gather(matters_then_batches(),
                                 *(state(name) for name in INPUTS if name not in ("matter_state", "batch_state")))

        async def facts() -> None:
            # one connection, one index after the other: the state statements (the longer path) keep the others
            async with pool.acquire() as conn:
                await conn.execute(f"SET maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
                for table, _, definition in keys.indexes:
                    if not of_states(table):
                        await conn.execute(definition)
                # for the readers to come (the state statements need no statistics)
                await conn.execute(f"ANALYZE {self.q}.matters, {self.q}.batches, {self.q}.replies, {self.q}.evaluations, "
                                   f"{self.q}.requests, {self.q}.decisions, {self.q}.holdings, {self.q}.dues")

        clock = time.monotonic()
        await asyncio.gather(*(add_key(*c) for c in keys.constraints if not of_states(c[0])))  # first: an event in
        # two partitions (an injected copy) is dropped here
        self.timings = {"keys": round(time.monotonic() - clock, 2)}
        await asyncio.gather(facts(), states())  # the fact tables' indexes are built beside the states
        self.timings["states_and_indexes"] = round(time.monotonic() - clock - self.timings["keys"], 2)
        async with pool.acquire() as conn, conn.transaction():
            await self._store_positions(conn, positions)
            await conn.execute(f"COMMENT ON SCHEMA {self.q} IS NULL")
            return await conn.fetchval(f"SELECT count(*) FROM {self.q}.matters")

    async def recompute(self, conn: asyncpg.Connection, wanted: dict[str, list[str]], first_time: bool = False) -> None:
        """Recompute the given state tables of the given matters (in the caller's transaction); ``first_time``:
        the tables hold no rows of them yet (a bulk load), nothing to delete."""
        for state, (delete, insert) in self._refresh.items():  # matter_state before batch_state
            if state in wanted:
                petitions = sorted(wanted[state])
                if not first_time:
                    await conn.execute(delete.sql, *delete.args({"ids": petitions}))
                await conn.execute(insert.sql, *insert.args({"ids": petitions}))

    async def _store_positions(self, conn: asyncpg.Connection, positions: dict[tuple[str, int], int]) -> None:
        if positions:
            keys = list(positions)
            await conn.execute(
                f"INSERT INTO {self.q}.offsets (topic, partition, next_offset) "
                "SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[]) "
                "ON CONFLICT (topic, partition) DO UPDATE "
                "SET next_offset = GREATEST(offsets.next_offset, EXCLUDED.next_offset)",
                [t for t, _ in keys], [p for _, p in keys], [positions[k] for k in keys])

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
            await self.recompute(conn, {state: list(ids) for state, ids in wanted.items()})
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
ALL_TABLES = (*TABLES, "batch_state", "matter_state", "obligation_state", "evaluation_state", "holding_state",
              "breach_state", *rollups.ROLLUPS, "dead_letters", "offsets", "refresh_queue")


async def differences(conn: asyncpg.Connection, left: str, right: str, tables: Iterable[str] = ALL_TABLES,
                      where: str = "", *args) -> dict[str, dict[str, int]]:
    """Per table, how many rows only ``left`` has and how many only ``right`` has (empty: equal); ``where``
    (with ``args``) restricts both sides' rows, e.g. to the audit's clocks."""
    found: dict[str, dict[str, int]] = {}
    for name in tables:
        columns = "petition_id, state" if name == "refresh_queue" else "*"
        a = f"SELECT {columns} FROM {quoted(left)}.{name} {where}"
        b = f"SELECT {columns} FROM {quoted(right)}.{name} {where}"
        only_left = await conn.fetchval(f"SELECT count(*) FROM ({a} EXCEPT ALL {b}) d", *args)
        only_right = await conn.fetchval(f"SELECT count(*) FROM ({b} EXCEPT ALL {a}) d", *args)
        if only_left or only_right:
            found[name] = {"only_" + left: only_left, "only_" + right: only_right}
    return found


__all__ = ["ALL_TABLES", "KEYS", "SERVER_SETTINGS", "Store", "connect", "differences", "pool", "quoted"]

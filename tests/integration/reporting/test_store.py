"""The store against the real PostgreSQL: an event published twice (two offsets) is counted once, by the live
path (COPY, then INSERT … ON CONFLICT when COPY meets a key already there) and by the bulk load alike, and both
paths leave the same tables."""
from __future__ import annotations

import uuid

import asyncpg
import pytest

from reporting.projection import TABLES, Record, project
from reporting.store import FirstSeen, Store, connect, differences, pool
from support.history import ROLES, History, matter


def twice(history: History) -> list[Record]:
    """Every event at its offset, then the whole history again after it (a relay that re-published)."""
    topic = {"events": "ev", "routing": "rt"}
    out, offsets = [], {"ev": 0, "rt": 0}
    for _ in range(2):
        for role, event in history.events:
            t = topic[role]
            out.append(Record(t, 0, offsets[t], event.subject.encode(), event.to_json()))
            offsets[t] += 1
    return out


async def counts(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    return {t: await conn.fetchval(f'SELECT count(*) FROM "{schema}".{t}') for t in (*TABLES, "matter_state",
                                                                                   "batch_state", "evaluation_state")}


@pytest.mark.asyncio
async def test_an_event_published_twice_counts_once_live_and_in_bulk(test_db):
    history = History()
    for _ in range(3):
        matter(history, str(uuid.uuid4()))
    records = twice(history)
    run = uuid.uuid4().hex[:8]
    live, bulk, once = Store(f"st_live_{run}"), Store(f"st_bulk_{run}"), Store(f"st_once_{run}")
    conn = await connect(test_db)
    connections = await pool(test_db, max_size=2)
    try:
        for store in (live, bulk, once):
            await store.migrate(conn)
        # live: the first half alone (COPY), then the rest with every duplicate (COPY fails, INSERT skips them)
        half = len(records) // 4
        await live.apply(conn, records[:half], ROLES)
        written = await live.apply(conn, records[half:], ROLES)
        assert written.events == len(records) - half  # all read; the duplicates wrote nothing
        await live.refresh_all(conn)
        # the history once, for the expected counts
        await once.apply(conn, records[:len(records) // 2], ROLES)
        await once.refresh_all(conn)
        # bulk: first seen wins
        keys = await bulk.begin_bulk(conn)
        assert await bulk.loading(conn)
        seen = FirstSeen()
        for i in range(0, len(records), 5):
            await bulk.copy(conn, seen(project(records[i:i + 5], ROLES)))
        await bulk.end_bulk(connections, keys, project(records, ROLES).positions)
        assert not await bulk.loading(conn)

        expected = await counts(conn, once.schema)
        assert expected["matters"] == 3 and expected["batches"] == 6 and expected["batch_state"] == 6
        assert await counts(conn, live.schema) == expected
        assert await counts(conn, bulk.schema) == expected
        assert await differences(conn, live.schema, bulk.schema) == {}
        with pytest.raises(ValueError, match="not empty"):
            await live.begin_bulk(conn)
    finally:
        for store in (live, bulk, once):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        await connections.close()
        await conn.close()


def _edge_facts(seed: int, matters: int) -> dict[str, list[tuple]]:
    """Fact rows full of ties and edge cases (times on a coarse grid, several holdings, replies of every kind,
    suspended due times, evaluations before any reply), in the tables' column order."""
    import random
    from datetime import datetime, timedelta, timezone

    rng = random.Random(seed)
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    at = lambda: t0 + timedelta(hours=rng.randint(0, 6))  # noqa: E731
    units, tiers = ["u1", "u2", "u3"], ["village", "township", "county", "city"]
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    n = 0

    def eid() -> str:
        nonlocal n
        n += 1
        return f"e{rng.randint(0, 9)}-{n:06d}"  # ids not in time order

    for m in range(matters):
        pid = f"p{rng.randint(0, 99)}-{m:05d}"
        rows["matters"].append((pid, eid(), f"R{m}", at(), at(), "visit", "j1", "c1", rng.choice(units),
                                rng.choice(tiers), False))
        for i in range(rng.choice([1, 1, 2, 3])):
            rows["batches"].append((eid(), pid, f"b{i}", i == 0, at(), at(), "visit", rng.choice(units),
                                    rng.choice(tiers), rng.randint(1, 9), False))
        for _ in range(rng.choice([0, 1, 2, 3])):
            rows["holdings"].append((eid(), pid, "assigned", rng.choice(units), rng.choice(tiers), None, None,
                                     "handle", at(), at()))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            rows["replies"].append((eid(), pid, rng.choice(["reply", "reply", "review", "recheck"]), rng.choice(units),
                                    "support", rng.random() < 0.6, at(), at()))
        for _ in range(rng.choice([0, 0, 1, 2])):
            rows["requests"].append((eid(), pid, "review", at(), at()))
        for _ in range(rng.choice([0, 1, 2])):
            rows["evaluations"].append((eid(), pid, rng.choice(["satisfied", "dissatisfied"]), at(), at()))
        for _ in range(rng.choice([0, 1, 2])):
            rows["decisions"].append((eid(), pid, rng.choice(["accepted", "declined"]), rng.choice(units), at(), at()))
        for _ in range(rng.choice([0, 1, 2, 3])):
            e, when, seen = eid(), at(), at()
            for position in range(rng.choice([1, 1, 2])):
                rows["dues"].append((e, position, pid, rng.choice(units), rng.choice(["accept", "handle", "review"]),
                                     None if rng.random() < 0.15 else at() + timedelta(hours=rng.randint(-3, 3)),
                                     when, seen))
    return rows


@pytest.mark.asyncio
async def test_bulk_state_statements_equal_the_per_matter_ones(test_db):
    """The whole-table statements of a bulk load leave the same state rows as the per-matter statements of
    the live path, over facts full of ties (same times, several holdings, suspended dues)."""
    facts = _edge_facts(seed=11, matters=600)
    run = uuid.uuid4().hex[:8]
    per_matter, whole = Store(f"st_pm_{run}"), Store(f"st_wh_{run}")
    conn = await connect(test_db)
    try:
        for store in (per_matter, whole):
            await store.migrate(conn)
            for name, rows in facts.items():
                if rows:
                    await conn.copy_records_to_table(name, schema_name=store.schema, records=rows,
                                                     columns=[c for c, _ in TABLES[name]])
        ids = [r[0] for r in facts["matters"]]
        async with conn.transaction():
            await per_matter.recompute(conn, {state: ids for state in ("matter_state", "batch_state",
                                                                      "obligation_state", "evaluation_state")},
                                       first_time=True)
        for name in ("matter_state", "batch_state", "obligation_state", "evaluation_state"):
            await conn.execute(whole._bulk_states[name])  # noqa: SLF001 — the bulk path's own statements, compared here
        assert await conn.fetchval(f'SELECT count(*) FROM "{whole.schema}".batch_state') == len(facts["batches"])
        assert await conn.fetchval(f'SELECT count(*) FROM "{whole.schema}".evaluation_state WHERE reply_unit IS NULL') > 0
        assert await conn.fetchval(f'SELECT count(*) FROM "{whole.schema}".batch_state WHERE is_skip') > 0
        assert await differences(conn, per_matter.schema, whole.schema) == {}
    finally:
        for store in (per_matter, whole):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        await conn.close()


async def test_replicas_starting_at_the_same_moment_all_find_their_schema(pg_dsn):
    """CREATE TABLE IF NOT EXISTS is not safe against another session creating the table at the same moment:
    six replicas' first starts on an empty database all come up (two test workers once hit it)."""
    import asyncio

    from reporting.active import active_schema

    database = f"race_{uuid.uuid4().hex[:8]}"  # a database of its own: the pointer table of the others stays
    admin = await asyncpg.connect(pg_dsn)
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        dsn = pg_dsn.rsplit("/", 1)[0] + "/" + database
        for _ in range(3):
            conns = [await asyncpg.connect(dsn) for _ in range(6)]
            try:
                await conns[0].execute("DROP TABLE IF EXISTS public.reporting_active")
                names = [f"race_{uuid.uuid4().hex[:6]}" for _ in conns]
                found = await asyncio.gather(*(active_schema(c, n) for c, n in zip(conns, names, strict=True)))
                assert found == names
            finally:
                for c in conns:
                    await c.close()
    finally:
        await admin.execute(f'DROP DATABASE "{database}"')
        await admin.close()

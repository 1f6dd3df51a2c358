"""The store against the real PostgreSQL: an event published twice (two offsets) is counted once, by the live
path (COPY, then INSERT … ON CONFLICT when COPY meets a key already there) and by the bulk load alike, and both
paths leave the same tables."""
from __future__ import annotations

import uuid

import asyncpg
import pytest

from integration.reporting.seed import History
from reporting.projection import TABLES, Record, project
from reporting.store import FirstSeen, Store, connect, differences, pool
from unit.reporting.test_projection import ROLES, matter


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
async def test_an_event_published_twice_counts_once_live_and_in_bulk(test_dsn):
    history = History()
    for _ in range(3):
        matter(history, str(uuid.uuid4()))
    records = twice(history)
    run = uuid.uuid4().hex[:8]
    live, bulk, once = Store(f"st_live_{run}"), Store(f"st_bulk_{run}"), Store(f"st_once_{run}")
    conn = await connect(test_dsn)
    connections = await pool(test_dsn, max_size=2)
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

"""The replay driver of the projection: kafka-python reads both topics from where a schema stands
(the beginning, for a fresh one) to their end — or to a point in time — into that schema.

The audit rebuilds the statistics with it into a scratch schema and compares with the live one;
the rows come from the same :func:`reporting.projection.project` and :class:`reporting.store.Store`.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import asyncpg
from kafka import TopicPartition

from xinfang.kafka import sync_consumer
from xinfang.settings import CommonSettings

from reporting.projection import Changes, Record, Role, project
from reporting.store import Store


@dataclass
class ReplayResult:
    schema: str
    records: int = 0
    events: int = 0
    unreadable: int = 0
    seconds: float = 0.0


def _count(result: ReplayResult, written: Changes, progress: Callable[[int], None] | None) -> None:
    n = written.events + len(written.unreadable)
    result.records += n
    result.events += written.events
    result.unreadable += len(written.unreadable)
    if progress:
        progress(n)


def _ends(consumer, tps: list[TopicPartition], until: datetime | None) -> dict[TopicPartition, int]:
    ends = consumer.end_offsets(tps)
    if until is not None:
        found = consumer.offsets_for_times({tp: int(until.timestamp() * 1000) for tp in tps})
        ends = {tp: (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in tps}
    return ends


async def replay(settings: CommonSettings, dsn: str, schema: str, *, until: datetime | None = None,
                 batch: int = 10000, progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Project both topics into ``schema`` (created and migrated if new) up to their end or ``until``
    (the broker's time index: records appended before it)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    store, result = Store(schema), ReplayResult(schema)
    roles: dict[str, Role] = {settings.topic_events: "events", settings.topic_routing: "routing"}
    conn = await asyncpg.connect(dsn)
    writing: asyncio.Task | None = None
    # check_crcs=False: kafka-python checks CRCs in pure Python, 90% of the read time here; the broker
    # checked them on the way in, and what an audit relies on is the SHA-256/SM3 hash chain of each event.
    consumer = sync_consumer(settings, group_id=None, max_partition_fetch_bytes=16 * 1024 * 1024,
                             fetch_max_bytes=64 * 1024 * 1024, check_crcs=False)
    try:
        await store.migrate(conn)
        stored = await store.positions(conn, roles)
        tps = [TopicPartition(topic, p) for topic in roles for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not tps:
            raise LookupError(f"主题不存在 topics {list(roles)} do not exist")
        ends = _ends(consumer, tps, until)
        todo = {tp for tp in tps if stored.get((tp.topic, tp.partition), 0) < ends[tp]}
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, stored.get((tp.topic, tp.partition), 0))
        while todo or writing is not None:
            records = []
            if todo:
                polled = await loop.run_in_executor(None, lambda: consumer.poll(timeout_ms=1000, max_records=batch))
                for tp, rs in polled.items():
                    records += [Record.of(r) for r in rs if r.offset < ends[tp]]
                for tp in list(todo):  # at the end (a transaction marker may hold the last offset)
                    if consumer.position(tp) >= ends[tp]:
                        todo.discard(tp)
                        consumer.pause(tp)
            changes = project(records, roles) if records else None  # while the previous batch commits
            if writing is not None:
                written = await writing
                writing = None
                _count(result, written, progress)
            if records:
                writing = asyncio.create_task(store.apply(conn, records, roles, changes=changes))
        await store.refresh_all(conn)
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            with contextlib.suppress(BaseException):
                await writing
        consumer.close()
        await conn.close()
    result.seconds = loop.time() - started
    return result

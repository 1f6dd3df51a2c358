"""The replay driver of the projection: kafka-python reads both topics from where a schema stands
(the beginning, for a fresh one) to their end — or to a point in time — into that schema.

The audit rebuilds the statistics with it into a scratch schema and compares with the live one;
the rows come from the same :func:`reporting.projection.project` and :class:`reporting.store.Store`.

Two ways of writing, one projection:

- **bulk**, into a schema nothing has been projected into: the partitions are shared out among
  worker processes (decoding is Python work; one process per core), each reads its partitions and
  COPYs the rows into tables whose keys and indexes are put back at the end
  (:meth:`Store.begin_bulk` / :meth:`Store.end_bulk`); then the current state of every matter is
  computed.  An interrupted bulk load leaves the schema marked, and the next replay starts it over.
- **incremental**, into a schema that already holds offsets (a rebuild catching up, or a second
  replay with a later ``until``): batch by batch through :meth:`Store.apply`, as the live service.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from kafka import TopicPartition

from reporting.projection import Changes, Record, Role, project
from reporting.store import FirstSeen, Store, connect, pool, quoted
from xinfang.kafka import WHOLE_TOPIC_READ, end_offsets_at, read_to_end, sync_consumer
from xinfang.processes import manager, process_pool
from xinfang.settings import CommonSettings

Span = tuple[str, int, int, int]  # topic, partition, first offset, end offset (exclusive)
Select = Callable[[Changes], Changes]


@dataclass
class ReplayResult:
    schema: str
    records: int = 0
    events: int = 0
    unreadable: int = 0
    seconds: float = 0.0
    mode: str = "incremental"
    processes: int = 1
    phases: dict[str, float] | None = None  # bulk: seconds loading, putting the fact keys back, then the
    # states and the fact tables' indexes (built side by side)


def _read(consumer, spans: list[Span], batch: int):
    """Batches of Records of ``spans`` (assigned and sought here), one a poll, until each partition reaches its end."""
    for polled in read_to_end(consumer, {TopicPartition(t, p): (start, end) for t, p, start, end in spans}, batch):
        yield [r for records in polled.values() for r in records]  # see projection.Record


async def replay(settings: CommonSettings, dsn: str, schema: str, *, until: datetime | None = None,
                 upto: dict[tuple[str, int], int] | None = None, batch: int = 10000,
                 progress: Callable[[int], None] | None = None, processes: int | None = None,
                 select: Select | None = None, roles: dict[str, Role] | None = None) -> ReplayResult:
    """Project both topics into ``schema`` (created and migrated if new) up to their end or ``until``
    (the broker's time index: records appended before it), and no further than ``upto`` (next offset
    per topic and partition) where given.  ``processes``: bulk-load workers (default: one per core).
    ``select``: what of each batch's changes to write (the audit's clocks, which pickle); default all.
    ``roles``: the topics to read (topic → role); default the county's two, a city's mirrored ones from
    ``reporting.city.deployment``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    store, result = Store(schema), ReplayResult(schema)
    roles = roles or {settings.topic_events: "events", settings.topic_routing: "routing"}
    conn = await connect(dsn)
    consumer = sync_consumer(settings, group_id=None, **WHOLE_TOPIC_READ)
    try:
        await store.migrate(conn)
        if await store.loading(conn):  # a bulk load that did not finish: start it over
            await conn.execute(f"DROP SCHEMA {quoted(schema)} CASCADE")
            await store.migrate(conn)
        stored = await store.positions(conn, roles)
        tps = [TopicPartition(topic, p) for topic in roles for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not tps:
            raise LookupError(f"主题不存在 topics {list(roles)} do not exist")
        ends = end_offsets_at(consumer, tps, until)
        if upto is not None:
            ends = {tp: min(end, upto.get((tp.topic, tp.partition), 0)) for tp, end in ends.items()}
        starts = {tp: stored.get((tp.topic, tp.partition)) for tp in tps}
        missing = [tp for tp in tps if starts[tp] is None]
        starts.update(consumer.beginning_offsets(missing) if missing else {})
        spans = [(tp.topic, tp.partition, starts[tp], ends[tp]) for tp in tps if starts[tp] < ends[tp]]
        if spans and await store.empty(conn):
            await _bulk(settings, dsn, store, roles, spans, batch, progress, processes or os.cpu_count() or 1, result,
                        select)
        elif spans:
            await _incremental(conn, consumer, store, roles, spans, batch, progress, result, select)
    finally:
        consumer.close()
        await conn.close()
    result.seconds = loop.time() - started
    return result


def _count(result: ReplayResult, written: Changes, progress: Callable[[int], None] | None) -> None:
    n = written.events + len(written.unreadable)
    result.records += n
    result.events += written.events
    result.unreadable += len(written.unreadable)
    if progress:
        progress(n)


async def _pipeline(reader, roles: dict[str, Role], write: Callable[[list[Record], Changes], Awaitable[Changes]],
                    result: ReplayResult, progress: Callable[[int], None] | None) -> None:
    """Batches from ``reader`` (read in a thread), each projected while the previous one is written, written in
    order; what ``write`` wrote is counted into ``result``."""
    loop = asyncio.get_running_loop()
    writing: asyncio.Task | None = None
    try:
        while True:
            records = await loop.run_in_executor(None, next, reader, None)
            changes = project(records, roles) if records else None
            if writing is not None:
                _count(result, await writing, progress)
                writing = None
            if records is None:
                return
            if records:
                writing = asyncio.create_task(write(records, changes))
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            with contextlib.suppress(BaseException):
                await writing


async def _incremental(conn, consumer, store: Store, roles: dict[str, Role], spans: list[Span], batch: int,
                       progress: Callable[[int], None] | None, result: ReplayResult, select: Select | None) -> None:
    async def write(records: list[Record], changes: Changes) -> Changes:
        return await store.apply(conn, records, roles, changes=select(changes) if select else changes)

    await _pipeline(_read(consumer, spans, batch), roles, write, result, progress)
    await store.refresh_all(conn)


def _share(spans: list[Span], parts: int) -> list[list[Span]]:
    """The spans in ``parts`` groups of about equal record counts (largest first, to the lightest group)."""
    groups: list[list[Span]] = [[] for _ in range(max(1, min(parts, len(spans))))]
    loads = [0] * len(groups)
    for span in sorted(spans, key=lambda s: s[3] - s[2], reverse=True):
        i = loads.index(min(loads))
        groups[i].append(span)
        loads[i] += span[3] - span[2]
    return groups


async def _bulk(settings: CommonSettings, dsn: str, store: Store, roles: dict[str, Role], spans: list[Span],
                batch: int, progress: Callable[[int], None] | None, processes: int, result: ReplayResult,
                select: Select | None) -> None:
    result.mode, started = "bulk", time.monotonic()
    groups = _share(spans, processes)
    result.processes = len(groups)
    connections = await pool(dsn, min_size=1, max_size=max(4, len(groups)))  # end_bulk: indexes beside states
    try:
        async with connections.acquire() as conn:
            keys = await store.begin_bulk(conn)
        with manager() as shared, process_pool(len(groups)) as workers:
            counts = shared.Queue()
            loop = asyncio.get_running_loop()
            jobs = [loop.run_in_executor(workers, _load, settings.model_dump_json(), type(settings), dsn, store.schema,
                                         group, roles, batch, counts, select) for group in groups]
            pending = set(jobs)
            while pending:
                _, pending = await asyncio.wait(pending, timeout=0.25)
                with contextlib.suppress(queue.Empty):
                    while True:
                        n = counts.get_nowait()
                        if progress:
                            progress(n)
            positions: dict[tuple[str, int], int] = {}
            for job in jobs:
                loaded = job.result()
                result.records += loaded["records"]
                result.events += loaded["events"]
                result.unreadable += loaded["unreadable"]
                positions.update(loaded["positions"])
        loaded_at = time.monotonic()
        await store.end_bulk(connections, keys, positions)
        result.phases = {"load": round(loaded_at - started, 2), **store.timings}
    finally:
        await connections.close()


def _load(settings_json: str, settings_type: type, dsn: str, schema: str, spans: list[Span], roles: dict[str, Role],
          batch: int, counts, select: Select | None) -> dict:
    """A bulk-load worker process: read ``spans``, project, COPY (each batch projected while the last is copied)."""
    settings = settings_type.model_validate_json(settings_json)
    return asyncio.run(_load_async(settings, dsn, schema, spans, roles, batch, counts, select))


async def _load_async(settings: CommonSettings, dsn: str, schema: str, spans: list[Span], roles: dict[str, Role],
                      batch: int, counts, select: Select | None) -> dict:
    store, first_seen = Store(schema), FirstSeen()
    loaded, positions = ReplayResult(schema), {}
    conn = await connect(dsn)
    consumer = sync_consumer(settings, group_id=None, **WHOLE_TOPIC_READ)

    async def write(records: list[Record], changes: Changes) -> Changes:
        await store.copy(conn, first_seen(select(changes) if select else changes))
        positions.update({k: max(v, positions.get(k, 0)) for k, v in changes.positions.items()})
        return changes

    try:
        await _pipeline(_read(consumer, spans, batch), roles, write, loaded, counts.put)
    finally:
        consumer.close()
        await conn.close()
    return {"records": loaded.records, "events": loaded.events, "unreadable": loaded.unreadable,
            "positions": positions}

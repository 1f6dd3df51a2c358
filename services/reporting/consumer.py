"""The live driver of the projection: an aiokafka consumer of both topics in one group.

On assignment it seeks every partition to the offset stored beside the rows (or to the beginning),
so Kafka's committed offsets play no part: the tables say where they stand.  The rebalance listener
itself awaits nothing: aiokafka sends no heartbeat while it runs, so a listener longer than the
session timeout (10 s) gets the member removed by the broker, and the rejoin runs it again.  It did:
one awaited ``seek_to_beginning`` a partition, each waiting for the fetch in flight (a long poll of
``fetch_max_wait_ms``, 500 ms on an idle topic) before its offset reset went out, made 24 partitions
with nothing stored 12 s, a lost member every 15 s for as long as they stayed empty (issue 15).  Now
the listener pauses the new partitions and the loop that owns the consumer seeks them (one reset for
all those with nothing stored, nothing being fetched meanwhile) and resumes them.  Each ``getmany``
batch is one transaction (:meth:`reporting.store.Store.apply`).  Unreadable records go to the
dead-letter topic with the reason, and the consumer goes on.

A batch is projected in processes of their own (``projection_processes``, each a part of it) while
the previous batch is written: decoding and validating the events is half the CPU of the service,
and in the service's own process it held up the event loop that feeds the write (measured side by side
on a busy machine: about 10,000 events/s in-process, about 12,000 with two projecting processes; the
current figure is in docs/benchmarks.md).  The processes die with the service, even under SIGKILL
(:mod:`xinfang.processes`).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from reporting.projection import Changes, Record, Role, Unreadable, project_plain
from reporting.settings import ReportingSettings
from reporting.store import Store
from xinfang.deadletter import send_dead_letter
from xinfang.kafka import aio_consumer, aio_producer, caught_up, measure_lag, stop
from xinfang.processes import process_pool
from xinfang.retry import retrying

log = logging.getLogger("reporting.consumer")


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.projected = Counter("reporting_events_projected", "events projected into the tables", ["topic"],
                                 registry=registry)
        self.dead_lettered = Counter("reporting_events_dead_lettered", "records sent to the dead-letter topic",
                                     ["topic"], registry=registry)
        self.lag = Gauge("reporting_consumer_lag", "records on the broker not yet projected", ["topic", "partition"],
                         registry=registry)
        self.refreshed = Counter("reporting_matters_refreshed", "matters whose current state was recomputed",
                                 registry=registry)
        self.batch = Histogram("reporting_batch_seconds", "time to project and commit one batch", registry=registry,
                               buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class _SeekToStored(ConsumerRebalanceListener):
    def __init__(self, live: LiveProjection) -> None:
        self.live = live

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        self.live.assign(assigned)  # nothing awaited here: no heartbeat goes out until this returns


READY_SLACK = 100  # records per partition still to read when /readyz may say ready (a few seconds of traffic)


class LiveProjection:
    """Runs for the life of the service; restarts itself after an outage."""

    def __init__(self, settings: ReportingSettings, pool: asyncpg.Pool, store: Store, metrics: Metrics,
                 roles: dict[str, Role] | None = None) -> None:
        self.settings, self.pool, self.store, self.metrics = settings, pool, store, metrics
        # the county's two topics, or in a city every county's mirrored ones (reporting.city)
        self.roles: dict[str, Role] = roles or {settings.topic_events: "events", settings.topic_routing: "routing"}
        self.consumer = None
        self.producer = None
        self.assigned = False  # the partitions of the last assignment are sought to the stored offsets
        self.generation = 0  # assignments so far: work begun for one is dropped when another came meanwhile
        self.to_seek: set[TopicPartition] = set()  # assigned, paused until sought
        self.lag_total: int | None = None
        # since its last assignment it has read each partition to its end and written all it read (readiness)
        self.caught_up = False

    async def run(self) -> None:
        await retrying(self._consume, "projection", log)  # resumes from the offsets stored with the rows

    def assign(self, assigned) -> None:
        """The rebalance listener's part: hold the new partitions until :meth:`seek` has placed them."""
        self.generation += 1
        self.assigned = self.caught_up = False  # caught up again only once these partitions are read to their end
        self.to_seek = set(assigned)
        if assigned:
            self.consumer.pause(*assigned)

    async def seek(self) -> None:
        """Seek the partitions of the last assignment to the stored offsets (or the beginning), then fetch them."""
        generation, tps = self.generation, self.to_seek
        async with self.pool.acquire() as conn:
            stored = await self.store.positions(conn, self.roles)
        if generation != self.generation:
            return  # a rebalance meanwhile: its partitions are sought next round
        beginning = [tp for tp in tps if (tp.topic, tp.partition) not in stored]
        for tp in tps:
            if (tp.topic, tp.partition) in stored:
                self.consumer.seek(tp, stored[(tp.topic, tp.partition)])
        if beginning:  # one offset reset for all of them; nothing is in flight, every partition is paused
            await self.consumer.seek_to_beginning(*beginning)
        if generation != self.generation:
            return
        self.consumer.resume(*tps)
        self.to_seek, self.assigned = set(), True
        log.info("assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in tps))

    async def _consume(self) -> None:
        self.consumer = aio_consumer(self.settings, group_id=self.settings.group_id,
                                     max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
        self.consumer.subscribe(list(self.roles), listener=_SeekToStored(self))
        self.producer = aio_producer(self.settings)
        processes = self.settings.projection_processes
        projector = process_pool(processes)
        loop = asyncio.get_running_loop()
        await self.producer.start()
        await self.consumer.start()
        last_lag = 0.0
        writing: asyncio.Task | None = None
        try:
            while True:
                if self.to_seek:
                    await self.seek()
                batches = await self.consumer.getmany(timeout_ms=500, max_records=self.settings.batch_max_records)
                records = [r for rs in batches.values() for r in rs]  # aiokafka's records: see projection.Record
                # Project this batch (in the projecting processes) while the previous one commits, then
                # write it only after the previous commit: the offsets advance in order.
                plain = [(r.topic, r.partition, r.offset, r.key, r.value) for r in records]
                size = -(-len(plain) // processes)
                projecting = asyncio.gather(*(loop.run_in_executor(projector, project_plain, plain[i:i + size], self.roles)
                                              for i in range(0, len(plain), size))) if records else None
                if writing is not None:
                    await writing
                    writing = None
                if projecting is not None:
                    writing = asyncio.create_task(self._write(records, Changes.merged(await projecting)))
                if time.monotonic() - last_lag > 1 or not records:
                    generation = self.generation
                    lag = await self._measure_lag()
                    # within a few records of every partition's end, of the partitions as sought (not of a
                    # rebalance begun meanwhile): the backlog found at the start is in the tables (an idle poll
                    # is not required: under steady traffic there may never be one)
                    self.caught_up = self.caught_up or (self.assigned and generation == self.generation
                                                        and caught_up(self.consumer, lag, READY_SLACK))
                    last_lag = time.monotonic()
        finally:
            self.assigned = self.caught_up = False
            self.to_seek = set()
            if writing is not None:
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
            projector.shutdown(wait=False, cancel_futures=True)
            await stop(self.consumer, self.producer)

    async def refresh(self) -> None:
        """Recompute the current state of queued matters, for the life of the service."""
        while True:
            done = await retrying(self._refresh_some, "refresh", log)  # the queue keeps the work
            self.metrics.refreshed.inc(done)
            if not done:
                await asyncio.sleep(0.2)

    async def _refresh_some(self) -> int:
        async with self.pool.acquire() as conn:
            return await self.store.refresh(conn)

    async def _write(self, records: list[Record], changes: Changes) -> None:
        started = time.perf_counter()
        async with self.pool.acquire() as conn:
            written = await self.store.apply(conn, records, self.roles, self._dead_letter, changes)
        self.metrics.batch.observe(time.perf_counter() - started)
        for topic, n in written.by_topic.items():  # records seen before (a redelivery) are not counted
            self.metrics.projected.labels(topic).inc(n)

    async def _measure_lag(self) -> dict[tuple[str, int], int]:
        lag = await measure_lag(self.consumer, self.metrics.lag)
        self.lag_total = sum(lag.values())
        return lag

    async def _dead_letter(self, unreadable: list[Unreadable]) -> None:
        for item in unreadable:
            r = item.record
            await send_dead_letter(self.producer.send, self.settings.topic_deadletter, self.settings.group_id, r.topic,
                                   r.partition, r.offset, r.key, r.value, item.reason)
            self.metrics.dead_lettered.labels(r.topic).inc()
            log.warning("dead-lettered %s[%d]@%d: %s", r.topic, r.partition, r.offset, item.reason)


__all__ = ["LiveProjection", "Metrics", "TopicPartition"]

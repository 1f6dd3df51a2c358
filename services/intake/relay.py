"""The outbox relay: publish committed events to ``petition.events``, in order, once.

- One active relay among all intake replicas: it holds a session advisory lock on its own
  connection; the others wait in standby and take over when that connection goes away.
- Wakes on NOTIFY from the appending transaction, and polls as a fallback.
- Reads the outbox by "not yet published", never by "position > last seen", so an event
  whose transaction committed after a later position is still published.
- Per-matter order: rows go out in position order, and within one matter positions follow
  sequence numbers; the idempotent producer keeps order within a partition.
- Once: after a crash between the broker's acknowledgement and the outbox delete, the relay
  reads each partition on from the last offset it recorded and drops what is already there.
- Kafka down: the rows wait; the relay retries (:mod:`xinfang.retry`) and drains when Kafka returns.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import zlib

import asyncpg
import orjson
from kafka import TopicPartition

from intake.store import NOTIFY_CHANNEL
from xinfang.kafka import aio_producer, read_to_end, stop, sync_consumer
from xinfang.retry import Backoff, retrying
from xinfang.settings import CommonSettings

log = logging.getLogger("intake.relay")

BATCH = 1000


class Relay:
    """Publishes the outbox; run :meth:`run` as a task for the life of the service."""

    def __init__(self, settings: CommonSettings, dsn: str, server_settings: dict[str, str],
                 poll_interval: float = 1.0) -> None:
        self.settings, self.dsn, self.server_settings = settings, dsn, server_settings
        self.poll_interval = poll_interval
        self.topic = settings.topic_events
        self.active = False
        self.published = 0
        # one relay per event store: the key covers the schema, so stores sharing a database don't block each other
        self.lock_key = zlib.crc32(f"xinfang.intake.relay:{server_settings.get('search_path', '')}".encode())
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Forever: win the lock, relay until something breaks, back off, try again."""
        await retrying(self._run_once, "relay", log, Backoff(cap=5.0))  # the rows wait: drain soon after Kafka is back

    async def _run_once(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings=self.server_settings)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                self.active = False
                await asyncio.sleep(self.poll_interval * 2)  # standby: another replica relays
            self.active = True
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            producer = aio_producer(self.settings, request_timeout_ms=15000)
            await producer.start()
            try:
                await self._reconcile(conn, sorted(await producer.partitions_for(self.topic)))
                await self._loop(conn, producer)
            finally:
                await stop(producer)
        finally:
            self.active = False
            await conn.close()

    def wake(self) -> None:
        """Events were committed to the outbox (by this process): look now rather than at the next poll."""
        self._wake.set()

    async def _loop(self, conn: asyncpg.Connection, producer) -> None:
        while True:
            self._wake.clear()  # before the read: a wake-up during it is not lost
            rows = await conn.fetch(
                "SELECT position, event_id, petition_id, body FROM outbox ORDER BY position LIMIT $1", BATCH)
            if not rows:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                except TimeoutError:
                    pass
                continue
            await self._publish(conn, producer, rows)

    async def _publish(self, conn: asyncpg.Connection, producer, rows) -> None:
        futures = [await producer.send(self.topic, value=bytes(row["body"]),
                                       key=str(row["petition_id"]).encode()) for row in rows]
        # On a failure some may have landed: the exception ends this run, the producer is
        # stopped, and the next run reconciles with the topic before sending anything again.
        metadata = await asyncio.gather(*futures)
        highest: dict[int, int] = {}
        for meta in metadata:
            highest[meta.partition] = max(highest.get(meta.partition, -1), meta.offset)
        async with conn.transaction():
            await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])",
                               [row["position"] for row in rows])
            await self._record(conn, highest)
        self.published += len(rows)

    async def _record(self, conn: asyncpg.Connection, highest: dict[int, int]) -> None:
        await conn.executemany(
            """INSERT INTO relay_positions (topic, partition, last_offset) VALUES ($1, $2, $3)
               ON CONFLICT (topic, partition) DO UPDATE
               SET last_offset = GREATEST(relay_positions.last_offset, EXCLUDED.last_offset)""",
            [(self.topic, partition, offset) for partition, offset in highest.items()])

    async def _reconcile(self, conn: asyncpg.Connection, partition_ids: list[int]) -> None:
        """Drop from the outbox what the topic already holds beyond the recorded offsets."""
        pending = await conn.fetchval("SELECT count(*) FROM outbox")
        recorded = {row["partition"]: row["last_offset"] for row in await conn.fetch(
            "SELECT partition, last_offset FROM relay_positions WHERE topic = $1", self.topic)}
        # kafka-python, in a thread: a read to the end is written once, for that client (xinfang.kafka)
        ends, found, highest = await asyncio.to_thread(self._on_topic, partition_ids, recorded, bool(pending))
        if not pending:  # nothing can be published twice: start from the topic's end
            await self._record(conn, {partition: end - 1 for partition, end in ends.items()})
            return
        if highest:
            async with conn.transaction():
                await conn.execute("DELETE FROM outbox WHERE event_id = ANY($1::uuid[])", found)
                await self._record(conn, highest)
            log.info("reconciled %d events already on %s", len(found), self.topic)

    def _on_topic(self, partition_ids: list[int], recorded: dict[int, int],
                  read: bool) -> tuple[dict[int, int], list[uuid.UUID], dict[int, int]]:
        """Each partition's end; with ``read``, the ids and last offsets of the events after the recorded offsets."""
        consumer = sync_consumer(self.settings, group_id=None)
        try:
            partitions = [TopicPartition(self.topic, p) for p in partition_ids]
            ends = consumer.end_offsets(partitions)
            found: list[uuid.UUID] = []
            highest: dict[int, int] = {}
            spans = {tp: (recorded.get(tp.partition, -1) + 1, ends[tp]) for tp in partitions} if read else {}
            for polled in read_to_end(consumer, spans, 5000):
                for tp, records in polled.items():
                    found += [uuid.UUID(orjson.loads(record.value)["id"]) for record in records]
                    highest[tp.partition] = records[-1].offset
            return {tp.partition: end for tp, end in ends.items()}, found, highest
        finally:
            consumer.close()

    async def lag(self, conn: asyncpg.Connection) -> int:
        """Events committed but not yet acknowledged by Kafka."""
        return await conn.fetchval("SELECT count(*) FROM outbox")


class OutboxBell:
    """Wakes the active relay after a command committed events, without a NOTIFY in the command's transaction.

    PostgreSQL serialises the commits of transactions that NOTIFY (a database-wide lock held through the
    commit's WAL flush), which capped registrations at the rate of one fsync after another.  So commands
    commit without it and ring here afterwards: the relay of this process, when it is the active one, is
    woken directly; otherwise one NOTIFY on its own connection stands for every commit made while the last
    was being sent.  A lost ring (a crash right after the commit) costs at most the relay's poll interval."""

    def __init__(self, pool: asyncpg.Pool, relay: Relay | None, min_interval: float = 0.02) -> None:
        self.pool, self.relay, self.min_interval = pool, relay, min_interval
        self._pending = False
        self._task: asyncio.Task | None = None

    def ring(self) -> None:
        if self.relay is not None and self.relay.active:
            self.relay.wake()
            return
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._notify(), name="outbox-bell")

    async def _notify(self) -> None:
        while self._pending:
            self._pending = False
            await retrying(self._send_notify, "outbox bell NOTIFY", log, Backoff(first=self.min_interval, cap=1.0))
            await asyncio.sleep(self.min_interval)  # rings meanwhile are answered by one NOTIFY

    async def _send_notify(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

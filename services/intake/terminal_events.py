"""Publishes the terminals table to the compacted topic ``xinfang.terminals``, at least once, so that reporting
and escalation check tokens without asking intake (:mod:`xinfang.terminals` says what travels and how they trust it).

The table is the truth and the topic is brought to it: at start the publisher reads the topic to its end (it holds
one record per terminal) and learns what each terminal's latest record says; then, woken by a create or a revoke
here or every second, it compares the table with what it knows is on the topic and sends what differs, marking it
known only when the broker acknowledged it.  So terminals created before this publisher existed go out at the first
start, a send that failed goes out again on the next pass, and after a crash the read at start says what is missing.
Every replica may run one: a record sent twice is the same bytes (the events are rebuilt from the row) on a
compacted topic, so no lock is needed.
"""
from __future__ import annotations

import asyncio
import logging

import asyncpg
import orjson
from kafka import TopicPartition

from xinfang.kafka import aio_producer, read_to_end, stop, sync_consumer
from xinfang.retry import Backoff, retrying
from xinfang.settings import CommonSettings
from xinfang.terminals import lifecycle_event

log = logging.getLogger("intake.terminal_events")


class TerminalPublisher:
    """Run :meth:`run` as a task for the life of the service; :meth:`wake` after a create or a revoke."""

    def __init__(self, settings: CommonSettings, pool: asyncpg.Pool, source: str, poll_interval: float = 1.0) -> None:
        self.settings, self.pool, self.source, self.poll_interval = settings, pool, source, poll_interval
        self.topic = settings.topic_terminals
        self.on_topic: dict[str, str] = {}  # terminal id → the type of its latest record the broker acknowledged
        self.published = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await retrying(self._run_once, f"publishing terminals to {self.topic}", log, Backoff(cap=5.0))

    async def _run_once(self) -> None:
        self.on_topic = await asyncio.to_thread(self._read_topic)
        producer = aio_producer(self.settings, request_timeout_ms=15000)
        await producer.start()
        try:
            while True:
                self._wake.clear()  # before the read: a wake-up during it is not lost
                await self._publish(producer)
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                except TimeoutError:
                    pass
        finally:
            await stop(producer)

    async def _publish(self, producer) -> None:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT id, unit_id, roles, token_hash, created_at, revoked_at FROM terminals")
        events = [lifecycle_event(r["id"], r["unit_id"], list(r["roles"]), bytes(r["token_hash"]), r["created_at"],
                                  r["revoked_at"], self.source, self.settings.hash_algorithm) for r in rows]
        due = [e for e in events if self.on_topic.get(e.subject) != e.type]
        if not due:
            return
        sent = [await producer.send(self.topic, key=e.subject.encode(), value=e.to_json()) for e in due]
        await asyncio.gather(*sent)  # a failure ends this run; the next one reads the topic again
        for event in due:
            self.on_topic[event.subject] = event.type
        self.published += len(due)
        log.info("published %d terminal lifecycle event(s) to %s", len(due), self.topic)

    def _read_topic(self) -> dict[str, str]:
        """Each terminal's latest record type on the topic (kafka-python, in a thread, as the relay reads)."""
        consumer = sync_consumer(self.settings, group_id=None)
        try:
            partitions = consumer.partitions_for_topic(self.topic)
            if not partitions:
                raise LookupError(f"topic {self.topic} does not exist (python -m xinfang.topics creates it)")
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            starts, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
            latest: dict[str, str] = {}
            for polled in read_to_end(consumer, {tp: (starts[tp], ends[tp]) for tp in tps}):
                for records in polled.values():
                    for record in records:
                        if record.value is not None:
                            latest[record.key.decode()] = orjson.loads(record.value)["type"]
            return latest
        finally:
            consumer.close()

"""Consumes ``petition.routing``: who holds each matter, and its due times, into the write model.

At-least-once: offsets are committed after the rows; a redelivered event is recognised by the
matter's routing sequence number and changes nothing.  What cannot be read goes to the
dead-letter topic with the reason, and the consumer goes on.
"""
from __future__ import annotations

import logging
import time
import uuid

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from intake.store import apply_routing_event
from xinfang.deadletter import send_dead_letter
from xinfang.events import UPCASTERS, CloudEvent
from xinfang.events.catalogue import CATALOGUE
from xinfang.kafka import aio_consumer, aio_producer, caught_up, measure_lag, stop
from xinfang.retry import retrying
from xinfang.settings import CommonSettings

log = logging.getLogger("intake.routing")


class RoutingConsumer:
    """Runs for the life of the service; restarts itself after an outage."""

    def __init__(self, settings: CommonSettings, pool: asyncpg.Pool, group_id: str,
                 registry: CollectorRegistry | None = None) -> None:
        self.settings, self.pool, self.group_id = settings, pool, group_id
        registry = registry or CollectorRegistry()
        self.applied = Counter("intake_routing_applied_total", "routing events applied to the write model "
                               "(a redelivered one is not counted)", registry=registry)
        self.dead_lettered = Counter("intake_routing_dead_letters_total", "routing events sent to the dead-letter "
                                     "topic", registry=registry)
        # read every partition to its end once since the start: until then the write model may hold holders and
        # dues older than the topic (readiness); a later Kafka outage does not undo it (registration goes on)
        self.caught_up = False
        self.lag = Gauge("intake_routing_consumer_lag", "records on petition.routing not yet applied",
                         ["topic", "partition"], registry=registry)

    async def run(self) -> None:
        await retrying(self._consume, "routing consumer", log)  # resumes from the committed offsets

    async def _consume(self) -> None:
        consumer = aio_consumer(self.settings, self.settings.topic_routing, group_id=self.group_id)
        producer = aio_producer(self.settings)
        await consumer.start()
        await producer.start()
        measured = 0.0
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                for tp, records in batches.items():
                    await self._apply(records, producer, tp.topic)
                if batches:
                    await consumer.commit()
                if time.monotonic() - measured > 1 or not batches:
                    lag = await measure_lag(consumer, self.lag)
                    self.caught_up = self.caught_up or caught_up(consumer, lag)
                    measured = time.monotonic()
        finally:
            await stop(consumer, producer)

    async def _apply(self, records, producer, topic: str) -> None:
        applied = dead_lettered = 0
        async with self.pool.acquire() as conn, conn.transaction():
            for record in records:
                try:
                    event = CloudEvent.from_json(record.value)
                    current, data = UPCASTERS.decode(event.type, event.data)
                    if CATALOGUE[current][1] != "routing":
                        raise ValueError(f"not a routing event type: {event.type}")
                    pid = _petition_id(event.subject)
                except (ValueError, ValidationError, KeyError) as exc:
                    await send_dead_letter(producer.send, self.settings.topic_deadletter, self.group_id, topic,
                                           record.partition, record.offset, record.key, record.value,
                                           f"unreadable routing event: {exc}")
                    dead_lettered += 1
                    continue
                if await apply_routing_event(conn, pid, event, data):
                    applied += 1
        # counted once committed: a batch rolled back comes again and is counted then
        self.applied.inc(applied)
        self.dead_lettered.inc(dead_lettered)


def _petition_id(subject: str) -> uuid.UUID:
    try:
        return uuid.UUID(subject)
    except ValueError:
        raise ValueError(f"subject {subject!r} is not a petition id") from None

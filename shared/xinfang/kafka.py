"""Kafka clients with the project's defaults: every producer acks=all and idempotent.

aiokafka's defaults are acks=1 without idempotence, which can lose or duplicate an
acknowledged event on a leader change; nothing here may be built without these settings.
Both clients partition by murmur2 of the key (the petition id), as the Java client does,
so one matter lands in the same partition number of every topic.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from xinfang.settings import CommonSettings

log = logging.getLogger("xinfang.kafka")

PRODUCER_DEFAULTS: dict[str, Any] = {"acks": "all", "enable_idempotence": True}
AIO_PRODUCER_DEFAULTS: dict[str, Any] = {**PRODUCER_DEFAULTS, "linger_ms": 5}
SYNC_PRODUCER_DEFAULTS: dict[str, Any] = {**PRODUCER_DEFAULTS, "linger_ms": 5, "retries": 2**31 - 1,
                                          "max_in_flight_requests_per_connection": 5}
# Consumers read only committed data (the relay may in future use transactions).
CONSUMER_DEFAULTS: dict[str, Any] = {"isolation_level": "read_committed", "enable_auto_commit": False,
                                     "auto_offset_reset": "earliest"}


def aio_producer(settings: CommonSettings, **overrides: Any):
    """An aiokafka producer with acks=all and idempotence (not started)."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap,
                            **{**AIO_PRODUCER_DEFAULTS, **overrides})
# Reading whole topics with kafka-python (the replay, the audit): large fetches, and check_crcs=False:
# kafka-python checks CRCs in pure Python, most of the read time; the broker checked them on the way in,
# and what an audit relies on is the SHA-256/SM3 hash chain of each event.
WHOLE_TOPIC_READ: dict[str, Any] = {"max_partition_fetch_bytes": 16 * 1024 * 1024, "fetch_max_bytes": 64 * 1024 * 1024,
                                    "check_crcs": False, "receive_buffer_bytes": 4 * 1024 * 1024}


def sync_producer(settings: CommonSettings, **overrides: Any):
    """A kafka-python producer with acks=all and idempotence."""
    from kafka import KafkaProducer

    return KafkaProducer(bootstrap_servers=settings.kafka_bootstrap,
                         **{**SYNC_PRODUCER_DEFAULTS, **overrides})


def sync_consumer(settings: CommonSettings | str, **overrides: Any):
    """A kafka-python consumer reading committed data, no auto-commit (not subscribed); ``settings`` may be the
    bootstrap servers alone (tests and tools that talk to a broker of their own)."""
    from kafka import KafkaConsumer

    bootstrap = settings if isinstance(settings, str) else settings.kafka_bootstrap
    return KafkaConsumer(bootstrap_servers=bootstrap.split(","),
                         **{**CONSUMER_DEFAULTS, **overrides})


def aio_consumer(settings: CommonSettings, *topics: str, **overrides: Any):
    """An aiokafka consumer reading committed data, no auto-commit (not started)."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(*topics, bootstrap_servers=settings.kafka_bootstrap,
                            **{**CONSUMER_DEFAULTS, **overrides})


async def stop(*clients: Any) -> None:
    """Stop aiokafka clients (consumers, producers) at the end of a loop, after a failure as well as at a
    shutdown: what every ``finally`` of a retried loop calls instead of ``client.stop()``.

    aiokafka 0.14's ``Fetcher.close`` cancels its pending fetch tasks and awaits them without suppressing their
    ``CancelledError``: after a broker outage one of them sleeps in a retry backoff, so ``stop()`` raises a
    ``CancelledError`` although nobody cancelled the caller — and stops there, its connections left open.  Passed
    on, that error ends a retried loop for good (``xinfang.retry`` lets cancellation through): it did, reporting's
    terminal directory stopped after the city's Kafka was down a minute and every token was refused (503) until a
    restart.  Here such a ``CancelledError`` is logged and the client's closing finished; a cancellation of the
    caller itself (the task is being cancelled) is raised, after every client was stopped."""
    cancelled: BaseException | None = None
    for client in clients:
        try:
            await client.stop()
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                cancelled = exc
                continue
            log.warning("stopping %s: aiokafka raised a CancelledError of its own (no one cancelled the caller); "
                        "finishing its close", type(client).__name__)
            await _finish_close(client)
    if cancelled is not None:
        raise cancelled


async def _finish_close(client: Any) -> None:
    """What ``stop()`` did not reach after the fetcher's stray ``CancelledError``: the other pending fetch
    tasks, and the client's connections (aiokafka internals: tests/unit/test_kafka_stop.py holds them to it)."""
    fetcher = getattr(client, "_fetcher", None)
    pending = list(getattr(fetcher, "_pending_tasks", ()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    # aiokafka internals, held by tests/unit/test_kafka_stop.py: a consumer's ``_client``, a producer's ``client``
    inner = client._client if hasattr(client, "_client") else client.client  # noqa: SLF001
    await inner.close()


def read_to_end(consumer, spans: dict[Any, tuple[int, int]], max_records: int = 10000) -> Iterator[dict[Any, list]]:
    """What a kafka-python consumer holds of each partition from its start to its end (exclusive), as
    ``{partition: records}`` a poll (only partitions with records, each in offset order); ``spans`` maps a
    TopicPartition to (start, end), and the consumer is assigned and sought here.

    A partition is done when the consumer's position reaches its end, not when a record at ``end - 1``
    comes: a transaction marker may hold the last offset.  A done partition is paused, so later polls
    fetch only what is still wanted.  Batches of ``poll(max_records=...)``: iterating the consumer is
    several times slower."""
    ends = {tp: end for tp, (start, end) in spans.items() if end > start}
    consumer.assign(list(ends))
    for tp in ends:
        consumer.seek(tp, spans[tp][0])
    todo = set(ends)
    while todo:
        polled = {}
        for tp, records in consumer.poll(timeout_ms=1000, max_records=max_records).items():
            if records and records[-1].offset >= ends[tp]:
                records = [r for r in records if r.offset < ends[tp]]
            if records:
                polled[tp] = records
        for tp in [tp for tp in todo if consumer.position(tp) >= ends[tp]]:
            todo.discard(tp)
            consumer.pause(tp)
        if polled:
            yield polled


def end_offsets_at(client, tps: list, until: datetime | None = None) -> dict:
    """Where reading each partition stops (exclusive) for a kafka-python consumer: its end, or with ``until``
    the first record at or after that time (the broker's offsets-for-times); a partition with nothing that
    late ends at its end."""
    ends = client.end_offsets(tps)
    if until is None:
        return ends
    found = client.offsets_for_times({tp: int(until.timestamp() * 1000) for tp in tps})
    return {tp: (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in tps}


async def consumer_lag(consumer, timeout: float = 1.0, topics: set[str] | None = None) -> dict[tuple[str, int], int]:
    """Records on the broker that an aiokafka (or faust) consumer has not read yet, per assigned partition
    (of ``topics`` only, if given): the partition's high-water mark (as of the last fetch) minus the
    consumer's position.  A partition without either (just assigned, being taken away by a rebalance
    meanwhile) is left out; a consumer not started yet has no lag to tell."""
    import asyncio

    lag: dict[tuple[str, int], int] = {}
    try:
        assigned = consumer.assignment()
    except Exception:  # noqa: BLE001 — not started yet (faust's web server comes up before its consumer)
        return lag
    for tp in assigned:
        if topics is not None and tp.topic not in topics:
            continue
        try:
            end = consumer.highwater(tp)
            if end is None:
                continue
            position = await asyncio.wait_for(consumer.position(tp), timeout)
        except Exception:  # noqa: BLE001 — unassigned by a rebalance while we awaited (aiokafka asserts)
            continue
        lag[(tp.topic, tp.partition)] = max(0, end - position)
    return lag


async def measure_lag(consumer, gauge, topics: set[str] | None = None) -> dict[tuple[str, int], int]:
    """:func:`consumer_lag` into a Prometheus gauge labelled (topic, partition); partitions given away in a
    rebalance drop out of it.  Returns the lag."""
    lag = await consumer_lag(consumer, topics=topics)
    gauge.clear()
    for (topic, partition), n in lag.items():
        gauge.labels(topic, str(partition)).set(n)
    return lag


def caught_up(consumer, lag: dict[tuple[str, int], int], slack: int = 0) -> bool:
    """True if an aiokafka consumer holds partitions and :func:`consumer_lag` measured every one of them within
    ``slack`` records of its end: what a service's ``/readyz`` waits for after a start or a rebalance.  Under
    steady traffic a partition is seldom measured exactly at its end: a slack of one batch means the backlog
    found at the start has been read."""
    assigned = consumer.assignment()
    return bool(assigned) and len(lag) == len(assigned) and all(n <= slack for n in lag.values())

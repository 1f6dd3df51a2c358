"""Reading whole topics fast with kafka-python: assigned partitions, poll batches, committed data only.

Every reader of the audit goes through :func:`read_topic`, which yields batches in partition order
(read by :func:`xinfang.kafka.read_to_end`).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

from xinfang.kafka import WHOLE_TOPIC_READ, end_offsets_at, read_to_end, sync_consumer
from xinfang.settings import CommonSettings


@dataclass(frozen=True)
class Span:
    """Where a read of one partition starts and stops (end exclusive)."""

    partition: int
    start: int
    end: int


def consumer(settings: CommonSettings) -> KafkaConsumer:
    return sync_consumer(settings, group_id=None, **WHOLE_TOPIC_READ)


def partition_of(key: str, partitions: int) -> int:
    """The partition the clients' default partitioner (murmur2, as Java's) puts a key in."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def spans(client: KafkaConsumer, topic: str, until: datetime | None = None,
          only: list[int] | None = None) -> list[Span]:
    """From the beginning to the end of each partition, or to the first record at or after ``until``."""
    partitions = sorted(client.partitions_for_topic(topic) or [])
    if not partitions:
        raise LookupError(f"主题不存在 topic {topic!r} does not exist")
    tps = [TopicPartition(topic, p) for p in partitions if only is None or p in only]
    begins, ends = client.beginning_offsets(tps), end_offsets_at(client, tps, until)
    return [Span(tp.partition, begins[tp], ends[tp]) for tp in tps]


def read_topic(settings: CommonSettings, topic: str, until: datetime | None = None, only: list[int] | None = None,
               batch: int = 10000) -> Iterator[list]:
    """Batches of records of ``topic`` (up to ``until``), each batch from one partition, in offset order."""
    client = consumer(settings)
    try:
        wanted = {TopicPartition(topic, s.partition): (s.start, s.end) for s in spans(client, topic, until, only)}
        for polled in read_to_end(client, wanted, batch):
            yield from polled.values()
    finally:
        client.close()


def total(settings: CommonSettings, topic: str, until: datetime | None = None) -> int:
    """How many records a read would return (for progress bars)."""
    client = consumer(settings)
    try:
        return sum(s.end - s.start for s in spans(client, topic, until))
    finally:
        client.close()

"""Read a topic to its end with kafka-python (poll batches), and make per-run topics."""
from __future__ import annotations

import time

import orjson
from kafka import TopicPartition

from xinfang.kafka import sync_consumer
from xinfang.settings import CommonSettings
from xinfang.topics import provision


def delete_run_topics(settings: CommonSettings, app_id: str | None = None) -> None:
    """Remove a run's topics from the shared broker (they hold nothing anyone else reads), and those of a faust
    app id of its own (``<app_id>-…``: changelogs, ticks) if given; a topic already gone is no error."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), request_timeout_ms=30000)
    except KafkaError:
        return  # no broker to tidy up
    try:
        mine = [t for t in admin.list_topics() if (app_id and t.startswith(f"{app_id}-"))
                or t in (settings.topic_events, settings.topic_routing, settings.topic_deadletter,
                                                             settings.topic_terminals)]
        if mine:
            admin.delete_topics(mine)
    except KafkaError:
        pass
    finally:
        admin.close()


def run_settings(base: CommonSettings, run: str, **overrides) -> CommonSettings:
    """Settings with topics of their own for one test run, provisioned on the broker."""
    settings = base.model_copy(update={
        "topic_events": f"petition.events.{run}", "topic_routing": f"petition.routing.{run}",
        "topic_deadletter": f"petition.deadletter.{run}", "topic_terminals": f"xinfang.terminals.{run}",
        "partitions": 3, **overrides})
    provision(settings)
    return settings


def read_all(bootstrap: str, topic: str, expect: int | None = None, timeout: float = 30.0,
             key: bytes | None = None) -> list:
    """Every record of a topic (of one key, if given), from the beginning to its end,
    waiting up to ``timeout`` for at least ``expect`` of them."""
    consumer = sync_consumer(CommonSettings(kafka_bootstrap=bootstrap), group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
                records.extend(r for r in batch if key is None or r.key == key)
            ends = consumer.end_offsets(partitions)
            at_end = all(consumer.position(tp) >= ends[tp] for tp in partitions)
            if at_end and (expect is None or len(records) >= expect):
                break
        return records
    finally:
        consumer.close()


def envelopes(records: list) -> list[dict]:
    return [orjson.loads(record.value) for record in records]

"""Topics the worker needs before faust starts, each with the partition count of ``petition.events``.

The shared topics are provisioned (idempotently, refusing any difference) by ``xinfang.topics``;
the internal ticks topic is created here; an existing changelog or ticks topic with another
partition count is refused: co-partitioning is what keeps a matter on one worker.
"""
from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from escalation.settings import EscalationSettings
from xinfang.topics import provision


class TopicLayoutError(RuntimeError):
    """A topic's partition count differs from ``petition.events``."""


def prepare(settings: EscalationSettings) -> None:
    """Provision the shared topics, create the ticks topic, check every partition count."""
    provision(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","),
                             client_id=f"{settings.escalation_app_id}-topics", request_timeout_ms=30000)
    try:
        counts = _partition_counts(admin, [settings.topic_events, settings.ticks_topic, settings.table_changelog])
        if settings.ticks_topic not in counts:
            configs = {"retention.ms": str(settings.escalation_ticks_retention_hours * 3600 * 1000),
                       "cleanup.policy": "delete", "min.insync.replicas": str(settings.min_insync_replicas)}
            try:
                admin.create_topics([NewTopic(settings.ticks_topic, settings.partitions,
                                              settings.replication_factor, topic_configs=configs)])
            except TopicAlreadyExistsError:
                pass
        wrong = {name: n for name, n in counts.items() if n != settings.partitions}
        if wrong:
            raise TopicLayoutError(
                "分区数不一致 partition counts differ from the configured "
                f"{settings.partitions} (petition.events must match): {wrong}")
    finally:
        admin.close()


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    found = {}
    for topic in admin.describe_topics(names):
        if topic["error_code"] == 0:
            found[topic["name"]] = len(topic["partitions"])
    return found

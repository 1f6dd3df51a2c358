"""Topic provisioning against the real Kafka broker (deploy/kafka.sh).

Every test uses its own topic-name prefix, so runs against the same broker never collide, and
deletes its topics afterwards.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from support.waiting import until
from xinfang.settings import CommonSettings
from xinfang.topics import Mismatch, TopicMismatchError, TopicProvisioningError, provision

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin(kafka_bootstrap):
    client = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","), client_id="xinfang-tests")
    yield client
    client.close()


@pytest.fixture
def prefixed(kafka_bootstrap, unique_prefix, admin):
    """Settings whose three topic names carry this test's prefix; the topics are deleted after."""
    settings = CommonSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_events=f"{unique_prefix}.petition.events",
        topic_routing=f"{unique_prefix}.petition.routing",
        topic_deadletter=f"{unique_prefix}.petition.deadletter",
        topic_terminals=f"{unique_prefix}.xinfang.terminals",
    )
    yield settings
    leftovers = [t for t in admin.list_topics() if t.startswith(f"{unique_prefix}.")]
    if leftovers:
        admin.delete_topics(leftovers)


def names(settings: CommonSettings) -> list[str]:
    """The three topics of the history (same partitions, retention for ever)."""
    return [settings.topic_events, settings.topic_routing, settings.topic_deadletter]


def every_name(settings: CommonSettings) -> list[str]:
    return [*names(settings), settings.topic_terminals]


def read_back(admin: KafkaAdminClient, topics: list[str]) -> dict[str, dict]:
    """Partition count, replication factors and effective configs, as the broker reports them."""
    keys = ["retention.ms", "retention.bytes", "cleanup.policy", "min.insync.replicas"]
    # In the three-broker cluster the answering broker may not have applied a just-made creation
    # yet (it then reports the topic unknown, or no configs at all): ask again for a while.
    def known() -> tuple | None:
        described = admin.describe_topics(topics)
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, {k: None for k in keys}) for t in topics], config_filter="all"
        )["topic"]
        complete = all(m["error_code"] == 0 for m in described) and all(configs.get(t) for t in topics)
        return (described, configs) if complete else None

    described, configs = until(known, f"the broker describing {topics} with their configs", timeout=30, every=0.1)
    out = {}
    for meta in described:
        assert meta["error_code"] == 0, meta
        out[meta["name"]] = {
            "partitions": len(meta["partitions"]),
            "replication_factors": {len(p["replica_nodes"]) for p in meta["partitions"]},
            "configs": {k: v["value"] for k, v in configs[meta["name"]].items()},
        }
    return out


def test_provision_creates_topics_whose_broker_configs_match_the_settings(prefixed, admin):
    result = provision(prefixed)

    assert sorted(result.created) == sorted(every_name(prefixed))
    actual = read_back(admin, every_name(prefixed))
    for topic in names(prefixed):
        assert actual[topic] == {
            "partitions": prefixed.partitions,
            "replication_factors": {prefixed.replication_factor},
            "configs": {
                "retention.ms": "-1",
                "retention.bytes": "-1",
                "cleanup.policy": "delete",
                "min.insync.replicas": str(prefixed.min_insync_replicas),
            },
        }, topic
    # the terminals' topic keeps each terminal's latest record: compacted, one partition
    terminals = actual[prefixed.topic_terminals]
    assert terminals["partitions"] == 1 and terminals["configs"]["cleanup.policy"] == "compact"
    assert terminals["configs"]["min.insync.replicas"] == str(prefixed.min_insync_replicas)
    # The default partition count is the one DESIGN.md fixes, and all three topics share it.
    assert CommonSettings.model_fields["partitions"].default == 12


def test_reprovisioning_changes_nothing(prefixed, admin):
    provision(prefixed)
    before = read_back(admin, names(prefixed))

    again = provision(prefixed)

    assert again.created == ()
    assert not again.changed
    assert sorted(again.unchanged) == sorted(every_name(prefixed))
    assert read_back(admin, names(prefixed)) == before
    # A check-only run agrees.
    assert not provision(prefixed, check_only=True).changed


def test_existing_topic_with_other_partition_count_and_retention_is_reported(prefixed, admin):
    admin.create_topics(
        {prefixed.topic_events: {"num_partitions": 3, "replication_factor": 1, "configs": {"retention.ms": "604800000"}}},
        wait_for_metadata=True,
    )

    with pytest.raises(TopicMismatchError) as info:
        provision(prefixed)

    mismatches = set(info.value.mismatches)
    assert Mismatch(prefixed.topic_events, "partitions", str(prefixed.partitions), "3") in mismatches
    assert Mismatch(prefixed.topic_events, "retention.ms", "-1", "604800000") in mismatches
    assert f"{prefixed.topic_events}: partitions expected {prefixed.partitions}, actual 3" in str(info.value)
    # Reported, not "fixed", and nothing else was created in a run that found a mismatch.
    existing = set(admin.list_topics())
    assert prefixed.topic_routing not in existing and prefixed.topic_deadletter not in existing
    assert read_back(admin, [prefixed.topic_events])[prefixed.topic_events]["partitions"] == 3


def test_settings_that_differ_from_provisioned_topics_are_reported(prefixed):
    provision(prefixed)
    changed = prefixed.model_copy(update={"partitions": 6, "min_insync_replicas": 1, "replication_factor": 2})

    with pytest.raises(TopicMismatchError) as info:
        provision(changed)

    settings_named = {(m.topic, m.setting) for m in info.value.mismatches}
    for topic in names(prefixed):
        assert (topic, "partitions") in settings_named
        assert (topic, "replication_factor") in settings_named


def test_check_only_reports_missing_topics_and_creates_nothing(prefixed, admin):
    with pytest.raises(TopicMismatchError) as info:
        provision(prefixed, check_only=True)

    assert {m.topic for m in info.value.mismatches if m.setting == "exists"} == set(every_name(prefixed))
    assert not set(every_name(prefixed)) & set(admin.list_topics())


def test_replication_factor_larger_than_the_cluster_is_refused_clearly(prefixed, admin):
    brokers = len(admin.describe_cluster()["brokers"])
    too_many = prefixed.model_copy(update={"replication_factor": brokers + 1})

    with pytest.raises(TopicProvisioningError, match=f"needs at least that many brokers; .* has {brokers}"):
        provision(too_many)


def test_cli_creates_then_reports_no_change(prefixed):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "shared"),
        "XINFANG_KAFKA_BOOTSTRAP": prefixed.kafka_bootstrap,
        "XINFANG_TOPIC_EVENTS": prefixed.topic_events,
        "XINFANG_TOPIC_ROUTING": prefixed.topic_routing,
        "XINFANG_TOPIC_DEADLETTER": prefixed.topic_deadletter,
        "XINFANG_TOPIC_TERMINALS": prefixed.topic_terminals,
    }
    cmd = [sys.executable, "-m", "xinfang.topics"]

    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    mismatch = subprocess.run(cmd, capture_output=True, text=True, env={**env, "XINFANG_PARTITIONS": "4"}, timeout=60)

    assert first.returncode == 0, first.stderr
    assert first.stdout.count("topics: created ") == 4  # the three of the history and xinfang.terminals
    assert "xinfang.terminals (1 partitions, replication factor 1, min.insync.replicas 1, cleanup.policy compact)" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "topics: no change (4 topics match" in second.stdout
    assert mismatch.returncode == 1
    assert f"{prefixed.topic_events}: partitions expected 4, actual 12" in mismatch.stderr

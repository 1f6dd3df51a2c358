"""Fault drills on the running system: after each, no acknowledged registration is lost, nothing is
counted twice (the statistics equal a fresh replay), and no breach is escalated twice."""
from __future__ import annotations

import time
import uuid

from kafka import TopicPartition
from kafka.errors import KafkaError

from support.broker import PrivateBroker, PrivateCluster
from support.kafka import run_settings
from support.postgres import PrivatePostgres
from support.system import Load, System, check_invariants
from support.waiting import until
from xinfang.kafka import sync_consumer


def test_sigkill_each_service_in_turn_under_load(settings, kafka_bootstrap, test_db, tmp_path):
    run = run_settings(settings.model_copy(update={"database_url": test_db}), uuid.uuid4().hex[:8])
    system = System(run, test_db, tmp_path).start()
    try:
        with Load(system, rate=20) as load:
            load.more(60)
            for name in ("intake", "escalation", "reporting"):
                system.restart(name)
                load.more(60)  # registration goes on after each restart
        assert load.refused == []
        figures = check_invariants(system, set(load.acknowledged.values()))
        assert figures["registered"] >= 100 and figures["escalations"] > 0, figures
    finally:
        system.stop()


def test_kafka_stopped_for_60_seconds(settings, test_db, tmp_path):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    try:
        run = run_settings(settings.model_copy(update={"database_url": test_db, "kafka_bootstrap": broker.bootstrap}),
                           uuid.uuid4().hex[:8])
        system = System(run, test_db, tmp_path).start()
        try:
            with Load(system, rate=10) as load:
                load.more(20)
                broker.stop()
                stopped = time.monotonic()
                time.sleep(60)  # the drill itself: the broker stays down a minute
                during = len(load.acknowledged)
                broker.start()
                load.more(20)
            assert load.refused == []
            assert during >= 300, f"registration must go on while Kafka is down: {during} acknowledged"
            assert time.monotonic() - stopped >= 60
            check_invariants(system, set(load.acknowledged.values()), timeout=180)
        finally:
            system.stop()
    finally:
        broker.stop()


def test_postgresql_restarted_under_load(settings, kafka_bootstrap, tmp_path):
    postgres = PrivatePostgres()
    postgres.start()
    try:
        run = run_settings(settings.model_copy(update={"database_url": postgres.dsn}), uuid.uuid4().hex[:8])
        system = System(run, postgres.dsn, tmp_path).start()
        try:
            with Load(system, rate=20) as load:
                before = load.more(60)
                postgres.restart()
                load.more(40, timeout=60)  # registration resumes after the restart
                assert len(load.acknowledged) > before
            assert load.refused == []
            check_invariants(system, set(load.acknowledged.values()))
        finally:
            system.stop()
    finally:
        postgres.stop()


def events_on_broker(system: System) -> int:
    """Records on the run's events topic: what intake's relay has had acknowledged (0 while the cluster
    cannot say, e.g. before a partition led by a lost broker has a new leader)."""
    try:
        consumer = sync_consumer(system.settings, request_timeout_ms=11000)
    except KafkaError:
        return 0
    try:
        topic = system.settings.topic_events
        return sum(consumer.end_offsets([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]).values())
    except KafkaError:
        return 0
    finally:
        consumer.close()


def test_three_brokers_lose_one_with_acks_all_and_min_insync_2(settings, test_db, tmp_path):
    cluster = PrivateCluster(tmp_path / "cluster")
    cluster.start()
    try:
        run = run_settings(settings.model_copy(update={
            "database_url": test_db, "kafka_bootstrap": cluster.bootstrap, "replication_factor": 3,
            "min_insync_replicas": 2}), uuid.uuid4().hex[:8])
        system = System(run, test_db, tmp_path).start()
        try:
            with Load(system, rate=20) as load:
                load.more(60)
                published = events_on_broker(system)
                cluster.nodes[1].kill()
                load.more(100)  # registration goes on with one broker of three gone …
                until(lambda: events_on_broker(system) >= published + 100,
                      "the relay publishing with two brokers in sync (acks=all, min.insync.replicas=2)", timeout=60)
                during = len(load.acknowledged)
                cluster.nodes[1].start(timeout=120)
                load.more(60)
            assert load.refused == [] and during > 0
            check_invariants(system, set(load.acknowledged.values()), timeout=180)
        finally:
            system.stop()
    finally:
        cluster.stop()

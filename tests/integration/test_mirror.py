"""MirrorMaker 2 copies each county's history into the city under the county's alias (real brokers, real MM2).

Two county brokers and a city broker of the test's own, each on free ports; MirrorMaker 2 run by
deploy/mirror.sh from the configuration generated from a city file; real chained CloudEvents produced into
both counties. What the city projection will rely on: every county record in the city, in the county's
partition and order, with heartbeats and checkpoints beside them; after a SIGKILL under load, every county
event at least once, and (exactly-once into the city, read_committed) exactly once.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict

import orjson
import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from support.broker import PrivateBroker
from support.county_year import county_year
from support.history import History, matter, publish
from support.kafka import read_all
from support.mirror import Load, Mirror, checkpoint_of, city_file, heartbeat_of, holding, mirrored_records
from support.process import ROOT
from support.waiting import until
from xinfang.county import load_county
from xinfang.kafka import read_to_end, sync_consumer
from xinfang.settings import DEMO_COUNTY, CommonSettings
from xinfang.topics import provision

COUNTIES = ("east", "west")
TOPICS = ("petition.events", "petition.routing")


@pytest.fixture(scope="module")
def brokers(tmp_path_factory):
    root = tmp_path_factory.mktemp("brokers")
    nodes = {name: PrivateBroker(root / name) for name in (*COUNTIES, "city")}
    try:
        for node in nodes.values():
            node.start(wait=False)
        for node in nodes.values():
            node.start_wait(180)
        for alias in COUNTIES:  # each county's topics as its own deployment provisions them
            provision(CommonSettings(kafka_bootstrap=nodes[alias].bootstrap, partitions=3))
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


@pytest.fixture(scope="module")
def mirror(brokers, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mirror")
    city = city_file(folder / "city.yaml", brokers["city"].bootstrap, {a: brokers[a].bootstrap for a in COUNTIES})
    mm2 = Mirror(city, folder).start()
    try:
        yield mm2
    finally:
        mm2.stop()


def event_id(record) -> str:
    return orjson.loads(record.value)["id"]


def by_partition(records) -> dict[int, list[bytes]]:
    found = defaultdict(list)
    for record in records:
        found[record.partition].append(record.value)
    return dict(found)


def settings_of(broker) -> CommonSettings:
    return CommonSettings(kafka_bootstrap=broker.bootstrap, partitions=3)


def test_each_countys_history_arrives_in_the_city_under_its_alias_in_its_partitions_and_order(brokers, mirror):
    for alias in COUNTIES:
        history = History()
        for _ in range(25):
            matter(history, str(uuid.uuid4()))
        publish(settings_of(brokers[alias]), history)
    city = brokers["city"].bootstrap
    for alias in COUNTIES:
        for topic in TOPICS:
            county = read_all(brokers[alias].bootstrap, topic)
            assert len(county) >= 25 * (4 if topic == "petition.events" else 2)
            arrived = mirrored_records(city, f"{alias}.{topic}", expect=len(county))
            assert by_partition(arrived) == by_partition(county), f"{alias}.{topic} differs from {alias}'s {topic}"
    admin = KafkaAdminClient(bootstrap_servers=city)
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(("east.", "west.")) and "internal" not in t)
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "east.petition.events",
                                                         {"retention.ms": None})], config_filter="all")["topic"]
    finally:
        admin.close()
    # only the history topics (not the dead letters, not the terminals' tokens); and kept forever, as in the county
    assert mine == ["east.petition.events", "east.petition.routing", "west.petition.events", "west.petition.routing"]
    assert configs["east.petition.events"]["retention.ms"]["value"] == "-1"


def test_the_city_has_each_countys_heartbeats_and_checkpoints_of_its_consumer_groups(brokers, mirror):
    city = brokers["city"].bootstrap
    status = mirror.status()
    assert status.returncode == 0 and "all 2 county flows" in status.stdout, status.stdout + status.stderr
    until(lambda: {heartbeat_of(r)[:2] for r in read_all(city, "heartbeats")} >= {("east", "city"), ("west", "city")},
          "heartbeats of both county flows in the city", 120, every=1)
    # a county service's consumer group (as reporting's) reads and commits; the city learns where it stands
    publish(settings_of(brokers["east"]), _history(3))
    group = f"east-reporting-{uuid.uuid4().hex[:6]}"
    consumer = sync_consumer(brokers["east"].bootstrap, group_id=group)

    def read_to_the_end() -> bool:
        consumer.poll(timeout_ms=500)
        assigned = list(consumer.assignment())
        return bool(assigned) and all(consumer.position(tp) >= end for tp, end in consumer.end_offsets(assigned).items())

    try:
        consumer.subscribe(["petition.events"])
        until(read_to_the_end, "the county group read to the end", 60)
        consumer.commit()
        committed = {tp.partition: consumer.committed(tp) for tp in consumer.assignment()}
    finally:
        consumer.close()

    def checkpoints():
        found = [checkpoint_of(r) for r in read_all(city, "east.checkpoints.internal")]
        return {p: (up, down) for g, t, p, up, down in found if g == group and t == "east.petition.events"}

    until(lambda: set(checkpoints()) >= {p for p, offset in committed.items() if offset},
          f"checkpoints of {group} for every partition it committed", 120, every=1)
    ends = {p: e for p, e in _ends(city, "east.petition.events").items()}
    for partition, (upstream, downstream) in checkpoints().items():
        assert upstream <= committed[partition] and 0 <= downstream <= ends[partition]


def test_mirrormaker_killed_under_load_loses_nothing_and_duplicates_nothing(brokers, mirror):
    demo = load_county(DEMO_COUNTY)
    loads = [Load(settings_of(brokers[alias]), county_year(demo, 2026, 200, seed=n), rate=150)
             for n, alias in enumerate(COUNTIES)]
    before = {(a, t): len(read_all(brokers[a].bootstrap, t)) for a in COUNTIES for t in TOPICS}
    for load in loads:
        load.start()
    city = brokers["city"].bootstrap
    until(lambda: len(read_all(city, "east.petition.events")) >= before["east", "petition.events"] + 300,
          "the load flowing into the city", 120, every=0.5)
    assert all(load.is_alive() for load in loads), "the load ended before the kill: no drill under load"
    mirror.kill()
    mirror.start()
    for load in loads:
        assert load.done(300) == len(load.history.events)
    duplicates, aborted = {}, {}
    for alias in COUNTIES:
        for topic in TOPICS:
            county = read_all(brokers[alias].bootstrap, topic)
            wanted = Counter(event_id(r) for r in county)
            remote = f"{alias}.{topic}"
            arrived = until(lambda remote=remote, wanted=wanted: holding(city, remote, set(wanted)),
                            f"every {alias} {topic} event in {remote}", 240, every=1)
            ids = Counter(event_id(r) for r in arrived)
            assert set(ids) == set(wanted), f"{remote} holds events {alias} never had"
            duplicates[remote] = sum(ids.values()) - sum(wanted.values())
            # what a reader that ignores transactions would see: the records of the transaction the kill aborted
            aborted[remote] = len(_read(city, remote, isolation_level="read_uncommitted")) - len(arrived)
            # de-duplicated on the event id, each partition is the county's partition, in its order
            assert _first_of_each(arrived) == by_partition(county)
    print(f"\nmirror drill: duplicates seen by a read_committed reader after the SIGKILL: {duplicates}; "
          f"records of aborted transactions (seen only by read_uncommitted): {aborted}")
    assert duplicates == {remote: 0 for remote in duplicates}, "exactly-once into the city (read_committed)"


def test_the_citys_kafka_and_a_countys_kafka_each_down_a_minute_lose_nothing_and_copy_nothing_twice(brokers, mirror):
    demo = load_county(DEMO_COUNTY)
    loads = [Load(settings_of(brokers[alias]), county_year(demo, 2026, 150, seed=20 + n), rate=100)
             for n, alias in enumerate(COUNTIES)]
    for load in loads:
        load.start()
    city, east = brokers["city"], brokers["east"]
    until(lambda: all(load.sent > 200 for load in loads), "the load flowing", 60, every=0.2)
    city.stop()  # the city's Kafka down: MirrorMaker cannot write, the counties go on
    sent = sum(load.sent for load in loads)
    time.sleep(60)  # the drill itself: the city's Kafka stays down a minute
    assert sum(load.sent for load in loads) > sent, "no county wrote while the city was down: no drill under load"
    city.start(timeout=120)
    for load in loads:
        load.done(300)
    east.stop()  # one county's Kafka down: its flow has no source, the other county's goes on
    west = Load(settings_of(brokers["west"]), county_year(demo, 2026, 60, seed=30), rate=100)
    west.start()
    time.sleep(60)  # the drill itself: the county's Kafka stays down a minute
    east.start(timeout=120)
    west.done(300)
    after = Load(settings_of(east), county_year(demo, 2026, 40, seed=31), rate=200)  # east registers again
    after.start()
    after.done(300)
    duplicates = {}
    for alias in COUNTIES:
        for topic in TOPICS:
            county = read_all(brokers[alias].bootstrap, topic)
            wanted = Counter(event_id(r) for r in county)
            remote = f"{alias}.{topic}"
            arrived = until(lambda remote=remote, wanted=wanted: holding(city.bootstrap, remote, set(wanted)),
                            f"every {alias} {topic} event in {remote} after the outages", 300, every=1)
            ids = Counter(event_id(r) for r in arrived)
            assert set(ids) == set(wanted), f"{remote} holds events {alias} never had"
            duplicates[remote] = sum(ids.values()) - sum(wanted.values())
            assert _first_of_each(arrived) == by_partition(county)  # each partition the county's, in its order
    print(f"\noutage drill: duplicates seen by a read_committed reader after the outages: {duplicates}")
    assert duplicates == {remote: 0 for remote in duplicates}, "exactly-once into the city (read_committed)"
    audit = subprocess.run([sys.executable, "-m", "reporting.audit", "city-verify", str(mirror.city), "--no-figures"],
                           capture_output=True, text=True, timeout=600,
                           env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-2000:]  # the city's audit agrees: whole, once
    assert orjson.loads(audit.stdout)["consistent"]


def _read(bootstrap: str, topic: str, **overrides) -> list:
    from kafka import TopicPartition

    consumer = sync_consumer(bootstrap, group_id=None, **overrides)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        spans = {tp: (0, end) for tp, end in consumer.end_offsets(tps).items()}
        return [r for polled in read_to_end(consumer, spans) for records in polled.values() for r in records]
    finally:
        consumer.close()


def _first_of_each(records) -> dict[int, list[bytes]]:
    seen, found = set(), defaultdict(list)
    for record in records:
        if (key := event_id(record)) not in seen:
            seen.add(key)
            found[record.partition].append(record.value)
    return dict(found)


def _history(matters: int) -> History:
    history = History()
    for _ in range(matters):
        matter(history, str(uuid.uuid4()))
    return history


def _ends(bootstrap: str, topic: str) -> dict[int, int]:
    from kafka import TopicPartition

    consumer = sync_consumer(bootstrap, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: end for tp, end in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def test_a_county_added_to_the_city_file_is_mirrored_after_a_restart_with_no_code(brokers, mirror, tmp_path):
    north = PrivateBroker(tmp_path / "north")
    north.start(timeout=180)
    try:
        provision(settings_of(north))
        publish(settings_of(north), _history(10))
        before = {t: Counter(event_id(r) for r in read_all(brokers["city"].bootstrap, f"east.{t}")) for t in TOPICS}
        city_file(mirror.city, brokers["city"].bootstrap, {**{a: brokers[a].bootstrap for a in COUNTIES},
                                                           "north": north.bootstrap})
        mirror.stop()
        mirror.start()
        for topic in TOPICS:
            county = read_all(north.bootstrap, topic)
            arrived = mirrored_records(brokers["city"].bootstrap, f"north.{topic}", expect=len(county))
            assert by_partition(arrived) == by_partition(county)
            # the counties already mirrored go on where they stood: nothing copied again
            after = Counter(event_id(r) for r in read_all(brokers["city"].bootstrap, f"east.{topic}"))
            assert after == before[topic]
    finally:
        north.stop()

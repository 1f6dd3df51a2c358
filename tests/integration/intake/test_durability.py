"""Nothing acknowledged is lost or published twice: SIGKILL around the relay, and a Kafka outage."""
from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections import Counter

import asyncpg
import orjson
from kafka import KafkaProducer

from support.broker import PrivateBroker
from support.intake import VILLAGE_CODE, Intake, intake_env
from support.kafka import envelopes, read_all, run_settings
from support.process import ServiceProcess, free_port
from support.waiting import until_async


def body(n: int) -> dict:
    return {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": f"第{n}件",
            "head_count": 1 + n % 7, "petitioners": [{"name": f"信访人{n}"}]}


def start_intake(settings, pg_dsn, tmp_path, schema, **env) -> tuple[ServiceProcess, Intake]:
    port = free_port()
    proc = ServiceProcess("intake", intake_env(settings, schema, port, **env), port, tmp_path / f"{schema}.log")
    proc.start()
    return proc, Intake(proc, settings, schema)


def each_once_in_order(records, expected_ids: set[str]) -> None:
    events = envelopes(records)
    counts = Counter(e["id"] for e in events)
    assert set(counts) >= expected_ids, f"missing on the topic: {len(expected_ids - set(counts))}"
    assert max(counts.values()) == 1, f"published twice: {[i for i, n in counts.items() if n > 1][:5]}"
    by_matter: dict[str, list[int]] = {}
    for e in events:
        by_matter.setdefault(e["subject"], []).append(e["seq"])
    assert all(seqs == sorted(seqs) for seqs in by_matter.values())


async def empty(pg_dsn: str, schema: str) -> bool:
    return not await outbox(pg_dsn, schema)


async def outbox(pg_dsn: str, schema: str) -> list:
    conn = await asyncpg.connect(pg_dsn)
    try:
        return await conn.fetch(f"SELECT position, event_id, petition_id, body FROM {schema}.outbox ORDER BY position")
    finally:
        await conn.close()


async def test_sigkill_between_commit_and_publish(settings, kafka_bootstrap, test_db, tmp_path):
    base = run_settings(settings.model_copy(update={"database_url": test_db}), uuid.uuid4().hex[:8])
    schema = f"intake_{uuid.uuid4().hex[:8]}"
    proc, client = start_intake(base, test_db, tmp_path, schema, XINFANG_RELAY_ENABLED="false")
    ids = [client.register(**body(n))["petition_id"] for n in range(20)]
    for pid in ids[:5]:
        assert client.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": 2}).status_code == 201
    pending = await outbox(test_db, schema)
    assert len(pending) == 25
    proc.kill()  # committed, never published
    proc.start(XINFANG_RELAY_ENABLED="true")
    records = read_all(base.kafka_bootstrap, base.topic_events, expect=25)
    each_once_in_order(records, {str(r["event_id"]) for r in pending})
    assert await outbox(test_db, schema) == []
    proc.stop()


async def test_crash_after_publish_before_the_outbox_delete_publishes_nothing_twice(settings, kafka_bootstrap, test_db, tmp_path):
    base = run_settings(settings.model_copy(update={"database_url": test_db}), uuid.uuid4().hex[:8])
    schema = f"intake_{uuid.uuid4().hex[:8]}"
    proc, client = start_intake(base, test_db, tmp_path, schema)
    first = client.register(**body(0))["petition_id"]
    read_all(base.kafka_bootstrap, base.topic_events, expect=1)
    proc.kill()
    proc.start(XINFANG_RELAY_ENABLED="false")
    ids = [client.register(**body(n))["petition_id"] for n in range(1, 11)]
    pending = await outbox(test_db, schema)
    # what a relay killed after the broker's acknowledgement, before its delete, leaves behind
    producer = KafkaProducer(bootstrap_servers=base.kafka_bootstrap, acks="all")
    for row in pending[:5]:
        producer.send(base.topic_events, key=str(row["petition_id"]).encode(), value=bytes(row["body"]))
    producer.flush()
    producer.close()
    proc.kill()
    proc.start(XINFANG_RELAY_ENABLED="true")
    read_all(base.kafka_bootstrap, base.topic_events, expect=11)
    # a wrongful second publication would come from rows left in the outbox: once it is empty (the relay
    # has had every row acknowledged and deleted it), nothing more can appear
    await until_async(lambda: empty(test_db, schema), "the relay emptied the outbox", timeout=30)
    records = read_all(base.kafka_bootstrap, base.topic_events, expect=11)
    each_once_in_order(records, {str(r["event_id"]) for r in pending})
    assert len(records) == 11 and {orjson.loads(r.value)["subject"] for r in records} == {first, *ids}
    proc.stop()


async def test_kafka_down_30s_while_500_registrations_are_posted(settings, test_db, tmp_path):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    try:
        base = run_settings(settings.model_copy(update={"database_url": test_db, "kafka_bootstrap": broker.bootstrap}),
                            uuid.uuid4().hex[:8])
        schema = f"intake_{uuid.uuid4().hex[:8]}"
        proc, client = start_intake(base, test_db, tmp_path, schema)
        token = client.terminal("room.361402001001")
        broker.stop()
        stopped = time.monotonic()

        def register(n: int):
            return client.http.post("/v1/petitions", json=body(n),
                                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"k{n}"})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(register, range(500)))
        assert Counter(a.status_code for a in answers) == {201: 500}
        time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))  # the scenario itself: the broker stays down 30 s
        assert len(await outbox(test_db, schema)) == 500
        broker.start()
        records = read_all(base.kafka_bootstrap, base.topic_events, expect=500, timeout=90)
        ids = {a.json()["petition_id"] for a in answers}
        each_once_in_order(records, {e["id"] for e in envelopes(records)})
        assert {e["subject"] for e in envelopes(records)} == ids and len(records) == 500
        proc.stop()
    finally:
        broker.stop()

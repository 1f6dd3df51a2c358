"""The whole pipeline idle: no consumer group rebalances (read from the broker), and readiness means caught up.

Issue 15 saw the broker drop reporting's member every ~15 s while idle ("removing member … on heartbeat
expiration").  The idle window here is 45 s, three times that period: a member lost even once changes the
member id the broker reports, or leaves the group out of ``Stable`` at a sample (one a second)."""
from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
from kafka import KafkaAdminClient, TopicPartition

from support.kafka import delete_run_topics, run_settings
from support.system import Load, System
from support.waiting import until
from xinfang.kafka import sync_consumer

IDLE_SECONDS = 45


def groups_seen(admin: KafkaAdminClient, groups: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    found = admin.describe_groups(groups)
    return {g: (found[g]["group_state"], tuple(sorted(m["member_id"] for m in found[g]["members"]))) for g in groups}


async def projected(dsn: str, schema: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{schema}".offsets'))
    finally:
        await conn.close()


def records_on(run) -> int:
    consumer = sync_consumer(run, group_id=None)
    try:
        tps = [TopicPartition(t, p) for t in (run.topic_events, run.topic_routing) for p in range(run.partitions)]
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


def test_an_idle_system_keeps_every_consumer_group_and_readiness_waits_for_the_catch_up(settings, kafka_bootstrap,
                                                                                          pg_dsn, tmp_path):
    dsn = pg_dsn.rsplit("/", 1)[0] + "/xinfang_test"
    run = run_settings(settings.model_copy(update={"database_url": dsn}), uuid.uuid4().hex[:8])
    system = System(run, dsn, tmp_path).start()
    admin = KafkaAdminClient(bootstrap_servers=run.kafka_bootstrap.split(","))
    groups = [f"reporting-{system.run}", f"intake-routing-{system.intake_schema}", f"escalation-{system.run}"]
    try:
        with Load(system, rate=20) as load:
            load.more(60)  # some traffic (3 s at 20 a second) for the catch-up below, then the pipeline goes idle
        system.procs["escalation"].stop()  # the topics stop growing: "caught up" has one meaning
        reporting = system.procs["reporting"]
        reporting.kill()
        reporting.start(timeout=120)  # returns at the first 200 of /readyz
        assert asyncio.run(projected(dsn, system.reporting_schema)) == records_on(run)
        assert httpx.get(f"{system.procs['intake'].url}/readyz").json()["routing_caught_up"] is True
        system.procs["escalation"].start(timeout=120)

        seen: dict = {}

        def settled() -> dict | None:
            seen["groups"] = groups_seen(admin, groups)
            stable = all(state == "Stable" and len(members) == 1 for state, members in seen["groups"].values())
            return seen["groups"] if stable else None

        until(settled, lambda: f"every group Stable with one member: {seen['groups']}", timeout=60, every=0.5)
        first = groups_seen(admin, groups)
        samples = 0
        end = time.monotonic() + IDLE_SECONDS
        while time.monotonic() < end:
            assert groups_seen(admin, groups) == first, (samples, first)
            samples += 1
            time.sleep(1)  # the scenario: one sample a second over the whole idle window, not a wait for a condition
        assert samples >= IDLE_SECONDS // 2
    finally:
        admin.close()
        system.stop()
        delete_run_topics(run, f"escalation-{system.run}")

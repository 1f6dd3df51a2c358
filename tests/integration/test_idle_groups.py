"""The whole pipeline idle: no consumer group rebalances (read from the broker), and readiness means caught up.

Issue 15 saw the broker drop reporting's member every ~15 s while idle ("removing member … on heartbeat
expiration").  The idle window here is 45 s, three times that period: a member lost even once changes the
member id the broker reports, or leaves the group out of ``Stable`` at a sample (one a second).

The cause was reporting's rebalance listener: aiokafka sends no heartbeat while it runs, and it awaited
one offset reset a partition with nothing stored, each behind the fetch in flight (500 ms on an idle
topic): 24 empty partitions, 12 s, over the 10 s session timeout, again at every rejoin.  The run topics
of the pipeline test have 3 partitions (1.5 s), so the second test starts a fresh reporting on idle
topics of the deployed width, 12 partitions each."""
from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
from kafka import KafkaAdminClient, TopicPartition

from support.kafka import delete_run_topics, run_settings
from support.process import ServiceProcess, free_port
from support.reporting import drop_schema, reporting_env
from support.system import Load, System
from support.waiting import until
from xinfang.kafka import sync_consumer

IDLE_SECONDS = 45
FRESH_IDLE_SECONDS = 30  # the session timeout (10 s), the 12 s the old listener took, the heartbeat that notices


def groups_seen(admin: KafkaAdminClient, groups: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    found = admin.describe_groups(groups)
    return {g: (found[g]["group_state"], tuple(sorted(m["member_id"] for m in found[g]["members"]))) for g in groups}


async def projected(dsn: str, schema: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{schema}".offsets'))
    finally:
        await conn.close()


def settle(admin: KafkaAdminClient, groups: list[str]) -> dict:
    """Until every group is ``Stable`` with one member, as the broker tells; returns what it told."""
    seen: dict = {}

    def settled() -> dict | None:
        seen["groups"] = groups_seen(admin, groups)
        stable = all(state == "Stable" and len(members) == 1 for state, members in seen["groups"].values())
        return seen["groups"] if stable else None

    return until(settled, lambda: f"every group Stable with one member: {seen['groups']}", timeout=60, every=0.5)


def assert_kept(admin: KafkaAdminClient, groups: list[str], seconds: float, also=lambda: None) -> None:
    """The groups as the broker tells them now, unchanged at a sample a second for ``seconds``; ``also`` is
    checked at every sample too."""
    first = groups_seen(admin, groups)
    samples = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert groups_seen(admin, groups) == first, (samples, first)
        also()
        samples += 1
        time.sleep(1)  # the scenario: one sample a second over the whole idle window, not a wait for a condition
    assert samples >= seconds // 2


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
        settle(admin, groups)
        assert_kept(admin, groups, IDLE_SECONDS)
    finally:
        admin.close()
        system.stop()
        delete_run_topics(run, f"escalation-{system.run}")


def test_a_fresh_reporting_on_idle_topics_of_the_deployed_width_keeps_its_member_from_the_first_join(
        settings, kafka_bootstrap, pg_dsn, tmp_path):
    dsn = pg_dsn.rsplit("/", 1)[0] + "/xinfang_test"
    tag = uuid.uuid4().hex[:8]
    run = run_settings(settings, tag, partitions=12)  # as deployed: 24 partitions, none with a record
    schema = f"idle_{tag}"  # a new schema: no offset stored for any partition
    port = free_port()
    reporting = ServiceProcess("reporting", reporting_env(run, dsn, schema, port), port=port,
                               log=tmp_path / "reporting.log")
    admin = KafkaAdminClient(bootstrap_servers=run.kafka_bootstrap.split(","))
    groups = [f"reporting-{schema}"]

    def ready_means_assigned() -> None:
        answer = httpx.get(f"{reporting.url}/readyz", timeout=5)
        if answer.status_code == 200:  # ready only once the assignment is sought, not while the listener runs
            assert answer.json()["consumer_assigned"] is True, answer.json()

    try:
        reporting.launch()
        settle(admin, groups)  # the first join: from here the broker must keep this member
        assert_kept(admin, groups, FRESH_IDLE_SECONDS, also=ready_means_assigned)
        reporting.wait_ready(timeout=30)
        assert httpx.get(f"{reporting.url}/readyz").json()["consumer_assigned"] is True
    finally:
        admin.close()
        reporting.stop()
        asyncio.run(drop_schema(dsn, schema))
        delete_run_topics(run)

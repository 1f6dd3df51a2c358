"""The audit's replay equals the live tables; a report as of a past moment equals the live report then."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone


from support.kafka import run_settings
from support.process import ROOT
from support.system import FAST_COUNTY, Load, System


def audit(system: System, *args: str) -> subprocess.CompletedProcess:
    s = system.settings
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
           "XINFANG_KAFKA_BOOTSTRAP": s.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": s.topic_events,
           "XINFANG_TOPIC_ROUTING": s.topic_routing, "XINFANG_PARTITIONS": str(s.partitions),
           "XINFANG_DATABASE_URL": system.dsn, "XINFANG_COUNTY_FILE": str(FAST_COUNTY),
           "XINFANG_REPORTING_SCHEMA": system.reporting_schema}
    return subprocess.run([sys.executable, "-m", "reporting.audit", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def caught_up(system: System, timeout: float = 60, schema: str | None = None) -> None:
    """Wait until reporting has projected everything on both topics (into ``schema``, by default the system's)."""
    import asyncio

    import asyncpg
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=system.settings.kafka_bootstrap)
    tps = [TopicPartition(t, p) for t in (system.settings.topic_events, system.settings.topic_routing)
           for p in consumer.partitions_for_topic(t)]

    async def projected() -> int:
        conn = await asyncpg.connect(system.dsn)
        try:
            return await conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{schema or system.reporting_schema}".offsets')
        finally:
            await conn.close()

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if asyncio.run(projected()) >= sum(consumer.end_offsets(tps).values()):
                return
            time.sleep(0.3)
    finally:
        consumer.close()
    raise AssertionError("reporting did not catch up")


def test_replay_equals_live_and_a_past_report_equals_the_live_report_then(settings, kafka_bootstrap, pg_dsn, tmp_path):
    dsn = pg_dsn.rsplit("/", 1)[0] + "/xinfang_test"
    run = run_settings(settings.model_copy(update={"database_url": dsn}), uuid.uuid4().hex[:8])
    system = System(run, dsn, tmp_path).start()
    try:
        with Load(system, rate=20):
            time.sleep(4)
        system.procs["escalation"].stop()  # the routing topic stops growing, so "then" is well defined
        caught_up(system)
        time.sleep(8)  # every due time of the test county (seconds) has passed: figures no longer move by themselves
        year = str(datetime.now().year)
        then_report = system.reporting().get("/v1/stats", params={"year": year}).json()
        then = datetime.now(timezone.utc)
        time.sleep(1.5)
        with Load(system, rate=20):  # history goes on after "then"
            time.sleep(3)
        caught_up(system)
        now_report = system.reporting().get("/v1/stats", params={"year": year}).json()
        assert now_report["figures"]["cases"]["value"] > then_report["figures"]["cases"]["value"]

        verified = audit(system, "verify", "--scratch", f"audit_v_{system.run}")
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
        document = json.loads(verified.stdout)
        assert document["tables"] == {} and document["figure_differences"] == []
        assert document["figures_compared"] > 0 and document["integrity"]["findings"] == []

        past = audit(system, "report", "--as-of", then.isoformat(), "--year", year, "--scratch", f"audit_a_{system.run}")
        assert past.returncode == 0, past.stderr[-2000:]
        figures = json.loads(past.stdout)["stats"]["figures"]
        assert {k: v["value"] for k, v in figures.items()} == \
            {k: v["value"] for k, v in then_report["figures"].items()}
    finally:
        system.stop()

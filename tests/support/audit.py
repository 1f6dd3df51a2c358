"""The audit command (python -m reporting.audit) against a running system, and waiting for reporting to catch up."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from kafka import TopicPartition

from support.process import ROOT
from support.system import FAST_COUNTY, System
from support.waiting import until
from xinfang.kafka import sync_consumer


def audit(system: System, *args: str) -> subprocess.CompletedProcess:
    return audit_on(system.settings, system.dsn, FAST_COUNTY, system.reporting_schema, *args)


def audit_on(s, dsn: str, county: Path, schema: str, *args: str) -> subprocess.CompletedProcess:
    """The audit command on a run's topics (settings ``s``), database, county file and live schema."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
           "XINFANG_KAFKA_BOOTSTRAP": s.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": s.topic_events,
           "XINFANG_TOPIC_ROUTING": s.topic_routing, "XINFANG_PARTITIONS": str(s.partitions),
           "XINFANG_DATABASE_URL": dsn, "XINFANG_COUNTY_FILE": str(county),
           "XINFANG_REPORTING_SCHEMA": schema}
    return subprocess.run([sys.executable, "-m", "reporting.audit", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def caught_up(system: System, timeout: float = 60, schema: str | None = None) -> None:
    """Wait until reporting has projected everything on both topics (into ``schema``, by default the system's)."""
    schema = schema or system.reporting_schema
    consumer = sync_consumer(system.settings)
    tps = [TopicPartition(t, p) for t in (system.settings.topic_events, system.settings.topic_routing)
           for p in consumer.partitions_for_topic(t)]

    async def projected() -> int:
        conn = await asyncpg.connect(system.dsn)
        try:
            return await conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{schema}".offsets')
        finally:
            await conn.close()

    try:
        until(lambda: asyncio.run(projected()) >= sum(consumer.end_offsets(tps).values()),
              f"reporting caught up with both topics in schema {schema}", timeout, every=0.3)
    finally:
        consumer.close()

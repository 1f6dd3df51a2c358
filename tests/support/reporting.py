"""Drive a real reporting process (python -m reporting) and wait for its projection; for tests and the benchmark."""
from __future__ import annotations

from datetime import datetime, timezone

import asyncpg

from support.process import ROOT, ServiceProcess, free_port
from support.waiting import until_async

DEMO = ROOT / "deploy" / "counties" / "demo.yaml"


def reporting_env(settings, dsn: str, schema: str, port: int, **extra) -> dict[str, str]:
    return {"XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_DATABASE_URL": dsn,
            "XINFANG_REPORTING_SCHEMA": schema, "XINFANG_REPORTING_PORT": str(port),
            "XINFANG_TOPIC_EVENTS": settings.topic_events, "XINFANG_TOPIC_ROUTING": settings.topic_routing,
            "XINFANG_TOPIC_DEADLETTER": settings.topic_deadletter,
            "XINFANG_TOPIC_TERMINALS": settings.topic_terminals, "XINFANG_PARTITIONS": str(settings.partitions),
            "XINFANG_COUNTY_FILE": str(DEMO), "XINFANG_CONSUMER_GROUP": f"reporting-{schema}", **extra}


def start_reporting(settings, dsn: str, schema: str, log, **extra) -> ServiceProcess:
    port = free_port()
    proc = ServiceProcess("reporting", reporting_env(settings, dsn, schema, port, **extra), port=port, log=log)
    return proc.start(timeout=60)


async def projected(dsn: str, schema: str) -> int:
    """How many records of the run's topics the schema has consumed."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{schema}".offsets'))
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


async def queued(dsn: str, schema: str) -> int:
    """Matters whose current state is still to be recomputed."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(f'SELECT count(*) FROM "{schema}".refresh_queue')
    finally:
        await conn.close()


async def wait_projected(dsn: str, schema: str, expected: int, timeout: float = 90) -> int:
    """Until the schema has consumed ``expected`` records and recomputed every matter they touched."""
    async def done() -> int:
        seen = await projected(dsn, schema)
        return seen if seen >= expected and await queued(dsn, schema) == 0 else 0

    return await until_async(done, f"schema {schema} projected {expected} records and recomputed their matters",
                             timeout, every=0.1)


async def drop_schema(dsn: str, *schemas: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def plant_terminal(settings, terminal_id: str, unit: str, roles: list[str], token: str,
                   revoked_at: datetime | None = None) -> None:
    """Put a terminal's lifecycle event on the run's terminals topic, as intake would: reporting then accepts
    ``token`` with those roles and that unit's scope (for tests with no intake) — or, ``revoked_at`` given,
    refuses it from then on."""
    from xinfang.kafka import sync_producer
    from xinfang.terminals import lifecycle_event, token_hash

    event = lifecycle_event(terminal_id, unit, roles, token_hash(token), datetime.now(timezone.utc), revoked_at,
                            "/xinfang/361402/intake")
    producer = sync_producer(settings)
    try:
        producer.send(settings.topic_terminals, key=event.subject.encode(), value=event.to_json())
        producer.flush(30)
    finally:
        producer.close()

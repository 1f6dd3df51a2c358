"""Audit replay throughput over a large history, beside kcat reading the same topics to /dev/null.

    python bench/audit_bench.py [--events 1000000]

Generates a history (matters registered, visited again, accepted, replied, evaluated — each a valid
hash chain) on scratch topics of 12 partitions, then in one run: kcat reads both topics to
/dev/null (the raw read rate of this machine), and the audit replay rebuilds the reporting
projections from them into a scratch schema (kafka-python → projection → PostgreSQL): a bulk load,
one worker process per core, COPY into unindexed tables, then keys, indexes and every matter's
state (the phases are reported apart).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone

import asyncpg
import orjson
from common import save
from kafka import KafkaProducer

from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.seed import VILLAGES as SEED_VILLAGES
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import Accepted, Evaluated, Registered, Replied, VisitRecorded
from xinfang.settings import CommonSettings

VILLAGES = [code for code, _ in SEED_VILLAGES]  # every village of the demo county
T0 = datetime(2026, 1, 1, 1, tzinfo=timezone.utc)


def matter_events(n: int, county: int = 2) -> list[bytes]:
    """Matter ``n``'s five chained events; ``county``: the county number of tests/support/city.py (its codes
    ``3614nn…``, its own petition and event ids; 2 is the demo county)."""
    (village, room), own = SEED_VILLAGES[n % len(SEED_VILLAGES)], f"3614{county:02d}"
    village, room, ids = village.replace("361402", own, 1), room.replace("361402", own, 1), (county - 2) << 96
    subject = str(uuid.UUID(int=ids + n + 1))
    start = T0 + timedelta(minutes=n * 7 % 500000)
    facts = [Registered(receipt_no=f"2026-{own}-{n:07d}", batch_id=f"b{n}", channel="visit", jurisdiction=village,
                        category="labour", summary="基准", head_count=1 + n % 9, unit=room, tier="village"),
             VisitRecorded(batch_id=f"v{n}", channel="visit", head_count=2, unit=room, tier="village"),
             Accepted(unit=room),
             Replied(unit=room, decision="support", resolved=n % 5 != 0, facts="已查明", grounds="已办理"),
             Evaluated(satisfaction="satisfied")]
    out, prev = [], GENESIS_HASH
    for seq, data in enumerate(facts, 1):
        at = start + timedelta(days=seq)
        event = CloudEvent.chained(event_id=str(uuid.UUID(int=ids + (n << 4) + seq)), source=f"/xinfang/{own}/intake",
                                   type=f"petition.{_type(data)}.v1", subject=subject, recorded=at, occurred=at,
                                   actor="terminal:bench", seq=seq, prevhash=prev, data=data.model_dump(mode="json"))
        prev = event.hash
        out.append(event.to_json())
    return out


def _type(data) -> str:
    return {"Registered": "registered", "VisitRecorded": "visit_recorded", "Accepted": "accepted",
            "Replied": "replied", "Evaluated": "evaluated"}[type(data).__name__]


def _produce_part(bootstrap: str, topic: str, matters: range, county: int = 2) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                             batch_size=512 * 1024, compression_type=None, max_in_flight_requests_per_connection=5)
    for n in matters:
        events = matter_events(n, county)
        key = orjson.loads(events[0])["subject"].encode()
        for body in events:
            producer.send(topic, key=key, value=body)
    producer.flush()
    producer.close()


def produce(settings, events: int) -> float:
    """Five events a matter, chained and produced by one process per core (chaining is the slow part)."""
    started = time.perf_counter()
    parts = os.cpu_count() or 1
    matters = events // 5
    with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_produce_part, [settings.kafka_bootstrap] * parts, [settings.topic_events] * parts,
                      [range(i, matters, parts) for i in range(parts)]))
    return time.perf_counter() - started


def kcat_seconds(settings, topics: list[str] | None = None) -> float:
    started = time.perf_counter()
    for topic in topics or (settings.topic_events, settings.topic_routing):
        subprocess.run(["kcat", "-C", "-b", settings.kafka_bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                        "-X", "fetch.message.max.bytes=16777216"], stdout=subprocess.DEVNULL, check=True, timeout=600)
    return time.perf_counter() - started


async def replay_seconds(settings, dsn: str, schema: str, roles=None):
    from reporting.replay import replay

    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()
    started = time.perf_counter()
    result = await replay(settings, dsn, schema, roles=roles)
    seconds = time.perf_counter() - started
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    base = CommonSettings()
    dsn = test_database(base.database_url)
    settings = run_settings(base.model_copy(update={"database_url": dsn}), f"audit{uuid.uuid4().hex[:6]}",
                            partitions=12)
    load_at_start = os.getloadavg()
    try:
        produced = produce(settings, args.events)
        kcat = kcat_seconds(settings)
        load_before = os.getloadavg()  # the machine is shared: how busy it was when the replay began
        seconds, result = asyncio.run(replay_seconds(settings, dsn, f"bench_replay_{uuid.uuid4().hex[:6]}"))
    finally:
        delete_run_topics(settings)
    records = result.records
    rate, raw = records / seconds, args.events / kcat
    save("audit", {
        "events": records, "produce_seconds": round(produced, 1),
        "replay_seconds": round(seconds, 1), "replay_events_per_s": round(rate),
        "replay_mode": result.mode, "replay_processes": result.processes,
        **{f"replay_{phase}_s": value for phase, value in (result.phases or {}).items()},
        "kcat_seconds": round(kcat, 2), "kcat_events_per_s": round(raw),
        "replay_fraction_of_kcat": round(rate / raw, 3),
        "load_average_at_start": [round(x, 2) for x in load_at_start],  # the producers load the machine after it
        "load_average_at_replay": [round(x, 2) for x in load_before],
        "targets": {"replay_events_per_s": ">= 30000", "replay_fraction_of_kcat": ">= 0.25"},
    })


if __name__ == "__main__":
    main()

"""The city's replay (issue 20): 2,000,000 events of 20 counties' mirrored topics replayed into a city schema,
beside kcat reading the same topics in the same run.

    python bench/city_replay_bench.py [--counties 20] [--events 2000000]

Needs PostgreSQL and Kafka (`deploy/dev up`). The city's Kafka is the shared broker: each county's history is
produced straight into the topics MirrorMaker 2 would write (``c02.petition.events.<run>`` …, three partitions
each, as a county provisions them) — what is measured is the city's replay, not the mirroring (bench/mirror_bench.py
measures that). Each county's matters are chained events of its own codes and ids (bench/audit_bench.py's
generator, per county: tests/support/city.py's county files). The replay is ``reporting.replay`` with the topics the
city-mode service reads (``reporting.city.deployment`` from a city file of the 20 counties): kafka-python →
projection → PostgreSQL, a bulk load, one worker process per core; kcat reads the same 40 topics to /dev/null.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from audit_bench import _produce_part, kcat_seconds, replay_seconds
from city_bench import city_yaml
from common import save
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from reporting.city import deployment
from reporting.settings import ReportingSettings
from support.city import county_file
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from xinfang.settings import CommonSettings

PARTITIONS = 3


def produce(bootstrap: str, topics: dict[int, str], matters: int) -> float:
    """``matters`` matters (five events each) per county into its mirrored events topic, one process per core."""
    started = time.perf_counter()
    parts = os.cpu_count() or 1
    jobs = [(bootstrap, topic, range(i, matters, parts), n) for n, topic in topics.items() for i in range(parts)]
    with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_produce_part, *zip(*jobs, strict=True)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--events", type=int, default=2_000_000, help="in all, five a matter, shared by the counties")
    args = parser.parse_args()
    base = CommonSettings()
    dsn = test_database(base.database_url)
    run = f"cityreplay{uuid.uuid4().hex[:6]}"
    settings = run_settings(base.model_copy(update={"database_url": dsn}), run, partitions=1)
    folder = Path(tempfile.mkdtemp())
    numbers = list(range(2, 2 + args.counties))
    files = {n: county_file(folder / f"c{n:02d}.yaml", n) for n in numbers}
    city_path = city_yaml(folder / "city.yaml", base.kafka_bootstrap, files)
    city_settings, _, roles, city = deployment(ReportingSettings(
        reporting_mode="city", city_file=str(city_path), database_url=dsn,
        topic_events=settings.topic_events, topic_routing=settings.topic_routing))
    admin = KafkaAdminClient(bootstrap_servers=base.kafka_bootstrap, request_timeout_ms=30000)
    admin.create_topics([NewTopic(topic, PARTITIONS, 1) for topic in roles])
    events_of = {n: city.remote_topic(f"c{n:02d}", settings.topic_events) for n in numbers}
    load_at_start = os.getloadavg()
    try:
        produced = produce(base.kafka_bootstrap, events_of, args.events // 5 // args.counties)
        kcat = kcat_seconds(settings, list(roles))
        load_before = os.getloadavg()  # the machine is shared: how busy it was when the replay began
        seconds, result = asyncio.run(replay_seconds(city_settings, dsn, f"bench_city_replay_{run[-6:]}", roles))
    finally:
        admin.delete_topics(list(roles))
        admin.close()
        delete_run_topics(settings)
    records = result.records
    rate, raw = records / seconds, records / kcat
    save("city_replay", {
        "counties": args.counties, "topics": len(roles), "events": records, "produce_seconds": round(produced, 1),
        "replay_seconds": round(seconds, 1), "replay_events_per_s": round(rate),
        "replay_mode": result.mode, "replay_processes": result.processes,
        **{f"replay_{phase}_s": value for phase, value in (result.phases or {}).items()},
        "kcat_seconds": round(kcat, 2), "kcat_events_per_s": round(raw),
        "replay_fraction_of_kcat": round(rate / raw, 3),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_at_replay": [round(x, 2) for x in load_before],
        "targets": {"replay_events_per_s": "reported beside kcat (issue 20 names no ratio)"},
    })


if __name__ == "__main__":
    main()

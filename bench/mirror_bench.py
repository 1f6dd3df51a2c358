"""Mirroring: lag from a county's append to the city's append through MirrorMaker 2, two counties at once.

    python bench/mirror_bench.py [--rate 200] [--seconds 60] [--partitions 12] [--modes exactly-once,at-least-once]

Starts, for each mode, two county brokers and a city broker of its own (free ports; the shared broker is not
touched), provisions each county's topics as a county deployment does, and runs MirrorMaker 2 through
deploy/mirror.sh from a generated city file. Each county then receives a synthetic demo-county history
(chained CloudEvents, both topics) at ``--rate`` events per second for ``--seconds``. The county topics stamp
records on append (LogAppendTime); the city's copies are created beforehand with LogAppendTime too (MirrorMaker
keeps an existing topic's timestamp type), so each event's lag is the city's append time minus the county's.
Figures: lag p50/p99/max over every event of both counties, per county p99, duplicates seen by a read_committed
reader, and the load average. The baseline beside exactly-once is the same flow at least once (no transactions).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson
from common import percentile, save
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic

from support.broker import PrivateBroker
from support.county_year import county_year
from support.mirror import Load, Mirror, city_file
from support.waiting import until
from xinfang.county import load_county
from xinfang.kafka import WHOLE_TOPIC_READ, read_to_end, sync_consumer
from xinfang.settings import DEMO_COUNTY, CommonSettings
from xinfang.topics import provision

COUNTIES = ("east", "west")
TOPICS = ("petition.events", "petition.routing")


def stamps(bootstrap: str, topic: str) -> dict[str, list[int]]:
    """Event id → the append timestamps of its records (more than one if mirrored twice)."""
    consumer = sync_consumer(bootstrap, group_id=None, **WHOLE_TOPIC_READ)
    found: dict[str, list[int]] = {}
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        spans = {tp: (0, end) for tp, end in consumer.end_offsets(tps).items()}
        for polled in read_to_end(consumer, spans):
            for records in polled.values():
                for record in records:
                    found.setdefault(orjson.loads(record.value)["id"], []).append(record.timestamp)
    finally:
        consumer.close()
    return found


def measure(mode: str, rate: float, seconds: float, partitions: int) -> dict:
    demo = load_county(DEMO_COUNTY)
    with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
        root = Path(tmp)
        nodes = {name: PrivateBroker(root / name) for name in (*COUNTIES, "city")}
        mirror = None
        try:
            for node in nodes.values():
                node.start(wait=False)
            for node in nodes.values():
                node.start_wait(180)
            for alias in COUNTIES:
                provision(CommonSettings(kafka_bootstrap=nodes[alias].bootstrap, partitions=partitions))
            admin = KafkaAdminClient(bootstrap_servers=nodes["city"].bootstrap)
            admin.create_topics([NewTopic(f"{a}.{t}", partitions, 1, topic_configs={
                "message.timestamp.type": "LogAppendTime", "retention.ms": "-1"}) for a in COUNTIES for t in TOPICS])
            admin.close()
            city = city_file(root / "city.yaml", nodes["city"].bootstrap, {a: nodes[a].bootstrap for a in COUNTIES},
                             exactly_once=mode == "exactly-once")
            t0 = time.monotonic()
            mirror = Mirror(city, root / "mirror").start()
            started = time.monotonic() - t0
            matters = int(rate * seconds / 9) + 1  # about 9 events a matter
            loads = [Load(CommonSettings(kafka_bootstrap=nodes[a].bootstrap), county_year(demo, 2026, matters, seed=n),
                          rate) for n, a in enumerate(COUNTIES)]
            load_at_start = os.getloadavg()
            for load in loads:
                load.start()
            sent = sum(load.done(seconds * 3 + 120) for load in loads)
            load_at_end = os.getloadavg()
            lags: dict[str, list[float]] = {a: [] for a in COUNTIES}
            duplicates = 0
            for alias in COUNTIES:
                for topic in TOPICS:
                    county = stamps(nodes[alias].bootstrap, topic)
                    arrived = until(lambda a=alias, t=topic, c=county: (s := stamps(nodes["city"].bootstrap, f"{a}.{t}"))
                                    and set(c) <= set(s) and s, f"every {alias} {topic} event in the city", 300, every=1)
                    duplicates += sum(len(v) for v in arrived.values()) - len(arrived)
                    lags[alias] += [min(arrived[i]) - county[i][0] for i in county]
        finally:
            if mirror:
                mirror.stop()
            for node in nodes.values():
                node.stop()
    every = [lag for values in lags.values() for lag in values]
    return {"events": sent, "mirror_start_s": round(started, 1),
            "lag_ms": {"p50": percentile(every, 50), "p99": percentile(every, 99), "max": max(every)},
            "lag_p99_ms_per_county": {a: percentile(v, 99) for a, v in lags.items()},
            "duplicates_read_committed": duplicates,
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in load_at_end]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200, help="events per second per county")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--modes", default="exactly-once,at-least-once")
    args = parser.parse_args()
    figures = {"rate_per_county_per_s": args.rate, "counties": len(COUNTIES), "partitions": args.partitions}
    for mode in args.modes.split(","):
        figures[mode] = measure(mode, args.rate, args.seconds, args.partitions)
    figures["targets"] = {"exactly-once": {"lag_ms": {"p99": "measured (no target given)"}}}
    save("mirror", figures)


if __name__ == "__main__":
    main()

"""并单: the cost of a merge at intake, and of /v1/stats when 1 % of the matters are merged.

    python bench/merge_bench.py [--merges 200] [--matters 5000] [--requests 30]

Needs PostgreSQL and Kafka (`deploy/dev up`).
1. Intake (demo county, one process): ``--merges`` pairs registered by a village room, then each second matter
   merged into the first by the room's supervisor, one request at a time (the merged matter's event and the
   survivor's, two rows locked, one transaction) — beside as many withdrawals (a one-matter action) of other
   matters of the same room: p50/p99 of each.
2. Reporting: a synthetic county-year (``--matters``) projected twice, as it is and with 1 % of its matters
   merged into another matter of the year; /v1/stats for the year now (the state tables, merged batches placed at
   read) and as of the year's end (the facts, each batch looking up its merges): p50/p95 of each.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from common import percentile, save
from reporting_bench import latencies

from support.county_year import county_year
from support.escalation import terminal_event
from support.history import History, publish
from support.intake import BUREAU, VILLAGE, VILLAGE_CODE, start_intake
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema, start_reporting, wait_projected
from support.tokens import client
from xinfang.county import load_county
from xinfang.events import catalogue as c
from xinfang.kafka import sync_producer
from xinfang.settings import DEMO_COUNTY, CommonSettings

AUDITOR = "xft_merge-bench-auditor-" + "a" * 24


def timed(call) -> float:
    started = time.perf_counter()
    r = call()
    took = (time.perf_counter() - started) * 1000
    assert r.status_code == 200, r.text
    return took


def spread(took: list[float]) -> dict:
    return {"p50_ms": round(percentile(took, 50), 1), "p99_ms": round(percentile(took, 99), 1),
            "max_ms": round(max(took), 1)}


def intake_costs(settings: CommonSettings, merges: int) -> dict:
    intake = start_intake(settings, settings.database_url, Path(tempfile.mkdtemp(prefix="merge-bench-")))
    try:
        body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资",
                "head_count": 1, "petitioners": [{"name": "张三"}]}
        ids = [intake.register(VILLAGE, **body)["petition_id"] for _ in range(3 * merges)]
        pairs, others = list(zip(ids[0:2 * merges:2], ids[1:2 * merges:2], strict=True)), ids[2 * merges:]
        merge = [timed(lambda m=m, s=s: intake.post(f"/v1/petitions/{m}/actions",
                                                    {"action": "merge", "into": s, "reason": "重复登记"}))
                 for s, m in pairs]
        withdraw = [timed(lambda p=p: intake.post(f"/v1/petitions/{p}/actions", {"action": "withdraw"}))
                    for p in others]
    finally:
        intake.proc.stop()
    return {"merges": merges, "merge": spread(merge), "withdraw_beside": spread(withdraw)}


def with_merges(history: History, share: float) -> int:
    """Every ``1/share``-th matter of ``history`` merged into the matter registered before it: how many."""
    registered = [(e.subject, e) for role, e in history.events if e.type == "petition.registered.v1"]
    step, n = round(1 / share), 0
    for i in range(step, len(registered), step):
        (survivor, s_event), (pid, event) = registered[i - 1], registered[i]
        at = max(event.occurred_at, s_event.occurred_at) + timedelta(hours=1)
        history.add("events", pid, c.Merged(into=survivor, into_receipt_no=s_event.data["receipt_no"],
                                           reason="重复登记", unit=event.data["unit"]), at)
        n += 1
    return n


async def stats_costs(base: CommonSettings, matters: int, requests: int) -> dict:
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    plain, merged = county_year(county, 2026, matters, seed=3), county_year(county, 2026, matters, seed=3)
    n = with_merges(merged, 0.01)
    found = {"merged_matters": n}
    for name, history in (("none", plain), ("one_percent", merged)):
        run = uuid.uuid4().hex[:8]
        topics = run_settings(base, f"mergebench{run}", partitions=3)
        publish(topics, history)
        producer = sync_producer(topics)  # the county bureau's auditor, as intake would publish the terminal
        event = terminal_event("t-merge-bench", AUDITOR, ["auditor"], unit=BUREAU)
        producer.send(topics.topic_terminals, key=event.subject.encode(), value=event.to_json()).get(10)
        producer.close()
        schema = f"bench_merge_{run}"
        proc = start_reporting(topics, dsn, schema, Path(tempfile.mkdtemp()) / "reporting.log")
        try:
            await wait_projected(dsn, schema, history.count(), timeout=900)
            http = client(proc.url, AUDITOR, timeout=60)
            found[name] = {
                "year_now": latencies(http, "/v1/stats", {"year": "2026"}, requests),
                "year_as_of": latencies(http, "/v1/stats", {"year": "2026", "as_of": "2027-01-01T00:00:00+08:00"},
                                        requests),
                "cases": http.get("/v1/stats", params={"year": "2026"}).json()["figures"]["cases"]["value"],
            }
            http.close()
        finally:
            proc.stop()
            await drop_schema(dsn, schema)
            delete_run_topics(topics)
    return found


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merges", type=int, default=200)
    parser.add_argument("--matters", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    settings = CommonSettings()
    load = os.getloadavg()
    costs = intake_costs(settings, args.merges)
    print(costs, flush=True)
    figures = {"intake": costs, "stats": await stats_costs(settings, args.matters, args.requests)}
    save("merge", {**figures, "load_average": [round(x, 1) for x in (*load, *os.getloadavg())]})


if __name__ == "__main__":
    asyncio.run(main())

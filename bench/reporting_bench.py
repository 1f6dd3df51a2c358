"""Reporting: projection throughput (live service and replay driver) and /v1/stats latency over a county-year.

    python bench/reporting_bench.py [--matters 10000] [--partitions 6] [--requests 40]

Needs `deploy/dev up` (PostgreSQL and Kafka). Generates two years of a synthetic demo-county history
(``--matters`` matters a year, about 9 events each: registrations, later visits, routing, acceptance,
replies, reviews, evaluations, overdue notices and escalations), produces it to scratch topics, then
1. starts the reporting service on a scratch schema and times it from its first projected batch to
   the last record (events/s, target >= 10,000);
2. replays the same topics into a second schema with the kafka-python driver (events/s);
3. asks /v1/stats for the year (with year-on-year and month-on-month, i.e. three periods and the
   per-unit table), a quarter, a township, and the written summary: latency p50/p95 (target <= 200 ms).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from common import percentile, save

from reporting.replay import replay
from support.county_year import county_year
from support.history import publish
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema, start_reporting
from support.waiting import until_async
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY, CommonSettings


class Progress:
    """Where the service's schema stands, asked over one connection: a poller that connected anew
    every few milliseconds would make PostgreSQL fork a backend each time, beside the work measured."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self.conn, self.schema = conn, schema

    async def projected(self) -> int:
        try:
            return int(await self.conn.fetchval(f'SELECT coalesce(sum(next_offset), 0) FROM "{self.schema}".offsets'))
        except asyncpg.UndefinedTableError:
            return 0

    async def queued(self) -> int:
        return await self.conn.fetchval(f'SELECT count(*) FROM "{self.schema}".refresh_queue')

    async def first_progress(self, timeout: float = 120) -> float:
        await until_async(self.projected, "the service projecting its first events", timeout=timeout, every=0.01)
        return time.perf_counter()

    async def until_done(self, total: int, timeout: float = 900) -> float:
        async def done() -> bool:
            return await self.projected() >= total and await self.queued() == 0

        await until_async(done, f"all {total} events projected and nothing queued", timeout=timeout, every=0.02)
        return time.perf_counter()


def latencies(http: httpx.Client, path: str, params: dict, n: int) -> dict:
    http.get(path, params=params).raise_for_status()  # warm: plans, pool
    took = []
    for _ in range(n):
        started = time.perf_counter()
        r = http.get(path, params=params)
        took.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    return {"p50_ms": round(percentile(took, 50), 1), "p95_ms": round(percentile(took, 95), 1),
            "max_ms": round(max(took), 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=10000, help="matters per year (two years are generated)")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    base = CommonSettings()
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base, f"bench{run}", partitions=args.partitions)

    started = time.perf_counter()
    history = county_year(county, 2025, args.matters, seed=1)
    county_year(county, 2026, args.matters, seed=2, history=history)
    generated = time.perf_counter() - started
    total = history.count()
    started = time.perf_counter()
    publish(topics, history)
    produced = time.perf_counter() - started
    print(f"generated {total} events in {generated:.1f}s, produced in {produced:.1f}s", flush=True)

    live, fresh = f"bench_live_{run}", f"bench_fresh_{run}"
    log = Path(tempfile.mkdtemp()) / "reporting.log"
    proc = start_reporting(topics, dsn, live, log)
    try:
        poll = await asyncpg.connect(dsn)
        try:
            progress = Progress(poll, live)
            t0 = await progress.first_progress()
            first = await progress.projected()
            t1 = await progress.until_done(total)
        finally:
            await poll.close()
        live_rate = (total - first) / (t1 - t0)
        print(f"live projection: {live_rate:,.0f} events/s", flush=True)

        replayed = await replay(topics, dsn, fresh)
        replay_rate = replayed.records / replayed.seconds
        print(f"replay: {replay_rate:,.0f} events/s", flush=True)

        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'ANALYZE "{live}".batches, "{live}".matters, "{live}".holdings, "{live}".dues, '
                               f'"{live}".replies, "{live}".decisions, "{live}".evaluations, "{live}".breaches, '
                               f'"{live}".requests, "{live}".batch_state, "{live}".matter_state, "{live}".obligation_state, '
                               f'"{live}".evaluation_state')
            sizes = {t: await conn.fetchval(f'SELECT count(*) FROM "{live}".{t}') for t in ("matters", "batches")}
        finally:
            await conn.close()

        http = httpx.Client(base_url=proc.url, timeout=30)
        township = next(j.code for j in county.jurisdictions if j.tier == "township")
        stats = {
            "year_2026_yoy_mom": latencies(http, "/v1/stats", {"year": "2026"}, args.requests),
            "quarter_2026Q1_yoy_mom": latencies(http, "/v1/stats", {"quarter": "2026Q1"}, args.requests),
            "township_year": latencies(http, "/v1/stats", {"year": "2026", "jurisdiction": township}, args.requests),
            "summary_quarter": latencies(http, "/v1/reports/summary", {"quarter": "2026Q1"}, args.requests),
            "series_year": latencies(http, "/v1/stats/series", {"year": "2026"}, max(5, args.requests // 4)),
        }
        year = http.get("/v1/stats", params={"year": "2026"}).json()["figures"]
        http.close()
    finally:
        proc.stop()
        await drop_schema(dsn, live, fresh)
        delete_run_topics(topics)

    save("reporting", {
        "events": total, "matters_per_year": args.matters, "partitions": args.partitions,
        "rows": sizes, "year_2026": {k: year[k]["value"] for k in ("cases", "batches", "persons", "resolution_rate")},
        "projection_live_events_per_s": round(live_rate), "projection_replay_events_per_s": round(replay_rate),
        "stats_latency": stats,
        "targets": {"projection_live_events_per_s": ">= 10000",
                    "stats_latency": {name: {"p95_ms": "<= 200"} for name in stats}},
    })


if __name__ == "__main__":
    asyncio.run(main())

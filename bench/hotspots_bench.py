"""热点预警 over two county-years: what GET /v1/hotspots runs, without HTTP.

    python bench/hotspots_bench.py [--matters 10000] [--requests 20]

Needs PostgreSQL and Kafka. Generates two synthetic demo-county years (2025 and 2026, ``--matters`` matters each,
about 9 events a matter, ``support.county_year``), produces them to scratch topics, replays them into a scratch
schema with the audit's replay driver, then times ``reporting.hotspots.hotspots`` (the three periods' matters, the
collective visits, the roll-up and the window) for a month and for the year, county-wide and for one township:
p50/p95 in ms.
"""
from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import date

from common import save
from drilldown_bench import timed

from reporting import hotspots
from reporting.periods import Period
from reporting.replay import replay
from reporting.stats import Request
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import History, publish
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY, CommonSettings

PERIODS = {"month": Period(date(2026, 10, 1), date(2026, 10, 31), "month"),
           "year": Period(date(2026, 1, 1), date(2026, 12, 31), "year")}


async def measure(matters: int, requests: int) -> dict:
    base = CommonSettings()
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base, f"hot{run}")
    history = History()
    county_year(county, 2025, matters, seed=5, history=history)
    county_year(county, 2026, matters, seed=6, history=history)
    publish(topics, history)
    schema = f"bench_hot_{run}"
    try:
        await replay(topics, dsn, schema)
        pool = await connection_pool(dsn, max_size=2)
        try:
            latency, found = {}, {}
            for name, period in PERIODS.items():
                for scope in (None, "361402001000"):
                    request = Request(period=period, jurisdiction=scope, compare=())
                    key = f"{name}/{scope or 'county'}"
                    latency[key] = await timed(lambda r=request: hotspots.hotspots(pool, schema, county, r), requests)
                    result = await hotspots.hotspots(pool, schema, county, request)
                    found[key] = {kind: len(items) for kind, items in result.items()}
                    print(f"hotspots {key}: {latency[key]} {found[key]}", flush=True)
        finally:
            await pool.close()
    finally:
        await drop_schema(dsn, schema)
        delete_run_topics(topics)
    return {"events": history.count(), "matters_per_year": matters, "latency": latency, "warnings": found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=10000, help="matters in each year")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.matters, args.requests))
    print(save("hotspots", figures))


if __name__ == "__main__":
    main()

"""月通报 over two county-years: what GET /v1/bulletin does, without HTTP, and its documents at 500 units.

    python bench/bulletin_bench.py [--matters 10000] [--requests 10] [--units 500]

Needs PostgreSQL and Kafka. Generates two synthetic demo-county years (2025 and 2026, ``--matters`` matters each,
``support.county_year``), produces them to scratch topics, replays them into a scratch schema, then times a month's
bulletin for the county: ``bulletin.gather`` (the figures with 同比 and 环比, the assessment of the period and the
one before, two periods' 督办单, the hotspots), ``compose``, and the DOCX and the PDF each, end to end (gather +
compose + render, what the route does for one format). Then the documents alone for a ranking of ``--units`` units
(the same facts, the ranking repeated to that many rows): compose + DOCX, compose + PDF. p50/p95 in ms.
"""
from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import replace
from datetime import date, datetime, timezone

from common import percentile, save
from drilldown_bench import timed

from reporting import bulletin, documents
from reporting.periods import Period
from reporting.replay import replay
from reporting.stats import Reporter, Request
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import History, publish
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY, CommonSettings

MONTH = Period(date(2026, 6, 1), date(2026, 6, 30), "month")
AS_OF = datetime(2026, 8, 1, tzinfo=timezone.utc)


def timed_sync(call, n: int) -> dict:
    call()  # warm: the font, the imports
    took = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(percentile(took, 50), 1), "p95_ms": round(percentile(took, 95), 1),
            "max_ms": round(max(took), 1)}


def widened(facts: bulletin.Facts, units: int) -> bulletin.Facts:
    """The same facts with a ranking of ``units`` rows (the county's rows repeated, renamed)."""
    rows = facts.ranking["units"]
    many = [{**rows[i % len(rows)], "name": f"{rows[i % len(rows)]['name']}{i}", "rank": i + 1} for i in range(units)]
    return replace(facts, ranking={**facts.ranking, "units": many})


async def measure(matters: int, requests: int, units: int) -> dict:
    base = CommonSettings()
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base, f"bul{run}")
    history = History()
    county_year(county, 2025, matters, seed=5, history=history)
    county_year(county, 2026, matters, seed=6, history=history)
    publish(topics, history)
    schema = f"bench_bul_{run}"
    try:
        await replay(topics, dsn, schema)
        pool = await connection_pool(dsn, max_size=8)
        try:
            rep = Reporter(pool, schema, county)
            request = Request(period=MONTH, jurisdiction=county.code, as_of=AS_OF)
            facts = await bulletin.gather(rep, request)

            async def whole(render):
                written = bulletin.compose(county, await bulletin.gather(rep, request))
                return await asyncio.to_thread(render, written)

            latency = {
                "gather": await timed(lambda: bulletin.gather(rep, request), requests),
                "compose": timed_sync(lambda: bulletin.compose(county, facts), requests),
                "docx (gather + compose + render)": await timed(lambda: whole(documents.docx), requests),
                "pdf (gather + compose + render)": await timed(lambda: whole(documents.pdf), requests),
            }
            big = widened(facts, units)
            latency[f"{units} units: compose + docx"] = timed_sync(
                lambda: documents.docx(bulletin.compose(county, big)), requests)
            latency[f"{units} units: compose + pdf"] = timed_sync(
                lambda: documents.pdf(bulletin.compose(county, big)), requests)
            sizes = {"docx_bytes": len(documents.docx(bulletin.compose(county, facts))),
                     "pdf_bytes": len(documents.pdf(bulletin.compose(county, facts))),
                     "units_ranked": len(facts.ranking["units"])}
            for key, value in latency.items():
                print(f"bulletin {key}: {value}", flush=True)
        finally:
            await pool.close()
    finally:
        await drop_schema(dsn, schema)
        delete_run_topics(topics)
    return {"events": history.count(), "matters_per_year": matters, "latency": latency, **sizes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=10000, help="matters in each year")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--units", type=int, default=500)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.matters, args.requests, args.units))
    print(save("bulletin", figures))


if __name__ == "__main__":
    main()

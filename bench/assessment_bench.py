"""考核: GET /v1/assessment's work for 500 units over a year of 100,000 matters (issue 18: ≤ 300 ms p95).

    python bench/assessment_bench.py [--matters 100000] [--requests 20] [--now-only] [--keep]

``--now-only`` skips the as-of requests (the facts: minutes each at this size); ``--keep`` keeps the schema.

Needs PostgreSQL (`deploy/dev up`). The demo county grown to 500 units (its 4 townships with 479 villages and
their rooms, the stations, the bureau, the departments), a synthetic year of ``--matters`` matters on it
(tests/support/county_year.py, projected by the real projection), bulk-loaded into a scratch schema as the city
benchmark does (Store.begin_bulk → COPY → end_bulk). Then times ``reporting.assessment.assessment`` (what the
route runs, without HTTP: two periods × the units' and the places' statements, the ranking) for the year, for the
present (current-state tables) and as of a moment (the facts): p50/p95 in ms, with the load average beside them
(the machine is shared).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import date, datetime, timezone

from city_bench import load
from common import save
from drilldown_bench import timed

from reporting.assessment import assessment
from reporting.periods import Period
from reporting.projection import project
from reporting.stats import Reporter, Request
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import records
from support.postgres import test_database
from support.reporting import DEMO, drop_schema
from xinfang.county import County, load_county
from xinfang.settings import CommonSettings


def grown(units: int) -> County:
    """The demo county with villages (and their rooms) added under its townships until it has ``units`` units."""
    demo = load_county(DEMO)
    doc = demo.model_dump(mode="json")
    townships = [j for j in doc["jurisdictions"] if j["tier"] == "township"]
    doc["jurisdictions"] = [j for j in doc["jurisdictions"] if j["tier"] != "village"]
    doc["units"] = [u for u in doc["units"] if u["kind"] != "room"]
    villages = units - len(doc["units"])
    for n in range(villages):
        township = townships[n % len(townships)]
        code = f"{township['code'][:9]}{n // len(townships) + 1:03d}"
        doc["jurisdictions"].append({"code": code, "name": f"{township['name']}{n // len(townships) + 1}村",
                                     "tier": "village", "parent": township["code"], "unit": f"room.{code}"})
        doc["units"].append({"id": f"room.{code}", "name": f"{township['name']}{n // len(townships) + 1}村群众工作室",
                             "tier": "village", "jurisdiction": code, "kind": "room"})
    doc["routing_rules"] = [r for r in doc["routing_rules"] if not (r["when"].get("under"))]
    return County.model_validate(doc)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--now-only", action="store_true", help="skip the as-of requests (the facts: minutes each run)")
    parser.add_argument("--keep", action="store_true", help="keep the schema (to EXPLAIN the queries); printed")
    args = parser.parse_args()
    dsn = test_database(CommonSettings().database_url)
    county = grown(args.units)
    started = time.perf_counter()
    history = county_year(county, 2026, args.matters, seed=5)
    changes = project(records(history), {"ev": "events", "rt": "routing"})
    prepared = round(time.perf_counter() - started, 1)
    print(f"{len(county.units)} units, {history.count()} events generated and projected in {prepared}s", flush=True)
    schema = f"bench_assess_{uuid.uuid4().hex[:8]}"
    try:
        loaded = await load(dsn, schema, changes, [2])
        print(f"loaded: {loaded}", flush=True)
        pool = await connection_pool(dsn, max_size=4)
        try:
            rep = Reporter(pool, schema, county)
            year = Period(date(2026, 1, 1), date(2026, 12, 31), "year")
            moment = datetime(2027, 1, 1, tzinfo=timezone.utc)
            figures = {}
            for name, request in (("now", Request(period=year, jurisdiction=county.code)),
                                  ("as_of", Request(period=year, jurisdiction=county.code, as_of=moment))):
                if name == "as_of" and args.now_only:
                    continue
                load_before = os.getloadavg()[0]
                figures[name] = await timed(lambda r=request: assessment(rep, r), args.requests)
                figures[name]["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
                print(f"assessment {name}: {figures[name]}", flush=True)
            doc = await assessment(rep, Request(period=year, jurisdiction=county.code))
            ranked = {"units": len(doc["units"]), "jurisdictions": len(doc["jurisdictions"])}
        finally:
            await pool.close()
    finally:
        if args.keep:
            print(f"kept schema {schema} in {dsn}", flush=True)
        else:
            await drop_schema(dsn, schema)
    save("assessment", {"matters": args.matters, "units": len(county.units), "events": history.count(),
                        "generated_and_projected_s": prepared, "load": loaded, "ranked": ranked,
                        "assessment_latency": figures, "target_p95_ms": 300})


if __name__ == "__main__":
    asyncio.run(main())

"""City reporting: /v1/stats latency for a city-year over 20 counties × 10,000 matters a year (issue 20).

    python bench/city_bench.py [--counties 20] [--matters 10000] [--requests 40]

Needs `deploy/dev up` (PostgreSQL and Kafka: the shared broker stands in for the city's, holding only the run's
terminals topic). The statistics schema is bulk-loaded directly, as the reporting benchmarks' replay does
(Store.begin_bulk → COPY → end_bulk): one county's two years (``--matters`` a year, the synthetic county year of
tests/support/county_year.py, projected by the real projection; this year's up to now, with ``--matters`` registered
in it by now — the generator runs a year to its end, and what would happen after now is left out) are loaded once
per county of the city under that
county's own codes, unit ids, petition and event ids (tests/support/city.py's county files: 3614nn…), so every county
holds the same history in its own places — generating and projecting 20 different histories would take half an
hour on this machine, and the figures' queries cost the same for any history of that size. Then the reporting
service runs in city mode (``XINFANG_REPORTING_MODE=city``, the consumer off: the tables are loaded) and answers,
with a city-bureau token issued by ``xinfang.city.issue_token``: the city's year (同比 and 环比: three periods and
the per-unit table), a quarter, one county's year and one township's; p50/p95 (target ≤ 200 ms p95 for the city
year). The load average is recorded beside the figures (the machine is shared).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx
from common import save
from reporting_bench import latencies

from reporting.projection import Changes, Record, project
from reporting.store import FirstSeen, Store, connect, pool
from support.city import county_file
from support.county_year import county_year
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.process import ServiceProcess, free_port
from support.reporting import drop_schema, reporting_env
from support.tokens import wait_known
from xinfang.city import issue_token, load_city_tree
from xinfang.county import load_county
from xinfang.settings import CommonSettings

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def city_yaml(path: Path, bootstrap: str, files: dict[int, Path]) -> Path:
    lines = ['code: "361400000000"', "name: 青岚市", f'kafka: {{bootstrap: "{bootstrap}", replication_factor: 1}}',
             "counties:"]
    for n, file in files.items():  # the counties' own Kafkas are not used here (nothing is mirrored)
        lines.append(f'  - {{alias: c{n:02d}, code: "3614{n:02d}000000", name: 测试{n}县, '
                     f'bootstrap: "127.0.0.1:{20000 + n}", county_file: "{file}"}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_county(changes: Changes, n: int) -> Changes:
    """The demo county's rows as county ``n``'s: its codes and department ids, its own petition and event ids."""
    if n == 2:
        return changes
    code, dept, prefix = f"3614{n:02d}", f"dept{n:02d}.", f"{n:02d}"

    def value(v):
        if not isinstance(v, str):
            return v
        if UUID.match(v):
            return prefix + v[2:]
        return v.replace("361402", code).replace("dept.", dept)

    out = Changes()
    for table, rows in changes.rows.items():
        out.rows[table] = [tuple(value(v) for v in row) for row in rows]
    return out


async def load(dsn: str, schema: str, changes: Changes, counties: list[int]) -> dict[str, float]:
    store = Store(schema)
    conn = await connect(dsn)
    try:
        await store.migrate(conn)
        keys = await store.begin_bulk(conn)
        started = time.perf_counter()
        for n in counties:
            await store.copy(conn, FirstSeen()(as_county(changes, n)))
        copied = time.perf_counter() - started
    finally:
        await conn.close()
    connections = await pool(dsn, min_size=1, max_size=4)
    try:
        started = time.perf_counter()
        await store.end_bulk(connections, keys, {})
        ended = time.perf_counter() - started
        async with connections.acquire() as c:
            for (table,) in await c.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema):
                await c.execute(f'ANALYZE "{schema}"."{table}"')
    finally:
        await connections.close()
    return {"copy_s": round(copied, 1), "keys_and_states_s": round(ended, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--matters", type=int, default=10000, help="matters per county and year (two years)")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the schema (to EXPLAIN the queries); printed")
    args = parser.parse_args()
    numbers = list(range(2, 2 + args.counties))

    base = CommonSettings()
    dsn = test_database(base.database_url)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base, f"citybench{run}", partitions=1)  # the city's terminals (and dead letters)
    folder = Path(tempfile.mkdtemp())
    files = {n: county_file(folder / f"c{n:02d}.yaml", n) for n in numbers}
    city_path = city_yaml(folder / "city.yaml", base.kafka_bootstrap, files)
    city, tree = load_city_tree(city_path)

    started = time.perf_counter()
    demo = load_county(files[2])
    now = datetime.now(timezone.utc)
    history = county_year(demo, now.year - 1, args.matters, seed=1)
    # this year up to now: nothing has happened after now (a generated year runs to its end; a real one has not yet),
    # and ``--matters`` registered in it so far
    year_start = datetime(now.year, 1, 1, tzinfo=demo.zone)
    so_far = (now - year_start) / (datetime(now.year + 1, 1, 1, tzinfo=demo.zone) - year_start)
    county_year(demo, now.year, round(args.matters / so_far), seed=2, history=history)
    offsets = {"events": 0, "routing": 0}
    records = []
    for role, event in history.events:
        if event.occurred_at > now:
            continue
        records.append(Record(f"c02.petition.{role}", 0, offsets[role], event.subject.encode(), event.to_json()))
        offsets[role] += 1
    changes = project(records, {"c02.petition.events": "events", "c02.petition.routing": "routing"})
    prepared = time.perf_counter() - started
    print(f"one county: {len(records)} events (of {history.count()} generated: those after now dropped) projected in "
          f"{prepared:.0f}s", flush=True)

    schema = f"bench_city_{run}"
    proc = None
    try:
        loaded = await load(dsn, schema, changes, numbers)
        print(f"loaded {len(numbers)} counties: {loaded}", flush=True)
        conn = await asyncpg.connect(dsn)
        try:
            sizes = {t: await conn.fetchval(f'SELECT count(*) FROM "{schema}".{t}') for t in ("matters", "batches")}
        finally:
            await conn.close()
        port = free_port()
        env = reporting_env(topics, dsn, schema, port, XINFANG_REPORTING_MODE="city", XINFANG_CITY_FILE=str(city_path),
                            XINFANG_CONSUMER_ENABLED="false")
        proc = ServiceProcess("reporting", env, port=port, log=folder / "reporting.log").start(timeout=120)
        _, token = issue_token(city, tree, "city.361400", ["supervisor"], topics)
        wait_known(proc.url, token)
        http = httpx.Client(base_url=proc.url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        township = "361403101000" if args.counties > 1 else "361402101000"
        load_before = os.getloadavg()
        stats = {
            "city_year_2026_yoy_mom": latencies(http, "/v1/stats", {"year": "2026"}, args.requests),
            "city_quarter_2026Q2_yoy_mom": latencies(http, "/v1/stats", {"quarter": "2026Q2"}, args.requests),
            "county_year_in_city": latencies(http, "/v1/stats", {"year": "2026", "jurisdiction": "361403000000"
                                                                 if args.counties > 1 else "361402000000"},
                                             args.requests),
            "township_year_in_city": latencies(http, "/v1/stats", {"year": "2026", "jurisdiction": township},
                                               args.requests),
            "city_year_2026_assessment": latencies(http, "/v1/assessment", {"year": "2026"}, args.requests),
        }
        load_after = os.getloadavg()
        year = http.get("/v1/stats", params={"year": "2026"}).json()["figures"]
        http.close()
    finally:
        if proc is not None:
            proc.stop()
        if args.keep:
            print(f"kept schema {schema} in {dsn}", flush=True)
        else:
            await drop_schema(dsn, schema)
        delete_run_topics(topics)

    save("city", {
        "counties": args.counties, "matters_per_county_and_year": args.matters, "rows": sizes,
        "prepare_one_county_s": round(prepared), "load": loaded,
        "year_2026": {k: year[k]["value"] for k in ("cases", "batches", "persons", "resolution_rate")},
        "stats_latency": stats,
        "load_average_1_5_15": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in load_after]},
        "targets": {"stats_latency": {"city_year_2026_yoy_mom": {"p95_ms": "<= 200"},
                                     "city_year_2026_assessment": {"p95_ms": "<= 300"}}},
    })


if __name__ == "__main__":
    asyncio.run(main())

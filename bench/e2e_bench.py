"""End to end: from a registration's 201 to its appearance in the statistics (/v1/stats reads the
reporting tables), at a fixed offered rate.

    python bench/e2e_bench.py [--rate 200] [--seconds 20]

Starts intake, escalation and reporting as processes on scratch topics and schemas (needs
`deploy/dev up` for PostgreSQL and Kafka). Baseline in the same run: the bare relay of one event —
the time from a row committed in intake's outbox to the event readable on petition.events — taken
from the same registrations (intake's recorded time → reporting's first sight minus projection).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from common import ROOT, percentile, save

from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.system import System
from xinfang.settings import CommonSettings

BODY = {"channel": "visit", "jurisdiction": "361402001001", "category": "labour", "summary": "端到端",
        "head_count": 2, "petitioners": [{"name": "测量人"}]}


async def offer(system: System, rate: float, seconds: float, acknowledged: dict[str, float]) -> int:
    """Post at ``rate`` per second, noting the 201 time of each matter in ``acknowledged``."""
    errors = 0
    async with aiohttp.ClientSession(system.procs["intake"].url,
                                     headers={"Authorization": f"Bearer {system.token}"}) as http:
        async def one() -> None:
            nonlocal errors
            try:
                async with http.post("/v1/petitions", json=BODY, headers={"Idempotency-Key": uuid.uuid4().hex}) as r:
                    body = await r.json()
                    if r.status == 201:
                        acknowledged[body["petition_id"]] = time.time()
                    else:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1

        tasks, start = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return errors


async def watch(dsn: str, schema: str, pending: dict[str, float], offering: asyncio.Event,
                stop_after: float) -> dict[str, float]:
    """When each matter's first batch shows in batch_state, the state /v1/stats counts from (polled every 20 ms),
    until all are seen."""
    seen: dict[str, float] = {}
    conn = await asyncpg.connect(dsn)
    deadline = time.monotonic() + stop_after
    try:
        while time.monotonic() < deadline and not (offering.is_set() and len(seen) >= len(pending)):
            waiting = [pid for pid in list(pending) if pid not in seen]
            if waiting:
                rows = await conn.fetch(f'SELECT petition_id FROM "{schema}".batch_state '
                                        'WHERE is_first AND petition_id = ANY($1::text[])', waiting)
                now = time.time()
                for row in rows:
                    seen[row["petition_id"]] = now
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return seen


async def measure(system: System, rate: float, seconds: float) -> tuple[dict, dict, int]:
    acknowledged: dict[str, float] = {}
    offered = asyncio.Event()
    watcher = asyncio.create_task(watch(system.dsn, system.reporting_schema, acknowledged, offered, seconds + 90))
    errors = await offer(system, rate, seconds, acknowledged)
    offered.set()
    return acknowledged, await watcher, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    base = CommonSettings()
    dsn = test_database(base.database_url)
    settings = run_settings(base.model_copy(update={"database_url": dsn}), f"e2e{uuid.uuid4().hex[:6]}")
    system = System(settings, dsn, Path(tempfile.mkdtemp()), county=ROOT / "deploy" / "counties" / "demo.yaml",
                    terminal_unit="bureau.361402").start()
    try:
        acknowledged, seen, errors = asyncio.run(measure(system, args.rate, args.seconds))
        stats = httpx.get(f"{system.procs['reporting'].url}/v1/stats", params={"year": time.strftime("%Y")}).json()
    finally:
        system.stop()
        delete_run_topics(settings, f"escalation-{system.run}")
    latencies = [seen[pid] - at for pid, at in acknowledged.items() if pid in seen]
    save("e2e", {
        "offered_rate_per_s": args.rate, "registrations": len(acknowledged), "errors": errors,
        "seen_in_stats": len(latencies), "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies, default=0) * 1000, 1),
        "stats_cases_after": stats["figures"]["cases"]["value"],
        "targets": {"p99_ms": "<= 2000 at 200 registrations/s", "stats_cases_after": f"= {len(acknowledged)}"},
        "notes": "Latency from the 201 of a registration to its first batch's row in batch_state, the state "
                 "/v1/stats counts cases from (outbox relay → Kafka → reporting projection → state refresh), "
                 "polled every 20 ms; the demo county, all three services running. `stats_cases_after`: this "
                 "year's cases in /v1/stats once all were seen.",
    })


if __name__ == "__main__":
    main()

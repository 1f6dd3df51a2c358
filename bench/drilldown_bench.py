"""Drill-down latency over a county-year, and the audit CLI's report time.

    python bench/drilldown_bench.py [--matters 4000] [--requests 20] [--baseline 2972577]

Needs `deploy/dev up` (PostgreSQL and Kafka). Generates one synthetic demo-county year (``--matters``
matters, about 9 events each, ``support.county_year``), produces it to scratch topics, replays it into a
scratch schema with the audit's replay driver, then
1. times ``Reporter.drilldown`` (what ``GET /v1/stats/drilldown`` runs, without HTTP) for the year's
   first page (500 rows) of several figures, for the present (current-state tables) and as of a moment
   (the facts): p50/p95 in ms;
2. where the code has them, the drill-down's exports: every row of a figure as CSV and as XLSX;
3. times ``python -m reporting.audit report`` for the year (a fresh replay into a scratch schema, then the
   figures), once with ``--as-of`` and, where the code has it, once with ``--known-at``.
It measures the tree it sits in; with ``--baseline REV`` it first runs itself, on the same history (same seed),
in an export of that commit (``git archive``), and saves both side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

from common import ROOT, percentile, save

from reporting import exports
from reporting.periods import Period
from reporting.replay import replay
from reporting.stats import Reporter, Request
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import publish
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY, CommonSettings

FIGURES = ("cases", "persons", "collective_persons", "resolution_rate", "accept_due", "first_time_resolution_rate")


async def timed(call, n: int) -> dict:
    await call()  # warm: plans, pool
    took = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(percentile(took, 50), 1), "p95_ms": round(percentile(took, 95), 1),
            "max_ms": round(max(took), 1)}


def audit_report(topics: CommonSettings, dsn: str, schema: str, *clock: str) -> float:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
           "XINFANG_KAFKA_BOOTSTRAP": topics.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": topics.topic_events,
           "XINFANG_TOPIC_ROUTING": topics.topic_routing, "XINFANG_PARTITIONS": str(topics.partitions),
           "XINFANG_DATABASE_URL": dsn, "XINFANG_COUNTY_FILE": str(DEMO_COUNTY)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reporting.audit", "report", *clock, "--year", "2026",
                           "--scratch", schema], capture_output=True, text=True, env=env, timeout=900)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    cases = json.loads(done.stdout)["stats"]["figures"]["cases"]["value"]
    print(f"audit report {' '.join(clock)}: {seconds:.1f}s, {cases} cases", flush=True)
    return round(seconds, 2)


async def measure(matters: int, requests: int) -> dict:
    base = CommonSettings()
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base, f"drill{run}")
    history = county_year(county, 2026, matters, seed=3)
    publish(topics, history)
    schema, scratch = f"bench_drill_{run}", f"bench_drill_audit_{run}"
    try:
        await replay(topics, dsn, schema)
        pool = await connection_pool(dsn, max_size=2)
        try:
            reporter = Reporter(pool, schema, county)
            year = Period(date(2026, 1, 1), date(2026, 12, 31), "year")
            moment = datetime(2027, 1, 1, tzinfo=timezone.utc)
            now, past = Request(period=year, compare=()), Request(period=year, as_of=moment, compare=())
            drill = {}
            for figure in FIGURES:
                for name, request in (("now", now), ("as_of", past)):
                    drill[f"{figure}/{name}"] = await timed(
                        lambda r=request, f=figure: reporter.drilldown(r, f, 500, 0), requests)
                    print(f"drill-down {figure} {name}: {drill[f'{figure}/{name}']}", flush=True)
            export = {}
            if hasattr(exports, "drill_rows"):  # the drill-down's exports (not in the base commit)
                async def every_row(to) -> None:
                    to(exports.drill_rows(await reporter.drilldown(now, "persons", None, 0)))

                export = {"persons_csv": await timed(lambda: every_row(exports.to_csv), 5),
                          "persons_xlsx": await timed(lambda: every_row(lambda t: exports.to_xlsx(t, "persons")), 5)}
            rows = (await reporter.drilldown(now, "persons", 5000, 0))["total"]
        finally:
            await pool.close()
        cli = {"as_of": audit_report(topics, dsn, scratch, "--as-of", "2027-01-01T00:00:00+08:00")}
        helps = subprocess.run([sys.executable, "-m", "reporting.audit", "report", "--help"], capture_output=True,
                               text=True, env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})
        if "--known-at" in helps.stdout:
            cli["known_at"] = audit_report(topics, dsn, scratch, "--known-at", "2027-01-01T00:00:00+08:00")
    finally:
        await drop_schema(dsn, schema, scratch)
        delete_run_topics(topics)
    return {"events": history.count(), "persons_rows": rows, "drilldown_latency": drill, "export_latency": export,
            "audit_report_seconds": cli}


def baseline(rev: str, matters: int, requests: int) -> dict:
    """This benchmark run in an export of ``rev``."""
    folder = Path(tempfile.mkdtemp(prefix="drill-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "bench" / Path(__file__).name).write_text(Path(__file__).read_text())
    out = folder / "measured.json"
    subprocess.run([sys.executable, str(folder / "bench" / Path(__file__).name), "--matters", str(matters),
                    "--requests", str(requests), "--out", str(out)], check=True)
    return json.loads(out.read_text())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=4000, help="matters in the year")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--baseline", default=None, help="a commit to measure beside this tree")
    parser.add_argument("--out", default=None, help="write the figures here instead of var/bench (for --baseline)")
    args = parser.parse_args()
    before = baseline(args.baseline, args.matters, args.requests) if args.baseline else None
    figures = await measure(args.matters, args.requests)
    if args.out:
        Path(args.out).write_text(json.dumps(figures))
        return
    save("drilldown", {"matters": args.matters, **({"baseline_commit": args.baseline, "baseline": before}
                                                   if before else {}), "head": figures})


if __name__ == "__main__":
    asyncio.run(main())

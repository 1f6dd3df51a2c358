"""The dashboard in headless Chromium: its first render and a filter change, over two county-years.

    python bench/dashboard_bench.py [--matters 10000] [--runs 10]

Needs PostgreSQL and Kafka. Generates two synthetic demo-county years (2025 and 2026, ``--matters`` matters each,
``support.county_year``), produces them to scratch topics, starts a real reporting service on them and waits for
its projection, then in Debian's chromium (a fresh browser context per run, nothing cached; the token put in the
tab's sessionStorage before the page's script runs, as after a sign-in):
- ``api_first_render``: the first render's two requests alone (httpx, side by side), the server's share;
- ``first_render``: from navigating to /v1/dashboard?year=2026 to every chart drawn (body data-state set, data-rendered 6);
- a change of each control, from the change to the view drawn again for the new query: the period (the year to
  October), the place (county → a township → a village), the category, and the assessment and hotspot views.
p50/p95 in ms; results in var/bench/dashboard.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from common import percentile, save

from support.browser import chromium
from support.county_year import county_year
from support.history import History, publish
from support.kafka import delete_run_topics, run_settings
from support.postgres import test_database
from support.reporting import drop_schema, plant_terminal, start_reporting, wait_projected
from support.tokens import wait_known
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY, CommonSettings

TOKEN = "xft_dashboard-bench-supervisor-" + "b" * 24
TOWNSHIP, VILLAGE = "361402001000", "361402001001"
#: (what is timed, how the page is changed, the API query it then shows, the view)
CHANGES = [
    ("period_month", lambda p: p.select_option("#kind", "month"), "month=2026-01", "overview"),
    ("period_october", lambda p: p.select_option("#sub", "10"), "month=2026-10", "overview"),
    ("place_township", lambda p: p.select_option("#place", TOWNSHIP), f"month=2026-10&jurisdiction={TOWNSHIP}", "overview"),
    ("place_village", lambda p: p.select_option("#place", VILLAGE), f"month=2026-10&jurisdiction={VILLAGE}", "overview"),
    ("category", lambda p: p.select_option("#category", "labour"),
     f"month=2026-10&jurisdiction={VILLAGE}&category=labour", "overview"),
    ("place_county", lambda p: p.click('#crumbs button[data-code="361402000000"]'), "month=2026-10&category=labour",
     "overview"),
    ("assessment_view", lambda p: p.click('nav button[data-view="assessment"]'), "month=2026-10&category=labour",
     "assessment"),
    ("hotspots_view", lambda p: p.click('nav button[data-view="hotspots"]'), "month=2026-10&category=labour", "hotspots"),
]


def drawn(page, state: str, view: str) -> None:
    page.wait_for_selector(f'body[data-view="{view}"][data-state="{state}"]', timeout=120_000)


def spread(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1), "n": len(ms)}


def browse(url: str, runs: int) -> dict:
    times: dict[str, list[float]] = {"first_render": [], **{name: [] for name, *_ in CHANGES}}
    with chromium() as browser:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(f"sessionStorage.setItem('xinfang.terminal_token', {TOKEN!r})")
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{url}/v1/dashboard?year=2026")
            drawn(page, "year=2026", "overview")
            times["first_render"].append(time.perf_counter() - started)
            for name, act, state, view in CHANGES:
                started = time.perf_counter()
                act(page)
                drawn(page, state, view)
                times[name].append(time.perf_counter() - started)
            context.close()
    return {name: spread(values) for name, values in times.items()}


def api_alone(url: str, runs: int) -> dict:
    """The first render's two requests (/v1/stats and /v1/stats/series for the year, side by side, as the page
    sends them) without the browser: what of the first render is the server's."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    params = {"year": "2026", "compare": "yoy,mom"}
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as http, \
            ThreadPoolExecutor(2) as pool:
        for _ in range(runs):
            started = time.perf_counter()
            answers = list(pool.map(lambda path: http.get(path, params=params), ["/v1/stats", "/v1/stats/series"]))
            assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
            times.append(time.perf_counter() - started)
    return spread(times)


def measure(matters: int, runs: int) -> dict:
    base = CommonSettings()
    dsn = test_database(base.database_url)
    county = load_county(DEMO_COUNTY)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(base.model_copy(update={"database_url": dsn}), f"dash{run}")
    schema = f"bench_dash_{run}"
    history = History()
    county_year(county, 2025, matters, seed=5, history=history)
    county_year(county, 2026, matters, seed=6, history=history)
    plant_terminal(topics, "t-dash-bench", "bureau.361402", ["supervisor"], TOKEN)
    publish(topics, history)
    folder = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    reporting = None
    try:
        reporting = start_reporting(topics, dsn, schema, folder / "reporting.log")
        asyncio.run(wait_projected(dsn, schema, history.count(), timeout=3600))
        wait_known(reporting.url, TOKEN)
        figures = {"api_first_render": api_alone(reporting.url, runs), **browse(reporting.url, runs)}
        for name, spread_ in figures.items():
            print(f"dashboard {name}: {spread_}", flush=True)
    finally:
        if reporting is not None:
            reporting.stop()
        asyncio.run(drop_schema(dsn, schema))
        delete_run_topics(topics)
    return {"events": history.count(), "matters_per_year": matters, "runs": runs, "load_average": os.getloadavg(), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=10000, help="matters in each year")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(save("dashboard", measure(args.matters, args.runs)))


if __name__ == "__main__":
    main()

"""The web terminal in headless Chromium (Debian's, driven by Playwright): how fast its two busiest pages are ready.

    python bench/terminal_bench.py [--matters 1000] [--rounds 10]

Needs PostgreSQL and Kafka (`deploy/dev up`). Starts an intake of its own (own schema and topics), registers
``--matters`` matters at a village room and routes them to it as escalation would (a tenth overdue, a tenth
warned), then measures, ``--rounds`` times each:
- ``worklist``: a handler's worklist page reloaded, from navigation start to the table of every matter drawn (the
  first frame after it: ``worklist-painted``); target ≤ 500 ms for the whole. Of that: the page's files loaded and
  run (``worklist_page_files``), the API's answer (``worklist_api_read``), the rendering (the answer in hand → drawn);
- ``register_cold``: a new browser context each round (empty HTTP cache, no service worker), the terminal's token
  in its session, from navigation start to the registration form ready for the keyboard (shell, the four reference
  reads, the form drawn and focused); target ≤ 1 s.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
from common import percentile, save

from support.browser import chromium
from support.intake import VILLAGE, VILLAGE_CODE, start_intake
from support.kafka import delete_run_topics
from support.waiting import until
from xinfang.events.catalogue import Assigned, DeadlineWarning, Due
from xinfang.events.envelope import rfc3339
from xinfang.settings import CommonSettings

TARGETS = {"worklist.p50_ms": "≤ 500", "worklist.p95_ms": "≤ 500", "register_cold.p50_ms": "≤ 1000",
           "register_cold.p95_ms": "≤ 1000"}


def seed(intake, matters: int) -> None:
    """Matters held by the village room, due over the coming weeks; every tenth overdue, every tenth warned."""
    token = intake.terminal(VILLAGE, ("registrar",))
    body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "基准测试事项",
            "head_count": 1, "petitioners": [{"name": "基准"}]}
    now = datetime.now(timezone.utc)
    for i in range(matters):
        r = intake.http.post("/v1/petitions", json=body,
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        pid = r.json()["petition_id"]
        due_at = now + (timedelta(hours=-2 - i % 48) if i % 10 == 0 else timedelta(hours=3 + 7 * i % 900))
        due = Due(stage="accept", due_at=rfc3339(due_at), warn_at=rfc3339(due_at - timedelta(days=2)))
        intake.send_routing(pid, Assigned(unit=VILLAGE, tier="village", jurisdiction=VILLAGE_CODE, rule="bench",
                                          stage="accept", due=[due], basis_seq=1))
        if i % 10 == 5:
            intake.send_routing(pid, DeadlineWarning(unit=VILLAGE, tier="village", stage="accept",
                                                     due_at=due.due_at))
    handler = intake.terminal(VILLAGE, ("handler",))

    def routed() -> bool:
        r = intake.http.get("/v1/matters", params={"view": "worklist", "limit": 2000},
                            headers={"Authorization": f"Bearer {handler}"})
        return r.status_code == 200 and len(r.json()) >= matters

    until(routed, f"intake applying the routing of {matters} matters", timeout=300, every=0.5)


def marks(page, *names: str) -> dict[str, float]:
    """The page's performance marks, in ms since its navigation started."""
    return page.evaluate("names => Object.fromEntries(names.map(n => [n, (performance.getEntriesByName(n)[0] || "
                         "{}).startTime]))", list(names))


def summary(values: list[float]) -> dict:
    return {"rounds": len(values), "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
            "max_ms": round(max(values), 1)}


def measure(intake, matters: int, rounds: int) -> dict:
    url = f"{intake.proc.url}/terminal/"
    handler = intake.terminal(VILLAGE, ("handler",))
    registrar = intake.terminal(VILLAGE, ("registrar",))
    whole, loading, rendering, reading, cold = [], [], [], [], []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto(url)
        page.fill("#token", handler)
        page.press("#token", "Enter")
        page.wait_for_selector('body[data-ready="worklist"]', timeout=60_000)
        assert int(page.get_attribute("body", "data-rows")) >= matters
        for _ in range(rounds + 1):  # the first warms the server's caches and the browser's
            page.reload()
            page.wait_for_function("performance.getEntriesByName('worklist-painted').length > 0", timeout=60_000)
            m = marks(page, "terminal-start", "worklist-data", "worklist-painted")
            whole.append(m["worklist-painted"])
            loading.append(m["terminal-start"])
            rendering.append(m["worklist-painted"] - m["worklist-data"])
            reading.append(page.evaluate("(performance.getEntriesByType('resource').find(e => "
                                         "e.name.includes('/v1/matters')) || {}).duration"))
        rows = page.locator("#worklist .body .row").count()
        # how the API's request was served: "network" by the worker's static route (no fetch event woke it)
        api_route = page.evaluate("(performance.getEntriesByType('resource').find(e => e.name.includes('/v1/')) "
                                  "|| {}).workerMatchedSourceType || 'fetch event or none'")
        controlled = page.evaluate("navigator.serviceWorker.controller !== null")
        context.close()
        for _ in range(rounds):
            context = browser.new_context(viewport={"width": 1366, "height": 768}, service_workers="block")
            context.add_init_script(f"sessionStorage.setItem('xinfang.terminal_token', {registrar!r});")
            page = context.new_page()
            page.goto(url + "#/register")
            page.wait_for_function("performance.getEntriesByName('register-painted').length > 0", timeout=60_000)
            assert page.evaluate("document.activeElement.id") == "channel"
            cold.append(marks(page, "register-painted")["register-painted"])
            context.close()
    return {"matters": matters, "rows_drawn": rows, "worklist_page_controlled_by_worker": controlled,
            "api_request_route": api_route, "worklist": summary(whole[1:]),
            "worklist_page_files": summary(loading[1:]),
            "worklist_rendering": summary(rendering[1:]), "worklist_api_read": summary(reading[1:]),
            "register_cold": summary(cold), "targets": TARGETS,
            "notes": "Headless Debian chromium on the same two cores as intake, PostgreSQL and Kafka."}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matters", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    settings = CommonSettings()
    intake = start_intake(settings, settings.database_url, Path(tempfile.mkdtemp(prefix="terminal-bench-")))
    started = time.monotonic()
    try:
        seed(intake, args.matters)
        seeded = round(time.monotonic() - started, 1)
        figures = measure(intake, args.matters, args.rounds)
        save("terminal", {**figures, "seeding_s": seeded, "load_average_1min": round(os.getloadavg()[0], 1)})
    finally:
        intake.proc.stop()
        intake.producer.close()
        delete_run_topics(intake.settings)
        asyncio.run(drop_schema(intake))


async def drop_schema(intake) -> None:
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{intake.schema}" CASCADE')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()

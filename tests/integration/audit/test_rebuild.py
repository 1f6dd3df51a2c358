"""Blue/green: a rebuild beside the live schema switches the running service to it, with no gap in service,
nothing lost and nothing counted twice."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime

import httpx

from support.audit import audit, caught_up
from support.kafka import run_settings
from support.system import Load, System
from support.waiting import until


def drop(dsn: str, schema: str, name: str) -> None:
    import asyncio

    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.execute("DELETE FROM public.reporting_active WHERE name = $1", name)
        finally:
            await conn.close()

    asyncio.run(go())


class Watcher(threading.Thread):
    """Asks /v1/stats for the year all the time: every answer and the cases it showed."""

    def __init__(self, system: System) -> None:
        super().__init__(daemon=True)
        self.system, self.answers, self.stop = system, [], threading.Event()

    def run(self) -> None:
        year = str(datetime.now().year)
        with self.system.reporting() as http:
            while not self.stop.is_set():
                r = http.get("/v1/stats", params={"year": year})
                self.answers.append((r.status_code, r.json()["figures"]["cases"]["value"] if r.status_code == 200 else r.text))
                time.sleep(0.05)  # its sampling rate: a gap in service would show among ~20 answers a second


def test_rebuild_switches_the_live_service_without_a_gap(settings, kafka_bootstrap, test_db, tmp_path):
    dsn = test_db
    run = run_settings(settings.model_copy(update={"database_url": dsn}), uuid.uuid4().hex[:8])
    system = System(run, dsn, tmp_path).start()
    reporting = system.procs["reporting"].url
    new = f"rep_green_{system.run}"
    try:
        with Load(system, rate=20) as before:
            before.more(40)
        caught_up(system)
        assert httpx.get(f"{reporting}/readyz").json()["schema"] == system.reporting_schema
        watcher = Watcher(system)
        watcher.start()
        with Load(system, rate=20) as load:  # registrations keep arriving while the new schema is built
            rebuilt = audit(system, "rebuild", "--into", new)
            load.more(20)  # and after the switch
        assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-2000:]
        outcome = json.loads(rebuilt.stdout)["rebuild"]
        assert outcome["switched"] and outcome["previous"] == system.reporting_schema and outcome["schema"] == new
        assert outcome["replay"]["events"] > 0
        until(lambda: httpx.get(f"{reporting}/readyz").json()["schema"] == new,
              "the service switched to the rebuilt schema", timeout=15)
        system.procs["escalation"].stop()
        caught_up(system, schema=new)  # the service now projects into the new schema
        seen = len(watcher.answers)
        until(lambda: len(watcher.answers) > seen + 5, "the watcher's answers from the caught-up schema", timeout=15)
        watcher.stop.set()
        watcher.join()

        # no gap: every answer a 200, and the count never went back (the new schema was not behind the old)
        statuses = [status for status, _ in watcher.answers]
        assert len(statuses) > 20 and set(statuses) == {200}, [a for a in watcher.answers if a[0] != 200][:3]
        cases = [value for _, value in watcher.answers]
        assert all(a <= b for a, b in zip(cases, cases[1:], strict=False)), cases
        # nothing lost: every acknowledged registration is counted, once, in the schema now serving
        final = system.reporting().get("/v1/stats", params={"year": str(datetime.now().year)}).json()
        assert final["figures"]["cases"]["value"] == len(before.acknowledged) + len(load.acknowledged)
        assert load.acknowledged and not load.refused
        # and the new schema equals a fresh replay of the topics, table by table and figure by figure
        verified = audit(system, "verify", "--scratch", f"audit_g_{system.run}")
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
        document = json.loads(verified.stdout)
        assert document["live_schema"] == new and document["tables"] == {} and document["figure_differences"] == []
    finally:
        system.stop()
        drop(dsn, new, system.reporting_schema)

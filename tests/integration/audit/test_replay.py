"""The audit's replay equals the live tables; a report as of a past moment equals the live report then."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import httpx

from support.kafka import run_settings
from support.audit import audit, caught_up
from support.system import Load, System


def test_replay_equals_live_and_a_past_report_equals_the_live_report_then(settings, kafka_bootstrap, test_db, tmp_path):
    dsn = test_db
    run = run_settings(settings.model_copy(update={"database_url": dsn}), uuid.uuid4().hex[:8])
    system = System(run, dsn, tmp_path).start()
    try:
        with Load(system, rate=20):
            time.sleep(4)
        system.procs["escalation"].stop()  # the routing topic stops growing, so "then" is well defined
        caught_up(system)
        time.sleep(8)  # every due time of the test county (seconds) has passed: figures no longer move by themselves
        year = str(datetime.now().year)
        then_report = httpx.get(f"{system.procs['reporting'].url}/v1/stats", params={"year": year}).json()
        then = datetime.now(timezone.utc)
        time.sleep(1.5)
        with Load(system, rate=20):  # history goes on after "then"
            time.sleep(3)
        caught_up(system)
        now_report = httpx.get(f"{system.procs['reporting'].url}/v1/stats", params={"year": year}).json()
        assert now_report["figures"]["cases"]["value"] > then_report["figures"]["cases"]["value"]

        verified = audit(system, "verify", "--scratch", f"audit_v_{system.run}")
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
        document = json.loads(verified.stdout)
        assert document["tables"] == {} and document["figure_differences"] == []
        assert document["figures_compared"] > 0 and document["integrity"]["findings"] == []

        past = audit(system, "report", "--as-of", then.isoformat(), "--year", year, "--scratch", f"audit_a_{system.run}")
        assert past.returncode == 0, past.stderr[-2000:]
        figures = json.loads(past.stdout)["stats"]["figures"]
        assert {k: v["value"] for k, v in figures.items()} == \
            {k: v["value"] for k, v in then_report["figures"].items()}
    finally:
        system.stop()

"""The audit's replay equals the live tables; a report as of a past moment equals the live report then."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import orjson

from support.audit import audit, caught_up
from support.kafka import read_all, run_settings
from support.system import Load, System
from support.waiting import until

GRACE = timedelta(seconds=1)  # the test county's overdue_grace


def last_due(system: System) -> datetime:
    """The latest due time escalation has set (on petition.routing) for any stage of any matter."""
    latest = datetime.now(timezone.utc)
    for record in read_all(system.settings.kafka_bootstrap, system.settings.topic_routing):
        data = orjson.loads(record.value).get("data") or {}
        for text in [d["due_at"] for d in data.get("due", [])] + [data.get("due_at")]:
            if text:
                latest = max(latest, datetime.fromisoformat(text.replace("Z", "+00:00")))
    return latest


def test_replay_equals_live_and_a_past_report_equals_the_live_report_then(settings, kafka_bootstrap, test_db, tmp_path):
    dsn = test_db
    run = run_settings(settings.model_copy(update={"database_url": dsn}), uuid.uuid4().hex[:8])
    system = System(run, dsn, tmp_path).start()
    try:
        with Load(system, rate=20) as load:
            load.more(60)
        system.procs["escalation"].stop()  # the routing topic stops growing, so "then" is well defined
        caught_up(system)
        settled = last_due(system) + GRACE  # after it, figures no longer move by themselves
        until(lambda: datetime.now(timezone.utc) > settled, f"every due time passed ({settled})", timeout=60)
        year = str(datetime.now().year)
        then_report = system.reporting().get("/v1/stats", params={"year": year}).json()
        then = datetime.now(timezone.utc)
        time.sleep(0.1)  # the broker's timestamps have millisecond resolution: nothing later shares "then"'s
        with Load(system, rate=20) as load:  # history goes on after "then"
            load.more(40)
        caught_up(system)
        now_report = system.reporting().get("/v1/stats", params={"year": year}).json()
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

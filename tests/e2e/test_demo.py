"""The demo as a newcomer runs it: the terminal simulator plays a working day at the demo county's
terminals, and within a minute the statistics and the dashboard's series show that day — today's
registrations, the back-dated ones, and escalations from the units that let deadlines pass."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

from support.kafka import delete_run_topics, run_settings
from support.process import ROOT
from support.system import ADMIN, System
from support.waiting import until
from xinfang.calendar import DEFAULT_TZ
from xinfang.settings import DEMO_COUNTY


def test_the_simulated_day_fills_the_statistics_within_a_minute(settings, test_db, tmp_path):
    run = run_settings(settings.model_copy(update={"database_url": test_db}), uuid.uuid4().hex[:8])
    system = System(run, test_db, tmp_path, county=DEMO_COUNTY, terminal_unit="bureau.361402").start()
    try:
        played = subprocess.run(
            [sys.executable, "-m", "intake.simulator", "--url", system.procs["intake"].url, "--matters", "60",
             "--days", "6", "--backlog", "0.6", "--seed", "3"],
            # back-dated within the county's offline window (7 days): a third or more of those are past their
            # accept limit and grace whatever the weekday, and escalate at once
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}", "XINFANG_ADMIN_TOKEN": ADMIN},
            capture_output=True, text=True, timeout=300)
        assert played.returncode == 0, played.stderr[-2000:]
        done = ast.literal_eval(played.stdout.strip().splitlines()[-2])  # the simulator's tally
        assert done["registered"] == 60 and done["collective"] > 0 and done["repeat_visits"] > 0, done
        assert done["accepted"] > 0 and done["replied"] > 0, done

        # the last 31 days of the county's calendar: every registration, whichever year they fall in
        today = datetime.now(DEFAULT_TZ).date()
        period = {"from": (today - timedelta(days=31)).isoformat(), "to": today.isoformat()}
        reporting = system.reporting()
        last: dict = {}

        def filled() -> dict | None:
            figures = reporting.get("/v1/stats", params=period).json()
            last["seen"] = {k: figures["figures"][k]["value"] for k in ("cases", "batches", "collective_cases", "replied")}
            last["escalated"] = sum(u["escalated_away"] for u in figures["units"])
            full = last["seen"]["cases"] == 60 and last["seen"]["batches"] == 60 + done["repeat_visits"]
            return last["seen"] if full and last["escalated"] > 0 else None

        seen = until(filled, lambda: f"the statistics filled: {last}", timeout=60, every=0.5)
        assert seen["collective_cases"] > 0 and seen["replied"] > 0, seen

        series = reporting.get("/v1/stats/series", params=period).json()
        months = series["months"]
        assert sum(m["cases"] for m in months) == 60, months
        assert sum(m["escalated"] for m in months) > 0, months
        dashboard = reporting.get("/v1/dashboard")
        assert dashboard.status_code == 200 and "echarts" in dashboard.text
    finally:
        system.stop()
        delete_run_topics(run, f"escalation-{system.run}")

"""Exactly-once effect: the service SIGKILLed twice during a 50,000-event load, restarted, ends with
tables equal to a fresh projection of the same topics into another schema (the replay driver)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import asyncpg

from reporting.replay import replay
from reporting.store import differences
from support.county_year import county_year
from support.history import publish
from support.reporting import drop_schema, projected, start_reporting, wait_projected
from support.waiting import until_async


async def test_sigkill_during_a_50000_event_load_loses_and_doubles_nothing(topics, test_db, county, run_id, tmp_path):
    history = county_year(county, 2025, 5600, seed=11)
    while history.count() < 50_000:
        county_year(county, 2025, 200, seed=history.count(), history=history)
    total = history.count()
    assert total >= 50_000
    live, fresh = f"rep_live_{run_id}", f"rep_fresh_{run_id}"
    log = tmp_path / "reporting.log"
    producing = threading.Thread(target=publish, args=(topics, history), daemon=True)
    proc = start_reporting(topics, test_db, live, log, XINFANG_BATCH_MAX_RECORDS="700")
    try:
        producing.start()
        kills = []
        for threshold in (total // 4, total // 2):
            async def reached(threshold=threshold) -> bool:
                return await projected(test_db, live) >= threshold

            await until_async(reached, f"the projection advanced to {threshold} records", timeout=90, every=0.05)
            proc.kill()  # SIGKILL: no shutdown code runs
            kills.append(await projected(test_db, live))
            # launched, not started: readiness waits until the projection has caught up, past the next threshold
            proc.launch()
        producing.join(120)
        assert not producing.is_alive()
        await wait_projected(test_db, live, total, timeout=120)
        assert all(0 < k < total for k in kills), kills
    finally:
        proc.stop()

    try:
        result = await replay(topics, test_db, fresh)
        assert result.records == total and result.events == total and result.unreadable == 0
        conn = await asyncpg.connect(test_db)
        try:
            assert await differences(conn, live, fresh) == {}
            batches = sum(1 for _, e in history.events if e.type in ("petition.registered.v1", "petition.visit_recorded.v1"))
            assert await conn.fetchval(f'SELECT count(*) FROM "{live}".batches') == batches
            holdings = sum(1 for _, e in history.events if e.type in (
                "petition.assigned.v2", "petition.escalated.v2", "petition.review_assigned.v2"))
            assert await conn.fetchval(f'SELECT count(*) FROM "{live}".holdings') == holdings
        finally:
            await conn.close()
        await same_figures_from_state_and_from_facts(test_db, fresh, county)
    finally:
        await drop_schema(test_db, live, fresh)


async def same_figures_from_state_and_from_facts(dsn, schema, county):
    """The figures for the present, read from the matters' current state, equal those worked out from
    the facts (as of a time after everything happened) — for the county, a township, a unit, a channel."""
    from reporting.periods import parse_period
    from reporting.stats import Reporter, Request

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    try:
        reporter = Reporter(pool, schema, county)
        later = datetime(2030, 1, 1, tzinfo=timezone.utc)
        township = next(j.code for j in county.jurisdictions if j.tier == "township")
        station = county.unit(county.jurisdiction(township).unit).id
        for period in (parse_period(year="2025"), parse_period(quarter="2025Q3"), parse_period(month="2025-12")):
            for scope in ({}, {"jurisdiction": township}, {"unit": station}, {"channel": "visit"}):
                now = await reporter.stats(Request(period=period, **scope))
                then = await reporter.stats(Request(period=period, as_of=later, **scope))
                assert now["figures"] == then["figures"], (period, scope)
                assert now["units"] == then["units"], (period, scope)
                assert now["figures"]["batches"]["value"] > 0
        year = (await reporter.stats(Request(period=parse_period(year="2025"))))["figures"]
        for key in ("skip_level_batches", "accept_due", "handle_due", "evaluated", "first_time_resolved",
                    "collective_cases"):
            assert year[key]["value"] > 0, key
    finally:
        await pool.close()


async def test_a_replay_to_a_point_in_time_stops_there_and_resumes(topics, test_db, county, run_id):
    first = county_year(county, 2026, 150, seed=3)
    publish(topics, first)
    time.sleep(0.1)  # the broker's time index has millisecond resolution: a gap of a few on each side of the cut
    cut = datetime.now(timezone.utc)
    time.sleep(0.1)
    second = county_year(county, 2026, 100, seed=4)
    publish(topics, second)
    schema = f"rep_pit_{run_id}"
    try:
        until = await replay(topics, test_db, schema, until=cut)
        assert until.records == first.count()
        rest = await replay(topics, test_db, schema)
        assert rest.records == second.count()
        again = await replay(topics, test_db, schema)
        assert again.records == 0
    finally:
        await drop_schema(test_db, schema)

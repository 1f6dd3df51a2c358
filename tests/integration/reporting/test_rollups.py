"""The roll-ups (reporting.rollups) give exactly the figures of the full queries: /v1/stats' counts and the
assessment's, for the present, over a generated county-year projected the live way (batches of records, each
followed by the per-matter refresh, so the triggers add and take away), with imported (back-dated) history, merges
and an unmerge, and withdrawn routing — for years, quarters, months and ranges, the county, a township, a village
and a unit."""
from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from reporting import queries, rollups
from reporting.periods import Period
from reporting.stats import Reporter, Request
from reporting.store import Store, connect
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import ROLES, History, records
from support.reporting import DEMO, drop_schema
from xinfang.county import load_county
from xinfang.events import catalogue as c

MATTERS = 1_200  # a year of them, and as many imported for the year before
PERIODS = [Period(date(2026, 1, 1), date(2026, 12, 31), "year"), Period(date(2025, 1, 1), date(2025, 12, 31), "year"),
           Period(date(2026, 4, 1), date(2026, 6, 30), "quarter"), Period(date(2026, 7, 1), date(2026, 12, 31), "half"),
           Period(date(2026, 3, 1), date(2026, 3, 31), "month"), Period(date(2025, 11, 17), date(2026, 8, 9))]


def history(county) -> History:
    """Two years (the first imported: recorded in 2026), then merges, an unmerge and withdrawn routing."""
    h = History(recorded=datetime(2026, 2, 1, tzinfo=timezone.utc))
    county_year(county, 2025, MATTERS, seed=21, history=h)
    h.recorded = None
    county_year(county, 2026, MATTERS, seed=22, history=h)
    rng = random.Random(5)
    registered = [(e.subject, e.occurred_at) for role, e in h.events if e.type.startswith("petition.registered")]
    pairs = rng.sample(registered, 80)
    for (merged, at), (into, into_at) in zip(pairs[::2], pairs[1::2], strict=True):
        when = max(at, into_at) + timedelta(days=rng.randint(1, 60))
        h.add("events", merged, c.Merged(into=into, into_receipt_no="R", reason="重复", unit="bureau.361402"), when)
        if rng.random() < 0.15:
            h.add("events", merged, c.Unmerged(into=into, reason="误并", unit="bureau.361402"), when + timedelta(days=3))
    # a unit receiving a matter again a month or more later, a second overdue notice of the same obligation: each
    # counted once in a period that holds both (the per-unit table's received and overdue)
    assigned = [e for role, e in h.events if role == "routing" and e.type.startswith("petition.assigned")]
    for e in rng.sample(assigned, 40):
        again = c.Assigned.model_validate({**e.data, "due": [], "cause": "transferred"})
        h.add("routing", e.subject, again, e.occurred_at + timedelta(days=rng.randint(31, 70)))
    overdue = [e for role, e in h.events if role == "routing" and e.type.startswith("petition.overdue")]
    for e in rng.sample(overdue, 40):
        h.add("routing", e.subject, c.Overdue.model_validate(e.data), e.occurred_at + timedelta(days=rng.randint(31, 70)))
    routing = [e for role, e in h.events if role == "routing" and e.type.split(".")[1] in ("assigned", "escalated")]
    for e in rng.sample(routing, 120):
        h.add("routing", e.subject, c.RoutingWithdrawn(
            withdrawn_id=e.id, withdrawn_type=e.type, cause="petition.accepted.v1", cause_seq=1,
            cause_occurred_at=e.occurred, reason="离线受理在先"), e.occurred_at + timedelta(hours=rng.randint(1, 90)))
    return h


@pytest.fixture(scope="module")
async def world(test_db):
    county = load_county(DEMO)
    schema = f"rep_roll_{uuid.uuid4().hex[:8]}"
    store = Store(schema)
    conn = await connect(test_db)
    try:
        await store.migrate(conn)
        recs = records(history(county))
        for i in range(0, len(recs), 3000):  # the live path: each batch's rows, then the matters' refresh
            await store.apply(conn, recs[i:i + 3000], ROLES)
            await store.refresh_all(conn)
        merged = await conn.fetchval(f'SELECT count(DISTINCT petition_id) FROM "{schema}".merges')
        withdrawn = await conn.fetchval(f'SELECT count(*) FROM "{schema}".withdrawals')
        assert merged >= 35 and withdrawn >= 100
        pool = await connection_pool(test_db, max_size=4)
        try:
            yield Reporter(pool, schema, county), conn
        finally:
            await pool.close()
    finally:
        await conn.close()
        await drop_schema(test_db, schema)


async def test_the_rollups_hold_the_sums_of_the_state_rows_they_were_kept_from(world):
    rep, conn = world
    q = f'"{rep.schema}"'
    for table, state in (("batch_rollup", "batch_state"), ("obligation_rollup", "obligation_state"),
                         ("case_rollup", "batch_state"), ("holding_rollup", "holding_state"),
                         ("breach_rollup", "breach_state"), ("evaluation_rollup", "evaluation_state")):
        fresh = rollups.summed(table, f"{q}.{state}")
        kept = f"SELECT * FROM {q}.{table}"
        assert await conn.fetchval(f"SELECT count(*) FROM (({kept}) EXCEPT ALL ({fresh})) d") == 0
        assert await conn.fetchval(f"SELECT count(*) FROM (({fresh}) EXCEPT ALL ({kept})) d") == 0
        assert await conn.fetchval(f"SELECT count(*) FROM ({kept}) k") > 100


async def test_the_history_has_cases_made_collective_in_a_later_month_and_after_their_period(world):
    """What the roll-up of openers must get right is there: cases made collective by a later batch in a later
    month, and cases of 2025 made collective only in 2026 (not collective in 2025's figures)."""
    rep, conn = world
    q, threshold = f'"{rep.schema}"', rep.county.collective_threshold
    later_month, next_year = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE {rollups.month('case_at')} < {rollups.month('occurred_at')}),
                   count(*) FILTER (WHERE case_at < '2025-12-31 16:00Z' AND occurred_at >= '2025-12-31 16:00Z')
            FROM {q}.batch_state WHERE NOT is_first AND {rollups.opens(threshold)}""")
    assert later_month > 20 and next_year > 0


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.code)
async def test_stats_from_the_rollups_equal_the_full_query(world, period):
    rep, _ = world
    county = rep.county
    township = next(j.code for j in county.jurisdictions if j.tier == "township")
    village = next(j.code for j in county.jurisdictions if j.tier == "village" and j.parent == township)
    start, stop = period.bounds(county.zone)
    for jurisdiction, threshold in ((None, None), (county.code, 2), (township, None), (village, None), (None, 3),
                                    (None, rollups.HEADS)):
        scope = rep.scope(Request(period=period, jurisdiction=jurisdiction))
        scope = dataclasses.replace(scope, threshold=threshold or scope.threshold)
        values = scope.values(start, stop)
        cut = rollups.cut(start, stop, scope.as_of)
        full = dict(await rep._fetchrow(queries.stats_sql(rep.schema, True), values))  # noqa: SLF001
        rolled = dict(await rep._fetchrow(queries.rolled_stats_sql(rep.schema), values | cut))  # noqa: SLF001
        assert rolled == full, (period.code, jurisdiction, scope.threshold)
        assert full["batches"] > 0
    if period.kind == "year" and period.start.year == 2026:
        assert cut["cut_from"] < cut["cut_to"]  # whole months came from the roll-up
        assert full["collective_cases"] > 0 and full["skip_level_batches"] > 0


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.code)
async def test_the_assessment_from_the_rollups_equals_the_full_query(world, period):
    rep, _ = world
    county = rep.county
    start, stop = period.bounds(county.zone)
    scope = rep.scope(Request(period=period))
    values = scope.values(start, stop) | {"units": [u.id for u in county.units],
                                          "places": [j.code for j in county.jurisdictions]}
    full = sorted(tuple(r) for r in await rep.fetch(queries.assessment_sql(rep.schema, True), values))
    rolled = sorted(tuple(r) for r in await rep.fetch(queries.rolled_assessment_sql(rep.schema),
                                                      values | rollups.cut(start, stop, scope.as_of)))
    assert rolled == full
    assert sum(r[2] for r in full) > 0  # batches



FROM_FACTS = ("unit", "received", "overdue", "escalated_away", "evaluated", "satisfied")


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.code)
async def test_the_units_table_from_the_rollups_equals_the_full_query(world, period):
    """/v1/stats' per-unit table for the present (roll-up months, state rows) = the rows alone = the full query
    over the facts: received, obligations, overdue notices, escalated away, satisfaction."""
    rep, _ = world
    county = rep.county
    township = next(j.code for j in county.jurisdictions if j.tier == "township")
    start, stop = period.bounds(county.zone)
    category = county.categories[0].code
    for jurisdiction, category_of in ((None, None), (township, None), (None, category)):
        asked = Request(period=period, jurisdiction=jurisdiction, category=category_of)
        scope = rep.scope(asked)
        values = scope.values(start, stop) | {"units": rep.units_in_scope(asked)}
        filtered = jurisdiction is not None or category_of is not None
        full = [dict(r) for r in await rep.fetch(queries.units_sql(rep.schema, False, filtered), values)]
        statement = queries.units_sql(rep.schema, True, filtered)
        rows = [dict(r) for r in await rep.fetch(statement, values | rollups.no_cut(stop))]
        # the obligations of the present are the current state's (obligation_state), which knows the history's
        # steps dated after now (a generated year runs to its end) that the full query as of now does not: those
        # are compared with the state rows alone
        assert [{k: r[k] for k in FROM_FACTS} for r in rows] == [{k: r[k] for k in FROM_FACTS} for r in full], \
            (period.code, jurisdiction, category_of)
        if category_of is None:
            rolled = [dict(r) for r in await rep.fetch(statement, values | rollups.cut(start, stop, scope.as_of))]
            assert rolled == rows, (period.code, jurisdiction)
        for figure in ("received", "accept_due", "overdue", "escalated_away", "evaluated"):
            assert sum(r[figure] for r in full) > 0, figure

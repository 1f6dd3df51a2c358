"""考核: every ranked figure of GET /v1/assessment is the same count as the unit's or the place's own figures
(GET /v1/stats with that unit or place, a statement of its own), escalations a direct count of the holdings, over a
generated county-year; the rank change is the rank of the period before."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from reporting.assessment import assessment
from reporting.figures import rate
from reporting.periods import Period
from reporting.replay import replay
from reporting.stats import Reporter, Request
from reporting.store import pool as connection_pool
from support.county_year import county_year
from support.history import publish
from support.kafka import delete_run_topics, run_settings
from support.reporting import DEMO, drop_schema
from xinfang.county import load_county

MATTERS = 10_000  # the county-year (4 townships, their villages); the bench ranks 500 units over 100,000
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30), "quarter")
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31), "quarter")
AS_OF = datetime(2026, 8, 1, tzinfo=timezone.utc)
RATES = {"timely_acceptance_rate": ("accepted_on_time", "accept_due"),
         "on_time_completion_rate": ("replied_on_time", "handle_due"),
         "satisfaction_rate": ("satisfied", "evaluated"), "participation_rate": ("evaluated", "replied"),
         "first_time_resolution_rate": ("first_time_resolved", "replied"),
         "repeat_batch_share": ("repeat_batches", "batches")}


@pytest.fixture(scope="module")
async def world(settings, kafka_bootstrap, test_db):
    county = load_county(DEMO)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(settings, f"asm{run}")
    schema = f"rep_asm_{run}"
    try:
        publish(topics, county_year(county, 2026, MATTERS, seed=13))
        await replay(topics, test_db, schema)
        pool = await connection_pool(test_db, max_size=4)
        try:
            yield Reporter(pool, schema, county)
        finally:
            await pool.close()
    finally:
        await drop_schema(test_db, schema)
        delete_run_topics(topics)


async def escalations(rep: Reporter, column: str, unit: str, period: Period, as_of: datetime | None) -> int:
    start, stop = period.bounds(rep.county.zone)
    async with rep.pool.acquire() as conn:
        return await conn.fetchval(
            f'SELECT count(*) FROM "{rep.schema}".holdings h WHERE h.kind = \'escalated\' AND h.{column} = $1 '
            "AND h.occurred_at >= $2 AND h.occurred_at < $3 AND ($4::timestamptz IS NULL OR h.occurred_at <= $4) "
            f'AND NOT EXISTS (SELECT 1 FROM "{rep.schema}".withdrawals w WHERE w.withdrawn_id = h.event_id)',
            unit, start, stop, as_of)


def expected(counts: dict[str, int]) -> dict[str, object]:
    """The indicators from a row of /v1/stats's counts, as the assessment writes them."""
    out: dict[str, object] = {key: None if (r := rate(counts[n], counts[d]).percent) is None else f"{r:.2f}"
                              for key, (n, d) in RATES.items()}
    out["overdue_obligations"] = (counts["accept_due"] - counts["accepted_on_time"]
                                  + counts["handle_due"] - counts["replied_on_time"])
    out["skip_level_batches"] = counts["skip_level_batches"]
    return out


@pytest.mark.parametrize("as_of", [None, AS_OF], ids=["now", "as_of"])
async def test_every_units_ranked_figures_are_its_own_figures_and_its_escalations(world, as_of):
    rep = world
    doc = await assessment(rep, Request(period=Q2, jurisdiction=rep.county.code, as_of=as_of))
    county = rep.county
    assert [row["unit"] for row in doc["units"]] and {row["unit"] for row in doc["units"]} == {
        u.id for u in county.units if county.is_within(u.jurisdiction, county.code)}
    busy = 0
    for row in doc["units"]:
        own = await rep.counts(Q2, rep.scope(Request(period=Q2, unit=row["unit"], as_of=as_of)), now=as_of is None)
        cells = {key: cell["value"] for key, cell in row["indicators"].items()}
        want = expected(own)
        want["escalations_received"] = await escalations(rep, "unit", row["unit"], Q2, as_of)
        want["escalations_caused"] = await escalations(rep, "from_unit", row["unit"], Q2, as_of)
        assert cells == want, row["unit"]
        busy += own["batches"] > 0
    assert busy >= 10  # the rooms and stations of the villages had batches: the test compares real figures
    assert any(row["indicators"]["escalations_caused"]["value"] for row in doc["units"])
    assert any(row["indicators"]["skip_level_batches"]["value"] for row in doc["units"])


async def test_every_places_ranked_figures_are_its_own_rolled_up_figures(world):
    rep = world
    doc = await assessment(rep, Request(period=Q2, jurisdiction=rep.county.code))
    assert {row["jurisdiction"] for row in doc["jurisdictions"]} == {j.code for j in rep.county.descendants(
        rep.county.code)}
    for row in doc["jurisdictions"]:
        own = await rep.counts(Q2, rep.scope(Request(period=Q2, jurisdiction=row["jurisdiction"])), now=True)
        cells = {key: cell["value"] for key, cell in row["indicators"].items()}
        want = expected(own)
        located = [u.id for u in rep.county.units if rep.county.is_within(u.jurisdiction, row["jurisdiction"])]
        want["escalations_received"] = sum([await escalations(rep, "unit", u, Q2, None) for u in located])
        want["escalations_caused"] = sum([await escalations(rep, "from_unit", u, Q2, None) for u in located])
        assert cells == want, row["jurisdiction"]


async def test_ranks_follow_the_scores_vetoes_last_and_the_change_is_against_the_quarter_before(world):
    rep = world
    doc = await assessment(rep, Request(period=Q2, jurisdiction=rep.county.code))
    before = await assessment(rep, Request(period=Q1, jurisdiction=rep.county.code))
    then = {row["unit"]: row["rank"] for row in before["units"]}
    order = [(bool(row["vetoed"]), -float(row["score"])) for row in doc["units"]]
    assert order == sorted(order)
    for row in doc["units"]:
        assert row["previous_rank"] == then[row["unit"]] and row["rank_change"] == then[row["unit"]] - row["rank"]
    link = doc["units"][0]["indicators"]["satisfaction_rate"]["drilldown"][0]
    assert link == f"/v1/stats/drilldown?figure=satisfaction_rate&unit={doc['units'][0]['unit']}&quarter=2026Q2"

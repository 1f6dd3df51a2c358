"""热点预警 (hotspot warnings): about matters, never persons — the county file's ``hotspots`` thresholds over the
projection's tables.

- **骤增 rising**: a category in a place — the place where matters arose, or any place above it within the caller's
  scope — whose matters registered in the period (by the registration's occurred time) number at least
  ``rise_min`` and at least ``rise_ratio`` times those of the period before (环比, :meth:`Period.before`) and
  of the same period a year earlier (同比, :meth:`Period.year_before`).
- **重复集体访 repeated collective visits**: ``collective_visits`` or more visit batches of at least
  ``collective_threshold`` persons on matters of one place within ``collective_window``, the latest of them in
  the period; the warning lists the batches of every such window.

Both clocks apply (occurred ≤ as_of, recorded ≤ known_at).  Each warning lists the matters behind it: petition id
and receipt number only.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any

import asyncpg

from reporting.periods import Period
from reporting.stats import Request
from reporting.store import quoted
from xinfang.county import County

#: $1/$2 the range [from, to), $3 as_of, $4 known_at, $5 the places in scope (NULL: every place)
MATTERS_SQL = """
SELECT jurisdiction, category, petition_id, receipt_no FROM {q}.matters
WHERE occurred_at >= $1 AND occurred_at < $2 AND occurred_at <= $3 AND recorded_at <= $4
  AND ($5::text[] IS NULL OR jurisdiction = ANY($5::text[]))
"""
#: the same, and $6 the collective threshold: the collective visits (visit batches) on matters of each place
COLLECTIVE_SQL = """
SELECT m.jurisdiction, b.petition_id, m.receipt_no, b.occurred_at FROM {q}.batches b
JOIN {q}.matters m ON m.petition_id = b.petition_id
WHERE b.channel = 'visit' AND b.head_count >= $6 AND b.occurred_at >= $1 AND b.occurred_at < $2
  AND b.occurred_at <= $3 AND b.recorded_at <= $4 AND ($5::text[] IS NULL OR m.jurisdiction = ANY($5::text[]))
ORDER BY m.jurisdiction, b.occurred_at, b.petition_id
"""
FAR = datetime(9999, 1, 1, tzinfo=timezone.utc)


def scope_top(county: County, request: Request) -> str:
    """The place whose subtree the warnings cover: the request's jurisdiction, a unit's own, or the county."""
    if request.jurisdiction is not None:
        return request.jurisdiction
    if request.unit is not None:
        return county.unit(request.unit).jurisdiction
    return county.code


def _places(county: County, top: str) -> list[str] | None:
    return None if top == county.code else [top, *(j.code for j in county.descendants(top))]


def _up_to(county: County, code: str, top: str) -> list[str]:
    """The place and every place above it, up to ``top`` (the scope's own place) included."""
    try:
        above = county.ancestors(code)
    except KeyError:
        return [code]  # a place the county file no longer lists (history): itself only
    chain = [code]
    for place in above:  # nearest first
        if chain[-1] == top:
            break
        chain.append(place.code)
    return chain


def _name(lookup, code: str) -> str:
    try:
        return lookup(code).name
    except KeyError:
        return code


async def hotspots(pool: asyncpg.Pool, schema: str, county: County, request: Request) -> dict[str, list[dict]]:
    """The rising categories and the repeated collective visits of the request's period and scope."""
    rules, q, top = county.hotspots, quoted(schema), scope_top(county, request)
    places = _places(county, top)
    clocks = (request.as_of or FAR, request.known_at or FAR, places)
    period = request.period
    async with pool.acquire() as conn:
        async def matters(span: Period) -> list[asyncpg.Record]:
            return await conn.fetch(MATTERS_SQL.format(q=q), *span.bounds(county.zone), *clocks)

        current, before, year_before = [await matters(p) for p in (period, period.before(), period.year_before())]
        start, end = period.bounds(county.zone)
        visits = await conn.fetch(COLLECTIVE_SQL.format(q=q), start - rules.collective_window, end, *clocks,
                                  county.collective_threshold)
    return {"rising": _rising(county, top, current, before, year_before),
            "collective": _collective(county, visits, start)}


def _rising(county: County, top: str, current, before, year_before) -> list[dict[str, Any]]:
    rules = county.hotspots
    chains: dict[str, list[str]] = {}  # a year has ~10,000 matters on a few hundred places: each chain once

    def up(code: str) -> list[str]:
        if code not in chains:
            chains[code] = _up_to(county, code, top)
        return chains[code]

    def counted(rows) -> Counter:
        return Counter((place, row["category"]) for row in rows for place in up(row["jurisdiction"]))

    now, prev, last = counted(current), counted(before), counted(year_before)
    behind: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in current:
        for place in up(row["jurisdiction"]):
            behind[place, row["category"]].append({"petition_id": row["petition_id"], "receipt_no": row["receipt_no"]})
    found = []
    for (place, category), count in sorted(now.items()):
        if count >= rules.rise_min and count >= rules.rise_ratio * prev[place, category] \
                and count >= rules.rise_ratio * last[place, category]:
            found.append({"kind": "rising", "jurisdiction": place, "jurisdiction_name": _name(county.jurisdiction, place),
                          "category": category, "category_name": _name(county.category, category), "count": count,
                          "previous": prev[place, category], "last_year": last[place, category],
                          "matters": sorted(behind[place, category], key=lambda m: m["receipt_no"])})
    return found


def _collective(county: County, visits, start: datetime) -> list[dict[str, Any]]:
    """Slide the window over each place's collective visits; a window ending in the period with enough visits warns."""
    rules = county.hotspots
    by_place: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for visit in visits:
        by_place[visit["jurisdiction"]].append(visit)
    found = []
    for place, rows in sorted(by_place.items()):
        hot: set[int] = set()
        first = 0
        for last, row in enumerate(rows):
            while row["occurred_at"] - rows[first]["occurred_at"] > rules.collective_window:
                first += 1
            if row["occurred_at"] >= start and last - first + 1 >= rules.collective_visits:
                hot.update(range(first, last + 1))
        if hot:
            listed = [rows[i] for i in sorted(hot)]
            found.append({"kind": "collective", "jurisdiction": place, "jurisdiction_name": _name(county.jurisdiction, place),
                          "visits": len(listed), "first_at": listed[0]["occurred_at"], "last_at": listed[-1]["occurred_at"],
                          "matters": list({r["petition_id"]: {"petition_id": r["petition_id"], "receipt_no": r["receipt_no"]}
                                           for r in listed}.values())})
    return found

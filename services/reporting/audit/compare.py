"""Rebuilt against live: table by table (rows only one side has) and figure by figure (every figure of
the counting rules, for every year, quarter and month the history covers, county-wide and per place).

With the audit's clocks (:mod:`reporting.audit.clocks`) the rebuilt schema holds only the events they admit:
then the fact tables are compared on the rows both clocks admit, and the figures are asked as of and known
at those times on both sides (the current-state tables, offsets and dead letters are the present's, not
compared)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from reporting.audit.clocks import EVERYTHING, Clocks
from reporting.periods import parse_period
from reporting.projection import TABLES
from reporting.stats import Reporter, Request
from reporting.store import ALL_TABLES, differences
from reporting.store import pool as connection_pool
from xinfang.county.model import County


async def periods_covered(conn: asyncpg.Connection, schema: str, county: County) -> list[str]:
    """Every year, quarter and month in which a matter was first registered (local time)."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT to_char(occurred_at AT TIME ZONE $1, 'YYYY-MM') AS month
            FROM "{schema}".matters ORDER BY 1""", county.timezone)
    months = [row["month"] for row in rows]
    years = sorted({m[:4] for m in months})
    quarters = sorted({f"{m[:4]}Q{(int(m[5:]) - 1) // 3 + 1}" for m in months})
    return years + quarters + months


async def figures(pool: asyncpg.Pool, schema: str, county: County, period_codes: list[str],
                  places: list[str | None], known_at: datetime | None = None,
                  as_of: datetime | None = None) -> dict[str, dict[str, Any]]:
    """``{"<period>/<place>": {figure: value}}`` from one schema."""
    reporter = Reporter(pool, schema, county)
    found: dict[str, dict[str, Any]] = {}
    for code in period_codes:
        kind = "year" if len(code) == 4 else "quarter" if "Q" in code else "month"
        period = parse_period(**{kind: code})
        for place in places:
            doc = await reporter.stats(Request(period=period, jurisdiction=place, as_of=as_of, known_at=known_at,
                                               compare=()))
            found[f"{code}/{place or county.code}"] = {name: figure["value"] for name, figure in doc["figures"].items()}
    return found


def figure_differences(live: dict[str, dict[str, Any]], rebuilt: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key in sorted(set(live) | set(rebuilt)):
        a, b = live.get(key, {}), rebuilt.get(key, {})
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                period, place = key.split("/", 1)
                out.append({"period": period, "place": place, "figure": name, "live": a.get(name),
                            "rebuilt": b.get(name)})
    return out


#: the rows both clocks admit (``$1`` as of, ``$2`` known at; NULL: no limit)
ADMITTED = ("WHERE ($1::timestamptz IS NULL OR occurred_at <= $1) "
            "AND ($2::timestamptz IS NULL OR recorded_at <= $2)")


async def compare(dsn: str, live: str, rebuilt: str, county: County, clocks: Clocks = EVERYTHING,
                  now: datetime | None = None) -> dict[str, Any]:
    """Both comparisons; empty lists mean the live figures are what the events say (by ``clocks``, if limited,
    with ``now`` for an open as-of)."""
    pool = await connection_pool(dsn)
    try:
        async with pool.acquire() as conn:
            if clocks.limited:
                tables = await differences(conn, live, rebuilt, TABLES, ADMITTED, clocks.as_of, clocks.known_at)
            else:
                tables = await differences(conn, live, rebuilt, ALL_TABLES)
            codes = sorted(set(await periods_covered(conn, live, county)) | set(await periods_covered(conn, rebuilt, county)))
        places = [None] + [j.code for j in county.jurisdictions if j.tier == "township"]
        moments = {"as_of": clocks.as_of or now, "known_at": clocks.known_at} if clocks.limited else {}
        diffs = figure_differences(await figures(pool, live, county, codes, places, **moments),
                                   await figures(pool, rebuilt, county, codes, places, **moments))
        return {"tables": tables, "figures_compared": len(codes) * len(places), "figure_differences": diffs}
    finally:
        await pool.close()

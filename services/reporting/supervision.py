"""督办单 as reporting reads them: the notices issued in a period to the units of a scope, each listed matter with
whether it was answered since — what the next bulletin says of them.

**Answered since** (督办后已办理): the fact that meets the obligation the matter was listed for — 受理 or 不予受理 for
the accept stage, 答复 for handling, 复查意见 / 复核意见 for review and re-review — recorded after the notice was
(a fact known when the notice was issued belonged to an earlier cycle: intake listed the matter because the due
was open).  An offline fact that occurred before the notice but was recorded after it counts as the answer.
As of a moment (occurred ≤ as_of) and known at one (recorded ≤ known_at), for the notices and the answers alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from reporting.stats import Request
from reporting.store import quoted
from xinfang.county import County

#: $1 the units supervised (NULL: every unit), $2/$3 the period's bounds [start, end), $4 as_of, $5 known_at
NOTICES_SQL = """
SELECT l.notice_id, l.number, l.issuing_unit, l.unit, l.occurred_at AS issued_at, l.petition_id, m.receipt_no,
       l.stage, l.due_at, l.days_overdue, a.answered_at
FROM {q}.supervisions l
LEFT JOIN {q}.matters m ON m.petition_id = l.petition_id
LEFT JOIN LATERAL (
    SELECT min(f.occurred_at) AS answered_at
    FROM (SELECT d.occurred_at, d.recorded_at FROM {q}.decisions d
          WHERE l.stage = 'accept' AND d.petition_id = l.petition_id
          UNION ALL
          SELECT r.occurred_at, r.recorded_at FROM {q}.replies r
          WHERE r.petition_id = l.petition_id
            AND r.kind = CASE l.stage WHEN 'handle' THEN 'reply' WHEN 'review' THEN 'review'
                                      WHEN 'recheck' THEN 'recheck' END) f
    WHERE f.recorded_at > l.recorded_at AND f.occurred_at <= $4 AND f.recorded_at <= $5
) a ON true
WHERE ($1::text[] IS NULL OR l.unit = ANY($1::text[])) AND l.occurred_at >= $2 AND l.occurred_at < $3
  AND l.occurred_at <= $4 AND l.recorded_at <= $5
ORDER BY l.occurred_at, l.notice_id, l.due_at, m.receipt_no
"""


@dataclass(frozen=True)
class Listed:
    petition_id: str
    receipt_no: str | None
    stage: str
    due_at: datetime
    days_overdue: int
    answered_at: datetime | None


def units_in_scope(county: County, request: Request) -> list[str] | None:
    """The units whose notices the request reads: its unit, the units of its jurisdiction's subtree, or all."""
    if request.unit is not None:
        return [request.unit]
    if request.jurisdiction is None:
        return None
    return [u.id for u in county.units if county.is_within(u.jurisdiction, request.jurisdiction)]


async def notices(pool: asyncpg.Pool, schema: str, county: County, request: Request) -> list[dict[str, Any]]:
    """The notices of the request's period and scope, oldest first, each with its matters and how many were
    answered since."""
    start, end = request.period.bounds(county.zone)
    far = datetime(9999, 1, 1, tzinfo=start.tzinfo)
    async with pool.acquire() as conn:
        rows = await conn.fetch(NOTICES_SQL.format(q=quoted(schema)), units_in_scope(county, request), start, end,
                                request.as_of or far, request.known_at or far)
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        notice = found.setdefault(row["notice_id"], {
            "notice_id": row["notice_id"], "number": row["number"], "issuing_unit": row["issuing_unit"],
            "unit": row["unit"], "issued_at": row["issued_at"], "matters": []})
        notice["matters"].append(Listed(row["petition_id"], row["receipt_no"], row["stage"], row["due_at"],
                                        row["days_overdue"], row["answered_at"]))
    for notice in found.values():
        notice["listed"] = len(notice["matters"])
        notice["answered"] = sum(m.answered_at is not None for m in notice["matters"])
    return list(found.values())

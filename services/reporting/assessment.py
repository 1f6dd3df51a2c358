"""GET /v1/assessment: every unit and every place below the caller's scope ranked on the assessment's indicators
(考核), with the rank of the period before and a drill-down link for every cell.

The counts are those of ``GET /v1/stats`` for that unit or place (``queries.assessment_sql``, one statement per
period for the units and the places, the places rolled up the tree here); scores and ranks are ``reporting.ranking``.
A place's escalations are those received and caused by the units located in it.
"""
from __future__ import annotations

import asyncio
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from reporting import queries, ranking, rollups
from reporting.periods import Period
from reporting.stats import Reporter, Request, period_doc
from xinfang.county.assessment import LOWER_IS_BETTER, RATES

LABELS: dict[str, tuple[str, str]] = {
    "timely_acceptance_rate": ("及时受理率", "timely acceptance rate"),
    "on_time_completion_rate": ("按期办结率", "on-time completion rate"),
    "satisfaction_rate": ("满意率", "satisfaction rate"),
    "participation_rate": ("参评率", "participation rate"),
    "first_time_resolution_rate": ("一次办结率", "first-time resolution rate"),
    "overdue_obligations": ("超期未办", "obligations overdue (due, not met)"),
    "escalations_received": ("收到升级", "escalations received"),
    "escalations_caused": ("被升级", "escalations caused (away from the unit)"),
    "repeat_batch_share": ("重复访占比", "repeat-batch share"),
    "skip_level_batches": ("越级访批次", "skip-level batches"),
}
#: the drill-down figure(s) behind each indicator's cell (escalations have none: they are not matters' figures)
DRILL: dict[str, tuple[str, ...]] = {
    "timely_acceptance_rate": ("timely_acceptance_rate",), "on_time_completion_rate": ("on_time_completion_rate",),
    "satisfaction_rate": ("satisfaction_rate",), "participation_rate": ("participation_rate",),
    "first_time_resolution_rate": ("first_time_resolution_rate",),
    "overdue_obligations": ("timely_acceptance_rate", "on_time_completion_rate"),
    "repeat_batch_share": ("repeat_batches", "batches"), "skip_level_batches": ("skip_level_batches",),
    "escalations_received": (), "escalations_caused": (),
}
statement = cache(queries.assessment_sql)  # (schema, now) → its Named statement, built once
rolled = cache(queries.rolled_assessment_sql)  # the present's, whole months from the roll-ups
COUNTS = ("batches", "repeat_batches", "skip_level_batches", "replied", "evaluated", "satisfied", "first_time_resolved",
          "accept_due", "accepted_on_time", "handle_due", "replied_on_time", "overdue_obligations",
          "escalations_received", "escalations_caused")


async def counts(rep: Reporter, request: Request, period: Period, units: list[str],
                 places: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The counts of every unit and of every place (its subtree's) for one period."""
    scope = rep.scope(Request(period=period, as_of=request.as_of, known_at=request.known_at))
    start, stop = period.bounds(rep.county.zone)
    values = scope.values(start, stop) | {"units": units, "places": [j.code for j in rep.county.jurisdictions]}
    if request.as_of is None and request.known_at is None:
        rows = await rep.fetch(rolled(rep.schema), values | rollups.cut(start, stop, scope.as_of))
    else:
        rows = await rep.fetch(statement(rep.schema, False), values)
    unit_rows = {r["key"]: {k: r[k] for k in COUNTS} for r in rows if r["by"] == "unit"}
    leaf_rows = {r["key"]: {k: r[k] for k in COUNTS} for r in rows if r["by"] == "jurisdiction"}
    # each leaf's and each unit's counts added to the places above it: one walk up the tree each
    county, wanted = rep.county, set(places)
    place_rows = {code: dict.fromkeys(COUNTS, 0) for code in places}

    def above(code: str) -> list[str]:
        return [c for c in (code, *(j.code for j in county.ancestors(code))) if c in wanted]

    for code, row in leaf_rows.items():
        for place in above(code):
            for k in COUNTS:
                place_rows[place][k] += row[k]
    for place_row in place_rows.values():
        place_row["escalations_received"] = place_row["escalations_caused"] = 0
    for unit, row in unit_rows.items():
        for place in above(county.unit(unit).jurisdiction):
            for k in ("escalations_received", "escalations_caused"):
                place_rows[place][k] += row[k]
    return unit_rows, place_rows


async def assessment(rep: Reporter, request: Request) -> dict[str, Any]:
    """The document of GET /v1/assessment (``request``: the period and the caller's place, checked)."""
    county, top = rep.county, request.jurisdiction or rep.county.code
    units = [u.id for u in county.units if county.is_within(u.jurisdiction, top)]
    places = [j.code for j in county.descendants(top)]
    previous = request.period.before()
    rules, clocks = county.assessment, _clocks(request)

    async def scored(period: Period) -> tuple[list[ranking.Ranked], list[ranking.Ranked]]:
        # each period scored as soon as its counts are in, while the other's statement still runs
        unit_rows, place_rows = await counts(rep, request, period, units, places)
        return ranking.scored(unit_rows, rules), ranking.scored(place_rows, rules)

    (units_now, places_now), (units_then, places_then) = await asyncio.gather(scored(request.period), scored(previous))
    return {
        "period": period_doc(request.period, county), "previous": period_doc(previous, county),
        "jurisdiction": {"code": top, "name": county.jurisdiction(top).name},
        "as_of": request.as_of.isoformat() if request.as_of else None,
        "known_at": request.known_at.isoformat() if request.known_at else None,
        "indicators": [{"key": k, "label": LABELS[k][0], "label_en": LABELS[k][1], "weight": str(rules.weight(k)),
                        "kind": "rate" if k in RATES else "count", "better": "lower" if k in LOWER_IS_BETTER else "higher"}
                       for k in ranking.INDICATORS],
        "vetoes": [{"indicator": v.indicator, "below": str(v.below)} for v in rules.vetoes],
        "units": [_row(r, "unit", clocks, county) for r in ranking.against(units_now, units_then)],
        "jurisdictions": [_row(r, "jurisdiction", clocks, county) for r in ranking.against(places_now, places_then)],
    }


def _row(r: ranking.Ranked, by: str, clocks: str, county) -> dict[str, Any]:
    if by == "unit":
        unit = county.unit(r.key)
        head = {"unit": unit.id, "name": unit.name, "tier": unit.tier, "kind": unit.kind}
    else:
        place = county.jurisdiction(r.key)
        head = {"jurisdiction": place.code, "name": place.name, "tier": place.tier}
    whose = f"{by}={quote(r.key, safe='')}&{clocks}"
    cells = {}
    for key, links, is_rate in _CELLS:
        value = r.values[key]
        cells[key] = {"value": f"{value:.2f}" if is_rate and value is not None else value,
                      "drilldown": [link + whose for link in links]}
    return {**head, "rank": r.rank, "previous_rank": r.previous_rank, "rank_change": r.change,
            "score": f"{r.score:.2f}", "vetoed": list(r.vetoed), "indicators": cells}


#: per indicator: its drill-down links but the row's key and clocks, and whether it is a rate
_CELLS = tuple((key, tuple(f"/v1/stats/drilldown?figure={figure}&" for figure in DRILL[key]), key in RATES)
               for key in ranking.INDICATORS)


def _clocks(request: Request) -> str:
    """The drill-down's period and clocks, as query parameters (the same for every cell)."""
    period = request.period
    params: dict[str, str] = {}
    if period.kind in ("month", "quarter", "half", "year"):
        params[period.kind] = period.code
    else:
        params |= {"from": period.start.isoformat(), "to": period.end.isoformat()}
    for name in ("as_of", "known_at"):
        moment = getattr(request, name)
        if moment is not None:
            params[name] = moment.isoformat()
    return urlencode(params)


__all__ = ["assessment", "counts"]

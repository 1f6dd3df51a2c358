"""GET /v1/hotspots: rising categories and repeated collective visits, with the matters behind them."""
from __future__ import annotations

from fastapi import APIRouter

from reporting import hotspots
from reporting.api.routes import Reporting, Wanted, answers

router = APIRouter()


@router.get("/v1/hotspots", summary="热点预警 Hotspot warnings", tags=["hotspots"], name="get_hotspots",
            responses=answers())
async def hotspot_warnings(wanted: Wanted, rep: Reporting) -> dict:
    """热点预警, about matters and never persons, in the period and the scope (the same scoping as `/v1/stats`).
    `rising` (骤增): a category in a place — where matters arose, or a place above it in the scope — with at least
    `rise_min` matters registered in the period and at least `rise_ratio` times those of the period before (环比)
    and of the same period a year earlier (同比). `collective` (重复集体访): `collective_visits` or more visit
    batches of at least `collective_threshold` persons on one place's matters within `collective_window`, the
    latest in the period. The thresholds are the county file's (`hotspots`), given in `rules`. Each warning lists
    its matters: petition id and receipt number."""
    found = await hotspots.hotspots(rep.pool, rep.schema, rep.county, wanted)
    rules = rep.county.hotspots
    period = wanted.period
    return {"period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "code": period.code},
            "jurisdiction": hotspots.scope_top(rep.county, wanted),
            "rules": {"rise_ratio": rules.rise_ratio, "rise_min": rules.rise_min,
                      "collective_visits": rules.collective_visits,
                      "collective_window_seconds": int(rules.collective_window.total_seconds()),
                      "collective_threshold": rep.county.collective_threshold},
            **found}

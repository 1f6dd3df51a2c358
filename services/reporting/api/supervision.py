"""GET /v1/supervision-notices: the 督办单 issued in a period, each listed matter with whether it was answered since."""
from __future__ import annotations

from fastapi import APIRouter

from reporting import supervision
from reporting.api.routes import Reporting, Wanted, answers

router = APIRouter()


@router.get("/v1/supervision-notices", summary="督办单及其办理情况 Supervision notices and what was answered since",
            tags=["supervision"], name="get_supervision_notices", responses=answers())
async def supervision_notices(wanted: Wanted, rep: Reporting) -> dict:
    """The supervision notices (督办单, issued at intake: `POST /v1/supervision-notices`) issued in the period to the
    units of the scope (a jurisdiction: every unit in its subtree; a unit: its own), oldest first. Each lists its
    matters — petition id and receipt number, never a person — with the stage overdue, its due time, the days
    overdue, and `answered_at`: when the fact that meets the obligation happened (受理/不予受理, 答复, 复查意见,
    复核意见), if it was recorded after the notice; `answered` counts them. `as_of` and `known_at` apply to the
    notices and the answers alike. The same scoping as `/v1/stats`."""
    period = wanted.period
    found = await supervision.notices(rep.pool, rep.schema, rep.county, wanted)
    return {"period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "code": period.code},
            "jurisdiction": wanted.jurisdiction, "unit": wanted.unit,
            "notices": [{**notice, "matters": [vars(m) for m in notice["matters"]]} for notice in found]}

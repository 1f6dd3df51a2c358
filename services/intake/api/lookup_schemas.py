"""The answers of the desk's lookups and of repeat detection (``intake.api.lookup``, and the registration's 201)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from intake.desk import Found
from intake.store import next_due_at
from xinfang.county.model import County


class PossibleRepeat(BaseModel):
    """同一信访人的在办或近期办结事项：请在该事项上登记后续批次 (重复访)，而非新登记 — a matter of the same person,
    open or recently closed: record the visit on it rather than registering a new one. No personal data."""

    petition_id: str
    receipt_no: str
    status: str
    status_label: str
    category: str
    jurisdiction: str = Field(description="事项发生地区划代码")
    place: str = Field(description="事项发生地名称")
    holder_unit: str | None
    registered_at: datetime
    last_step_at: datetime | None = Field(description="最近一个办理环节的时间 the latest step of the procedure")
    matched_by: list[str] = Field(description="id_number and/or phone: which of the person's identifiers matched")


class MatterFound(PossibleRepeat):
    """查到的事项 — a matter of the person asked about, within your scope."""

    holder_tier: str | None
    registered_unit: str
    next_due_at: datetime | None = Field(description="the soonest open obligation")
    batches: int
    names: list[str | None] = Field(description="与所查号码相符的信访人姓名（已删除的为 null） the names of the "
                                                "petitioners on the matter the identifier matched (null once erased)")


class LookupAnswer(BaseModel):
    """查询结果：无此人事项与不在本单位辖区内的答复相同 — the person's matters in your scope; none found and none in
    your scope answer alike."""

    matters: list[MatterFound]


class RepeatCheckAnswer(BaseModel):
    possible_repeats: list[PossibleRepeat]


def possible_repeat(county: County, found: Found) -> PossibleRepeat:
    """A matter found as the clerk is shown it before or at registration."""
    state = found.state
    return PossibleRepeat(
        petition_id=state.petition_id, receipt_no=state.receipt_no, status=state.status, status_label=state.label,
        category=state.category, jurisdiction=state.jurisdiction, place=county.jurisdiction(state.jurisdiction).name,
        holder_unit=state.holder_unit, registered_at=state.registered_at, last_step_at=state.last_fact_at,
        matched_by=list(found.matched_by))


def matter_found(county: County, found: Found, names: list[str | None]) -> MatterFound:
    """A matter found as a lookup answers it."""
    state = found.state
    return MatterFound(**possible_repeat(county, found).model_dump(), holder_tier=state.holder_tier,
                       registered_unit=state.registered_unit, next_due_at=next_due_at(state), batches=state.batches,
                       names=names)

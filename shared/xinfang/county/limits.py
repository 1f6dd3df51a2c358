"""Time limits: the legal limits (信访工作条例) and how a county's limit is measured.

The legal limits are the ceiling for every tier; lower tiers work to shorter internal
limits (限时办结制).  Limits in different units are compared in nominal days: a
working day counts 7/5 of a calendar day (a week holds five), a second 1/86400.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xinfang.calendar import TimeUnit
from xinfang.vocabulary import LimitKind


class TimeLimit(BaseModel):
    """An amount of calendar days, working days or (test counties only) seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: int = Field(ge=0)
    unit: TimeUnit = "calendar"

    def nominal_days(self) -> float:
        """The limit in nominal calendar days, to compare limits of different units."""
        return {"calendar": 1.0, "working": 7 / 5, "seconds": 1 / 86400}[self.unit] * self.amount

    def __str__(self) -> str:
        return f"{self.amount} {'seconds' if self.unit == 'seconds' else self.unit + ' days'}"


LEGAL_LIMITS: dict[LimitKind, TimeLimit] = {
    "accept": TimeLimit(amount=15),                   # 受理告知: 15 days from receipt
    "handle": TimeLimit(amount=60),                   # 办理答复: 60 days from acceptance
    "extension": TimeLimit(amount=30),                # 延期: once, at most 30 days
    "review_request_window": TimeLimit(amount=30),    # 请求复查: within 30 days of the reply
    "review": TimeLimit(amount=30),                   # 复查: 30 days from the request
    "recheck_request_window": TimeLimit(amount=30),   # 请求复核: within 30 days of the review
    "recheck": TimeLimit(amount=30),                  # 复核: 30 days from the request
    "objection_window": TimeLimit(amount=5, unit="working"),  # 派单异议: 5 working days
}


def above_ceiling(stage: LimitKind, limit: TimeLimit) -> bool:
    """True if a county's limit for a stage is longer than the legal limit."""
    return limit.nominal_days() > LEGAL_LIMITS[stage].nominal_days() + 1e-9

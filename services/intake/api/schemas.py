"""Request and response bodies of the terminal API (not the stored events)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from intake.api.lookup_schemas import PossibleRepeat
from xinfang.vocabulary import CALENDAR_ASSUMED_LABEL, Channel, Decision, Redirect, Satisfaction


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(Body):
    """A petitioner's personal data; encrypted before it is stored or published."""

    name: str = Field(min_length=1, max_length=64, description="姓名")
    id_number: str | None = Field(None, pattern=r"^[0-9]{17}[0-9Xx]$", description="居民身份证号码（18位）")
    phone: str | None = Field(None, pattern=r"^[0-9+\- ]{5,20}$", description="联系电话")
    address: str | None = Field(None, max_length=200, description="住址")


class PetitionCreate(Body):
    """登记信访事项及首批次 — register a matter with its first batch."""

    channel: Channel = Field(description="来访 visit / 来信 letter / 网上 online / 电话 phone")
    jurisdiction: str = Field(min_length=1, max_length=32, description="事项发生地区划代码 (属地)")
    category: str = Field(min_length=1, max_length=32, description="内容分类代码，见 GET /v1/categories")
    summary: str = Field(min_length=1, max_length=4000, description="主要诉求")
    head_count: int = Field(ge=1, le=100000, description="人数 (5人及以上为集体访)；每批次不超过本县上限 "
                                                         "max_head_count（默认2000）")
    petitioners: list[PersonIn] = Field(min_length=1, max_length=200)
    occurred_at: AwareDatetime | None = Field(None, description="来访/来信时间，离线终端补录时填写；缺省为接收时间。"
                                              "不早于本县离线补录期限 offline_window（默认7天），更早的历史请导入")
    accused_unit: str | None = Field(None, max_length=32, description="检举控告：被检举单位，该单位不可见此事项")


class VisitCreate(Body):
    """同一事项的后续批次 (重复访)."""

    channel: Channel
    head_count: int = Field(ge=1, le=100000, description="人数；每批次不超过本县上限 max_head_count（默认2000）")
    petitioners: list[PersonIn] = Field(default_factory=list, max_length=200)
    summary: str | None = Field(None, max_length=4000)
    occurred_at: AwareDatetime | None = Field(None, description="来访时间；缺省为接收时间。不早于该事项的首次登记，"
                                              "不早于本县离线补录期限 offline_window（默认7天）")


class _Action(Body):
    occurred_at: AwareDatetime | None = Field(None, description="办理时间；缺省为接收时间。不早于所依据的上一办理环节，"
                                              "不早于本县离线补录期限 offline_window（默认7天）")


class AcceptIn(_Action):
    action: Literal["accept"]
    note: str | None = Field(None, max_length=4000)


class DeclineIn(_Action):
    action: Literal["decline"]
    reason: str = Field(min_length=1, max_length=4000, description="不予受理理由（告知信访人）")
    redirect: Redirect | None = None


class TransferIn(_Action):
    action: Literal["transfer"]
    reason: str = Field(min_length=1, max_length=4000)
    to_unit: str | None = Field(None, max_length=32)
    category: str | None = Field(None, max_length=32)


class ObjectIn(_Action):
    action: Literal["object"]
    reason: str = Field(min_length=1, max_length=4000, description="派单异议理由（5个工作日内）")


class ExtendIn(_Action):
    action: Literal["extend"]
    days: int = Field(ge=1, le=30, description="延长天数，不超过承办层级的延期期限（法定最多30日），仅一次，"
                                               "须主管在办理期限届满前批准")
    reason: str = Field(min_length=1, max_length=4000)


class SuspendIn(_Action):
    action: Literal["suspend"]
    reason: str = Field(min_length=1, max_length=4000, description="如：听证")


class ResumeIn(_Action):
    action: Literal["resume"]


class _Answer(_Action):
    decision: Decision = Field(description="支持 support / 解释说明 explain / 不予支持 reject")
    resolved: bool = Field(description="事项是否已解决")
    # the 意见书 states the facts found and the grounds apart (信访工作条例 2022): two fields, both required
    facts: str = Field(min_length=1, max_length=4000, description="查明事实：经调查核实认定的事实")
    grounds: str = Field(min_length=1, max_length=4000,
                         description="依据和理由：所依据的法律、政策及作出处理意见的理由")


class ReplyIn(_Answer):
    action: Literal["reply"]


class ReplyReviewIn(_Answer):
    action: Literal["reply_review"]


class ReplyRecheckIn(_Answer):
    action: Literal["reply_recheck"]


class RequestReviewIn(_Action):
    action: Literal["request_review"]
    reason: str = Field(min_length=1, max_length=4000)


class RequestRecheckIn(_Action):
    action: Literal["request_recheck"]
    reason: str = Field(min_length=1, max_length=4000)


class EvaluateIn(_Action):
    action: Literal["evaluate"]
    satisfaction: Satisfaction = Field(
        description="满意 / 基本满意 / 不满意")


class WithdrawIn(_Action):
    action: Literal["withdraw"]
    reason: str | None = Field(None, max_length=4000)


class MergeIn(_Action):
    action: Literal["merge"]
    into: str = Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                      description="存续事项的 petition_id：本事项系误登记的重复件，其批次并入该事项（重复访）；须主管，"
                                  "两件均在本单位辖区内")
    reason: str = Field(min_length=1, max_length=4000, description="并单理由")


class UnmergeIn(_Action):
    action: Literal["unmerge"]
    reason: str = Field(min_length=1, max_length=4000, description="撤销并单理由（县信访局主管，仅一次）")


ActionIn = Annotated[
    AcceptIn | DeclineIn | TransferIn | ObjectIn | ExtendIn | SuspendIn | ResumeIn | ReplyIn | RequestReviewIn
    | ReplyReviewIn | RequestRecheckIn | ReplyRecheckIn | EvaluateIn | WithdrawIn | MergeIn | UnmergeIn,
    Field(discriminator="action")]


ASSUMED = ("counted over a year with no holiday plan yet (Monday–Friday assumed): it may move once the county "
           "file lists the year")


class DueOut(BaseModel):
    stage: str
    due_at: datetime
    calendar_assumed: bool = Field(False, description=ASSUMED)
    calendar_label: str | None = Field(None, description=f"{CALENDAR_ASSUMED_LABEL} where calendar_assumed; else None")


class PersonOut(BaseModel):
    ref: str
    name: str | None = Field(description="None once erased (已删除)")
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    erased: bool = False


class PetitionPublic(BaseModel):
    """一件信访事项的当前状态."""

    petition_id: uuid.UUID
    receipt_no: str
    status: str
    status_label: str
    jurisdiction: str
    category: str
    registered_unit: str
    registered_at: datetime
    holder_unit: str | None
    holder_tier: str | None
    department: str | None
    due: list[DueOut]
    batches: int
    head_count: int
    extended: bool
    suspended: bool
    resolved: bool | None
    imported: bool
    version: int
    petitioners: list[PersonOut] = Field(default_factory=list)
    merged_into: str | None = Field(None, description="并单：本事项已并入的存续事项 petition_id（在该事项上办理）")
    merged: list[str] = Field(default_factory=list, description="并入本事项的事项 petition_id")


class Registration(BaseModel):
    """登记回执 — the receipt of a registration."""

    petition_id: uuid.UUID
    receipt_no: str = Field(description="可电话报读的回执编号 e.g. 2026-110105-0000123")
    status: str
    status_label: str
    possible_repeats: list[PossibleRepeat] = Field(default_factory=list, description="同一信访人的在办或近期办结事项 "
                                                   "the same people's open or recently closed matters in your scope")


class TerminalCreate(Body):
    unit_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    roles: list[Literal["registrar", "handler", "supervisor", "auditor", "admin"]] = Field(min_length=1)


class TerminalCreated(BaseModel):
    id: str
    unit_id: str
    roles: list[str]
    token: str = Field(description="只显示一次，请妥善保存 shown once; store it safely")


class WorkItem(BaseModel):
    petition_id: uuid.UUID
    receipt_no: str
    status: str
    status_label: str
    category: str
    jurisdiction: str
    next_due_at: datetime | None = Field(description="the soonest open obligation; met dues are gone, none while paused")
    suspended: bool = Field(False, description="the clock stands still (听证 etc.): nothing is due")
    due_label: str | None = Field(None, description="暂停 (paused) while suspended; else None")
    calendar_assumed: bool = Field(False, description=f"next_due_at is {ASSUMED}")
    calendar_label: str | None = Field(None, description=f"{CALENDAR_ASSUMED_LABEL} where calendar_assumed; else None")


class UnitOut(BaseModel):
    id: str
    name: str
    tier: str
    jurisdiction: str
    kind: str | None = None


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str | None = None
    department: str | None = None

"""The words of petition work, each defined once, with its Chinese label beside it.

Events, commands, the terminal API, the county file and the statistics all import from here.

Two words that sound alike are two things, and are named apart:

- ``Stage`` (办理环节): the step of the procedure a unit must act in, as routing events carry it
  (``petition.assigned.v2`` … ``stage``): accept, handle, review, recheck, objection.
- ``LimitKind`` (期限): a time limit the law and the county file set per tier (``time_limits``):
  the stages that run on a clock, but also the petitioner's windows to ask for a review, the
  window to object to an assignment and the length of an extension — which no unit works in.

The names the two share (accept, handle, review, recheck) mean the same step; ``objection`` the
stage is measured by ``objection_window`` the limit.
"""
from __future__ import annotations

from typing import Literal

Channel = Literal["visit", "letter", "online", "phone"]
CHANNEL_LABELS: dict[Channel, str] = {"visit": "来访", "letter": "来信", "online": "网上信访", "phone": "电话"}

Tier = Literal["village", "township", "county", "city"]
#: lowest first
TIERS: tuple[Tier, ...] = ("village", "township", "county", "city")
TIER_LABELS: dict[Tier, str] = {"village": "村（社区）", "township": "镇（街道）", "county": "县（区）", "city": "市"}

Stage = Literal["accept", "handle", "review", "recheck", "objection"]
STAGE_LABELS: dict[Stage, str] = {"accept": "受理", "handle": "办理", "review": "复查", "recheck": "复核",
                                  "objection": "派单异议"}

LimitKind = Literal["accept", "handle", "review_request_window", "review",
                    "recheck_request_window", "recheck", "objection_window", "extension"]
LIMIT_KINDS: tuple[LimitKind, ...] = ("accept", "handle", "review_request_window", "review",
                                      "recheck_request_window", "recheck", "objection_window", "extension")
LIMIT_LABELS: dict[LimitKind, str] = {
    "accept": "受理告知期限", "handle": "办理答复期限", "review_request_window": "请求复查期限",
    "review": "复查期限", "recheck_request_window": "请求复核期限", "recheck": "复核期限",
    "objection_window": "派单异议期限", "extension": "延期期限",
}

Decision = Literal["support", "explain", "reject"]
DECISION_LABELS: dict[Decision, str] = {"support": "支持", "explain": "解释说明", "reject": "不予支持"}

Satisfaction = Literal["satisfied", "basically_satisfied", "dissatisfied"]
SATISFACTION_LABELS: dict[Satisfaction, str] = {"satisfied": "满意", "basically_satisfied": "基本满意",
                                                "dissatisfied": "不满意"}

#: the legal channel a matter belongs in instead (诉访分离)
Redirect = Literal["court", "arbitration", "admin_review"]
REDIRECT_LABELS: dict[Redirect, str] = {"court": "诉讼", "arbitration": "仲裁", "admin_review": "行政复议"}

#: what the worklist shows instead of a due time while a matter's clock is suspended (听证 etc.)
PAUSED_LABEL = "暂停"
#: what a due counted over a year with no holiday plan says beside its time (``calendar_assumed``, xinfang.calendar)
CALENDAR_ASSUMED_LABEL = "按周一至周五推算，待公布节假日安排"

#: the writings the regulations require a unit to give the petitioner (书面告知), one kind each
NoticeKind = Literal["receipt", "acceptance", "declined", "extension", "opinion", "review_opinion", "recheck_opinion"]
NOTICE_KINDS: tuple[NoticeKind, ...] = ("receipt", "acceptance", "declined", "extension", "opinion",
                                        "review_opinion", "recheck_opinion")
NOTICE_LABELS: dict[NoticeKind, str] = {
    "receipt": "登记回执", "acceptance": "受理告知书", "declined": "不予受理告知书", "extension": "延期告知书",
    "opinion": "信访处理意见书", "review_opinion": "复查意见书", "recheck_opinion": "复核意见书",
}
#: how an issued notice reached the petitioner: handed over at the desk, posted, or told by SMS
Delivery = Literal["desk", "post", "sms"]
DELIVERY_LABELS: dict[Delivery, str] = {"desk": "当面送达", "post": "邮寄送达", "sms": "短信告知"}
#: event type (without its version) → what a matter's timeline calls it
EVENT_LABELS: dict[str, str] = {
    "petition.registered": "登记", "petition.visit_recorded": "再次来访（续批）", "petition.accepted": "受理",
    "petition.declined": "不予受理", "petition.transferred": "转送", "petition.objected": "派单异议",
    "petition.extension_granted": "批准延期", "petition.suspended": "中止计时", "petition.resumed": "恢复计时",
    "petition.replied": "答复", "petition.review_requested": "申请复查", "petition.review_replied": "复查意见",
    "petition.recheck_requested": "申请复核", "petition.recheck_replied": "复核意见", "petition.evaluated": "满意度评价",
    "petition.withdrawn": "撤回", "petition.terminated": "终结", "petition.personal_data_erased": "删除个人信息",
    "petition.assigned": "交办", "petition.deadline_warning": "临期预警", "petition.overdue": "超期",
    "petition.escalated": "升级", "petition.deadline_changed": "期限变更", "petition.review_assigned": "复查/复核交办",
    "petition.closed": "办结", "petition.routing_withdrawn": "撤销督办事件", "petition.notice_issued": "出具书面告知",
    "petition.supervised": "督办",
}
#: the actions of ``POST /v1/petitions/{id}/actions`` → their Chinese names
ACTION_LABELS: dict[str, str] = {
    "accept": "受理", "decline": "不予受理", "transfer": "转送", "object": "派单异议", "extend": "延期",
    "suspend": "中止计时", "resume": "恢复计时", "reply": "答复", "request_review": "登记复查申请",
    "reply_review": "出具复查意见", "request_recheck": "登记复核申请", "reply_recheck": "出具复核意见",
    "evaluate": "登记满意度评价", "withdraw": "登记撤回", "merge": "并单", "unmerge": "撤销并单",
}

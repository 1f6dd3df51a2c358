"""decide(state, command, context) -> events: every rule a command must pass.

The context carries what the rules need from outside the matter, as plain values and pure
functions: when it happens, who acts, and the county's organisation and calendar.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.domain.model import FINAL_STATUSES, OPEN, PetitionState
from intake.domain.occurred import check_follows
from xinfang.county.limits import LEGAL_LIMITS, TimeLimit
from xinfang.events.catalogue import (
    Accepted,
    Declined,
    Evaluated,
    EventData,
    ExtensionGranted,
    Merged,
    MergeReceived,
    MergeUndone,
    NoticeIssued,
    Objected,
    PersonalDataErased,
    Petitioner,
    RecheckReplied,
    RecheckRequested,
    Registered,
    Replied,
    Resumed,
    ReviewReplied,
    ReviewRequested,
    Supervised,
    Suspended,
    Terminated,
    Transferred,
    Unmerged,
    VisitRecorded,
    Withdrawn,
)
from xinfang.events.envelope import parse_time
from xinfang.vocabulary import NOTICE_LABELS, NoticeKind

HANDLER_ROLES = frozenset({"handler", "supervisor"})
REGISTRAR_ROLES = frozenset({"registrar", "handler", "supervisor"})
#: the petitioner holding the matter's receipt slip (the portal): evaluates and asks for review, nothing else
PETITIONER = frozenset({"petitioner"})
#: what a status needs before it: the fact an action waits for, named in its refusal
NEEDS = {"assigned": ("交办", "assigned to a unit"), "accepted": ("受理", "accepted"),
         "replied": ("答复", "replied to"), "review_requested": ("申请复查", "under review (request_review)"),
         "reviewed": ("复查", "reviewed (reply_review)"),
         "recheck_requested": ("申请复核", "under re-review (request_recheck)")}


@dataclass(frozen=True)
class Importer:
    """Imported history: the importing terminal's unit vouches for what its units did in its jurisdiction."""

    unit: str
    covers_unit: Callable[[str], bool]  # the unit is the importer's or lies below it
    covers_place: Callable[[str], bool]  # a jurisdiction code lies in the importer's subtree
    reviewer_of: Callable[[str], tuple[str, str]]  # the unit (and tier) one tier up, who reviews an answer


@dataclass(frozen=True)
class Context:
    """Who acts, when, and the county's rules as pure functions."""

    now: datetime  # when it happened (occurred time)
    actor_unit: str
    actor_tier: str
    roles: frozenset[str]
    acts_for: Callable[[str], bool]  # actor is this unit or supervises it
    in_scope: Callable[[str], bool]  # a jurisdiction code is within the actor's subtree
    knows_category: Callable[[str], bool]
    knows_unit: Callable[[str], bool]
    window_end: Callable[[datetime, str], datetime]  # (start, "review_request"|…) → last moment
    extension_limit: TimeLimit = LEGAL_LIMITS["extension"]  # 延期: the most the matter's tier may grant
    max_head_count: int = 2000  # the county's bound on one batch
    knows_place: Callable[[str], bool] = lambda _code: True  # a jurisdiction code the county file has
    importer: Importer | None = None  # set for imported history: the rules below say where it differs


def _need_role(ctx: Context, roles: frozenset[str], what: str) -> None:
    if not roles & ctx.roles:
        raise Refused("forbidden", "role", f"当前终端无权{what}", f"this terminal's roles may not {what}")


def _need_status(state: PetitionState, allowed: set[str], what: str) -> None:
    """``what``: the action in Chinese, a space, in English ("答复 reply")."""
    if state.status in allowed:
        return
    zh, _, en = what.partition(" ")
    need = NEEDS.get(next(iter(allowed))) if len(allowed) == 1 else None
    if need is None:
        raise Refused("state", "status", f"事项当前状态为「{state.label}」，不能{zh}",
                      f"cannot {en} while the matter is {state.status}")
    raise Refused("state", "status", f"事项当前状态为「{state.label}」，须先{need[0]}才能{zh}",
                  f"cannot {en}: the matter is {state.status} and must first be {need[1]}")


def _need_holder(state: PetitionState, ctx: Context, what: str) -> str:
    """The unit that held the matter when the action happened (an offline terminal's action counts then)."""
    if state.holder_unit is None:
        raise Refused("state", "unassigned", f"事项尚未交办，不能{what}",
                      f"the matter is not assigned to a unit yet; cannot {what}")
    holder = state.holder_at(ctx.now)
    if holder is None or not ctx.acts_for(holder):
        raise Refused("forbidden", "not_holder", f"只有操作发生时的承办单位或其上级可以{what}",
                      f"only the unit holding the matter when the action happened ({holder or state.holder_unit}) "
                      f"or a unit above it may {what}")
    return holder


def _within(ctx: Context, start: datetime | None, window: str, what: str) -> None:
    if start is None or ctx.now > ctx.window_end(start, window):
        raise Refused("state", "window_closed", f"已超过{what}的期限",
                      f"the time allowed to {what} has passed")


def _need_head_count(head_count: int, ctx: Context) -> None:
    if head_count > ctx.max_head_count:
        raise Refused("invalid", "head_count", f"一批次人数不能超过{ctx.max_head_count}人",
                      f"head_count is over the county's maximum of {ctx.max_head_count} per batch", "head_count")


def _need_extension_allowed(state: PetitionState, days: int, ctx: Context) -> None:
    """延期 within the tier's limit (the event records what escalation applies), before the handling limit passed."""
    limit = ctx.extension_limit
    if not 1 <= days <= limit.amount:
        raise Refused("invalid", "days", f"延期须在1至{limit.amount}之间（本级最长延期 {limit}）",
                      f"days must be 1 to {limit.amount}: this tier's extension limit is {limit}", "days")
    due = state.due_at("handle")
    if due is not None and ctx.now > datetime.fromisoformat(due.replace("Z", "+00:00")):
        raise Refused("state", "handle_due_passed", f"办理期限已于 {due} 届满，超期后不能再批准延期",
                      f"the handling limit passed at {due}; an extension must be approved before it passes")


def notice_basis(state: PetitionState, kind: NoticeKind, ctx: Context) -> tuple[int, str]:
    """(seq, unit) of the fact a notice of ``kind`` tells, if the actor may issue it: a registrar (or handler,
    supervisor) of the registering unit for the receipt slip; a handler or supervisor of the unit that decided —
    the unit that held the matter then, in whose name the notice goes out — for the others; a unit above it too."""
    label = NOTICE_LABELS[kind]
    fact = state.notice_fact(kind)
    if fact is None:
        raise Refused("state", "nothing_to_tell", f"事项尚无可出具{label}的决定或记录",
                      f"the matter has no fact a {kind} notice tells yet")
    seq, unit, _ = fact
    _need_role(ctx, REGISTRAR_ROLES if kind == "receipt" else HANDLER_ROLES, f"出具{label} issue a {kind} notice")
    if not ctx.acts_for(unit):
        raise Refused("forbidden", "not_issuer", f"只有作出该决定的单位或其上级可以出具{label}",
                      f"only the unit that decided ({unit}) or a unit above it may issue the {kind} notice")
    return seq, unit


def notice_issued(cmd: c.IssueNotice, issuer: str) -> NoticeIssued:
    """The event of a notice issued in the name of ``issuer``."""
    return NoticeIssued(notice_id=cmd.notice_id, kind=cmd.kind, unit=issuer, delivery=cmd.delivery,
                        basis_seq=cmd.basis_seq, title=cmd.title, body=list(cmd.body), fields=dict(cmd.fields),
                        addressed=list(cmd.addressed), query_code_generation=cmd.query_code_generation,
                        layout=cmd.layout, pdf_sha256=cmd.pdf_sha256, docx_sha256=cmd.docx_sha256)


SUPERVISOR = frozenset({"supervisor"})


def may_supervise(ctx: Context, unit: str) -> None:
    """督办: only a supervisor of a unit above ``unit`` may supervise it (refused otherwise, with the reason)."""
    _need_role(ctx, SUPERVISOR, "督办 issue a supervision notice")
    if unit == ctx.actor_unit or not ctx.acts_for(unit):
        raise Refused("forbidden", "not_supervisor", "只有上级单位可以督办", f"only a unit above {unit} may supervise it")


def supervised(state: PetitionState, cmd: c.Supervise, ctx: Context) -> Supervised:
    """The event of a matter listed on a supervision notice: held by the unit supervised, its obligation still open
    and overdue."""
    may_supervise(ctx, cmd.unit)
    if state.holder_unit != cmd.unit or state.suspended:
        raise Refused("state", "not_held", "该事项已不由被督办单位办理或已中止计时",
                      f"the matter is no longer held by {cmd.unit}, or its clock is suspended")
    if not any(stage == cmd.stage and at == cmd.due_at and parse_time(at) < ctx.now for stage, at, _ in state.due):
        raise Refused("state", "not_overdue", "该事项此项期限未超期或已办理", f"the {cmd.stage} obligation due "
                      f"{cmd.due_at} is not overdue or no longer open")
    return Supervised(notice_id=cmd.notice_id, number=cmd.number, issuing_unit=ctx.actor_unit, unit=cmd.unit,
                      reason=cmd.reason, receipt_no=state.receipt_no, stage=cmd.stage, due_at=cmd.due_at,
                      days_overdue=cmd.days_overdue, position=cmd.position, listed=cmd.listed,
                      pdf_sha256=cmd.pdf_sha256, docx_sha256=cmd.docx_sha256)


def _reviewer(state: PetitionState, ctx: Context) -> dict[str, str]:
    """Who reviews: live, escalation assigns it after the request; imported history is decided here, the tier above
    the unit whose answer is contested, so the review's reply in the same history finds its holder."""
    if ctx.importer is None:
        return {}
    unit, tier = ctx.importer.reviewer_of(state.answered_by or state.holder_unit or state.registered_unit)
    return {"unit": unit, "tier": tier}


def _petitioners(items: tuple[c.EncryptedPetitioner, ...]) -> list[Petitioner]:
    return [Petitioner(ref=p.ref, name=p.name, id_number=p.id_number, phone=p.phone,
                       address=p.address) for p in items]


def _register(cmd: c.RegisterPetition, ctx: Context) -> list[EventData]:
    _need_role(ctx, REGISTRAR_ROLES, "登记 register")
    _need_head_count(cmd.head_count, ctx)
    if not ctx.knows_category(cmd.category):
        raise Refused("invalid", "category", f"未知的类别代码 {cmd.category}", f"unknown category {cmd.category!r}",
                      "category")
    code = cmd.jurisdiction
    if not ctx.knows_place(code):
        raise Refused("invalid", "unknown_jurisdiction", f"未知的区划代码 {code}：本县区划中没有此代码",
                      f"unknown jurisdiction code {code!r}: the county file has no such place", "jurisdiction")
    if ctx.importer is not None and not ctx.importer.covers_place(code):
        raise Refused("forbidden", "outside_importer", f"区划 {code} 不在导入终端所属单位 {ctx.importer.unit} 的辖区内",
                      f"jurisdiction {code!r} lies outside the jurisdiction of the importing terminal's unit "
                      f"{ctx.importer.unit}", "jurisdiction")
    if not ctx.in_scope(code):
        raise Refused("forbidden", "jurisdiction", f"区划 {code} 不在登记单位 {ctx.actor_unit} 的辖区内",
                      f"jurisdiction {code!r} lies outside the jurisdiction of the registering unit {ctx.actor_unit}",
                      "jurisdiction")
    if cmd.accused_unit is not None and not ctx.knows_unit(cmd.accused_unit):
        raise Refused("invalid", "accused_unit", "未知的被检举单位", f"unknown accused unit {cmd.accused_unit!r}")
    return [Registered(
        receipt_no=cmd.receipt_no, batch_id=cmd.batch_id, channel=cmd.channel,
        jurisdiction=cmd.jurisdiction, category=cmd.category, summary=cmd.summary,
        head_count=cmd.head_count, petitioners=_petitioners(cmd.petitioners), unit=ctx.actor_unit,
        tier=ctx.actor_tier, imported=cmd.imported, external_id=cmd.external_id,
        accused_unit=cmd.accused_unit,
    )]


def decide(state: PetitionState | None, command: c.Command, ctx: Context) -> list[EventData]:
    """The events a command produces, or :class:`Refused` with the reason."""
    if ctx.importer is not None and not ctx.importer.covers_unit(ctx.actor_unit):
        raise Refused("forbidden", "outside_importer",
                      f"单位 {ctx.actor_unit} 不在导入终端所属单位 {ctx.importer.unit} 的辖区内，请由其上级单位的终端导入",
                      f"unit {ctx.actor_unit!r} is neither the importing terminal's unit {ctx.importer.unit} nor below "
                      "it: import with a terminal of a unit above both", "unit")
    if isinstance(command, c.RegisterPetition):
        if state is not None:
            raise Refused("state", "exists", "事项已登记", "the matter is already registered")
        return _register(command, ctx)
    if state is None:
        raise Refused("not_found", "unknown", "事项不存在", "no such matter")
    if state.merged_into is not None and not isinstance(command, c.Unmerge | c.ErasePersonalData):
        raise Refused("state", "merged", f"事项已并入 {state.merged_into}，请在存续事项上办理",
                      f"the matter was merged into {state.merged_into}: act on that matter")
    try:
        produced = _decide_action(state, command, ctx)
    except Refused as refused:
        if refused.code == "not_holder":  # nobody held it then, if the time is before the step it follows
            _need_order(state, command, ctx)
        raise
    _need_order(state, command, ctx)  # after the rules: a refusal by the matter's state says more
    return produced


def _need_order(state: PetitionState, cmd: c.Command, ctx: Context) -> None:
    """A visit comes after its matter's first batch; an action after the step it follows."""
    if isinstance(cmd, c.RecordVisit):
        check_follows(ctx.now, state.registered_at, "该事项的首次登记", "the matter's first batch")
    elif not isinstance(cmd, c.ErasePersonalData):
        check_follows(ctx.now, state.last_fact_at, "该事项的上一办理环节", "the step of the procedure it follows")


def _need_survivor(state: PetitionState, survivor: PetitionState | None, into: str, ctx: Context) -> PetitionState:
    """The matter to merge into: in the supervisor's scope, not this one, not merged, not closed."""
    if survivor is None or not ctx.in_scope(survivor.jurisdiction):  # out of scope: as for no such matter
        raise Refused("not_found", "into", "并入的事项不存在", f"no such matter to merge into: {into}", "into")
    if survivor.petition_id == state.petition_id:
        raise Refused("invalid", "merge_self", "事项不能并入其自身", "a matter cannot be merged into itself", "into")
    if survivor.merged_into is not None:
        raise Refused("state", "into_merged", f"该事项已并入 {survivor.merged_into}，请并入存续事项",
                      f"that matter was itself merged into {survivor.merged_into}: merge into the survivor", "into")
    if survivor.status in FINAL_STATUSES:
        raise Refused("state", "into_closed", f"该事项已「{survivor.label}」，不能并入已办结的事项",
                      f"cannot merge into a closed matter ({survivor.status})", "into")
    return survivor


def _merge(state: PetitionState, cmd: c.Merge, ctx: Context) -> list[EventData]:
    _need_role(ctx, frozenset({"supervisor"}), "并单 merge matters")
    if not ctx.in_scope(state.jurisdiction):
        raise Refused("not_found", "unknown", "事项不存在", "no such matter")
    survivor = _need_survivor(state, cmd.survivor, cmd.into, ctx)
    if state.merged_in:
        raise Refused("state", "has_merged", "已有其他事项并入本事项，不能再将本事项并出",
                      "other matters were merged into this one: it cannot be merged itself")
    if state.unmerged:
        raise Refused("state", "unmerged_once", "本事项的并单已撤销过一次，不能再次并单",
                      "this matter's merge was undone once: it cannot be merged again")
    return [Merged(into=survivor.petition_id, into_receipt_no=survivor.receipt_no, reason=cmd.reason,
                   unit=ctx.actor_unit)]


def _unmerge(state: PetitionState, cmd: c.Unmerge, ctx: Context) -> list[EventData]:
    _need_role(ctx, frozenset({"supervisor"}), "撤销并单 undo a merge")
    if ctx.actor_tier != "county":
        raise Refused("forbidden", "bureau_only", "只有县级信访部门的主管可以撤销并单",
                      "only a supervisor of the county tier (the bureau) may undo a merge")
    if state.merged_into is None:
        raise Refused("state", "not_merged", "本事项未并单", "this matter is not merged")
    if cmd.survivor is None:  # the survivor out of the caller's sight (an accusation against its unit)
        raise Refused("not_found", "into", "并入的事项不存在", f"no such matter to undo the merge with: "
                      f"{state.merged_into}", "into")
    return [Unmerged(into=state.merged_into, reason=cmd.reason, unit=ctx.actor_unit)]


def survivor_event(merged: PetitionState, undone: bool, unit: str) -> EventData:
    """What the survivor's stream records of a merge (``undone``: of its undoing) of ``merged`` (the merged
    matter's state before it: its batches and persons)."""
    if not undone:
        return MergeReceived(merged=merged.petition_id, merged_receipt_no=merged.receipt_no, batches=merged.batches,
                             head_count=merged.head_count, unit=unit)
    return MergeUndone(merged=merged.petition_id, batches=merged.batches, head_count=merged.head_count, unit=unit)


def _decide_action(state: PetitionState, cmd: c.Command, ctx: Context) -> list[EventData]:
    unit = ctx.actor_unit
    match cmd:
        case c.Merge():
            return _merge(state, cmd, ctx)
        case c.Unmerge():
            return _unmerge(state, cmd, ctx)
        case c.RecordVisit():
            _need_role(ctx, REGISTRAR_ROLES, "登记来访 record a visit")
            _need_head_count(cmd.head_count, ctx)
            return [VisitRecorded(batch_id=cmd.batch_id, channel=cmd.channel, head_count=cmd.head_count,
                                  petitioners=_petitioners(cmd.petitioners), unit=unit,
                                  tier=ctx.actor_tier, summary=cmd.summary, imported=cmd.imported)]
        case c.Accept():
            _need_role(ctx, HANDLER_ROLES, "受理 accept")
            _need_status(state, {"assigned"}, "受理 accept")
            _need_holder(state, ctx, "受理 accept")
            return [Accepted(unit=unit, note=cmd.note)]
        case c.Decline():
            _need_role(ctx, HANDLER_ROLES, "不予受理 decline")
            _need_status(state, {"assigned"}, "不予受理 decline")
            _need_holder(state, ctx, "不予受理 decline")
            return [Declined(unit=unit, reason=cmd.reason, redirect=cmd.redirect)]
        case c.Transfer():
            _need_role(ctx, HANDLER_ROLES, "转送 transfer")
            _need_status(state, {"assigned", "accepted"}, "转送 transfer")
            holder = _need_holder(state, ctx, "转送 transfer")
            if cmd.to_unit is not None and not ctx.knows_unit(cmd.to_unit):
                raise Refused("invalid", "to_unit", "未知的接收单位", f"unknown unit {cmd.to_unit!r}")
            if cmd.category is not None and not ctx.knows_category(cmd.category):
                raise Refused("invalid", "category", "未知的类别代码", f"unknown category {cmd.category!r}")
            return [Transferred(from_unit=holder, to_unit=cmd.to_unit,
                                category=cmd.category, reason=cmd.reason)]
        case c.Object():
            _need_role(ctx, HANDLER_ROLES, "提出派单异议 object to the assignment")
            _need_status(state, {"assigned"}, "提出派单异议 object to the assignment")
            if state.holder_at(ctx.now) != unit:
                raise Refused("forbidden", "not_holder", "只有被交办单位可以提出派单异议",
                              "only the assigned unit may object to its assignment")
            _within(ctx, state.assigned_at, "objection", "提出派单异议 object")
            return [Objected(unit=unit, reason=cmd.reason)]
        case c.Extend():
            _need_role(ctx, frozenset({"supervisor"}), "批准延期 approve an extension")
            _need_status(state, {"accepted"}, "延期 extend")
            holder = _need_holder(state, ctx, "延期 extend")
            if state.extended:
                raise Refused("state", "extended", "办理期限只能延长一次", "the limit can be extended only once")
            _need_extension_allowed(state, cmd.days, ctx)
            return [ExtensionGranted(unit=holder, days=cmd.days, reason=cmd.reason,
                                     approved_by=unit)]
        case c.Suspend():
            _need_role(ctx, HANDLER_ROLES, "中止计时 suspend the clock")
            _need_status(state, {"accepted"}, "中止计时 suspend the clock")
            _need_holder(state, ctx, "中止计时 suspend the clock")
            if state.suspended:
                raise Refused("state", "suspended", "计时已中止", "the clock is already suspended")
            return [Suspended(unit=unit, reason=cmd.reason)]
        case c.Resume():
            _need_role(ctx, HANDLER_ROLES, "恢复计时 resume the clock")
            _need_holder(state, ctx, "恢复计时 resume the clock")
            if not state.suspended:
                raise Refused("state", "not_suspended", "计时未中止", "the clock is not suspended")
            return [Resumed(unit=unit)]
        case c.Reply():
            _need_role(ctx, HANDLER_ROLES, "答复 reply")
            _need_status(state, {"accepted"}, "答复 reply")
            _need_holder(state, ctx, "答复 reply")
            if state.suspended:
                raise Refused("state", "suspended", "计时中止期间不能答复，请先恢复",
                              "resume the clock before replying")
            return [Replied(unit=unit, decision=cmd.decision, resolved=cmd.resolved, facts=cmd.facts,
                                 grounds=cmd.grounds)]
        case c.RequestReview():
            _need_role(ctx, REGISTRAR_ROLES | PETITIONER, "登记复查申请 request a review")
            _need_status(state, {"replied"}, "申请复查 request a review")
            _within(ctx, state.answer_window_start, "review_request", "申请复查 request a review")
            return [ReviewRequested(reason=cmd.reason, **_reviewer(state, ctx))]
        case c.ReplyReview():
            _need_role(ctx, HANDLER_ROLES, "出具复查意见 reply to a review")
            _need_status(state, {"review_requested"}, "出具复查意见 reply to a review")
            _need_holder(state, ctx, "出具复查意见 reply to a review")
            return [ReviewReplied(unit=unit, decision=cmd.decision, resolved=cmd.resolved, facts=cmd.facts,
                                 grounds=cmd.grounds)]
        case c.RequestRecheck():
            _need_role(ctx, REGISTRAR_ROLES | PETITIONER, "登记复核申请 request a re-review")
            _need_status(state, {"reviewed"}, "申请复核 request a re-review")
            _within(ctx, state.answer_window_start, "recheck_request", "申请复核 request a re-review")
            return [RecheckRequested(reason=cmd.reason, **_reviewer(state, ctx))]
        case c.ReplyRecheck():
            _need_role(ctx, HANDLER_ROLES, "出具复核意见 reply to a re-review")
            _need_status(state, {"recheck_requested"}, "出具复核意见 reply to a re-review")
            _need_holder(state, ctx, "出具复核意见 reply to a re-review")
            return [RecheckReplied(unit=unit, decision=cmd.decision, resolved=cmd.resolved, facts=cmd.facts,
                                 grounds=cmd.grounds),
                    Terminated(reason="复核终结：同一事项同一理由不再受理 re-reviewed: not accepted again")]
        case c.Evaluate():
            _need_role(ctx, REGISTRAR_ROLES | PETITIONER, "登记满意度评价 record an evaluation")
            if state.answered_at is None:
                raise Refused("state", "no_reply", "尚未答复，不能评价", "nothing has been replied yet")
            if state.evaluated:
                raise Refused("state", "evaluated", "该答复已评价", "this reply has already been evaluated")
            return [Evaluated(satisfaction=cmd.satisfaction, remark=cmd.remark)]
        case c.Withdraw():
            _need_role(ctx, REGISTRAR_ROLES, "登记撤回 record a withdrawal")
            _need_status(state, OPEN, "撤回 withdraw")
            return [Withdrawn(reason=cmd.reason)]
        case c.ErasePersonalData():
            if "admin" not in ctx.roles:
                raise Refused("forbidden", "role", "只有管理员可以删除个人信息", "only an admin may erase personal data")
            if cmd.petitioner_ref not in state.petitioner_refs:
                raise Refused("not_found", "petitioner", "该事项没有此信访人", "no such petitioner on this matter")
            if cmd.petitioner_ref in state.erased_refs:
                raise Refused("state", "erased", "个人信息已删除", "already erased")
            return [PersonalDataErased(petitioner_ref=cmd.petitioner_ref, requested_by=unit)]
        case c.IssueNotice():
            seq, issuer = notice_basis(state, cmd.kind, ctx)
            if cmd.basis_seq != seq:
                raise Refused("state", "notice_outdated", "告知书所依据的决定已有更新，请重新生成",
                              "the fact this notice tells has changed since it was composed: compose it again")
            return [notice_issued(cmd, issuer)]
        case c.Supervise():
            return [supervised(state, cmd, ctx)]
    raise Refused("invalid", "command", "未知的操作", f"unknown command {type(cmd).__name__}")


def numbered(produced: tuple[EventData, ...] | list[EventData], receipt_no: str) -> tuple[EventData, ...]:
    """A registration's events decided before its receipt number was drawn, with the number drawn: decide reads
    nothing of the number (it copies it into the registration), so these are the events deciding again gives."""
    return tuple(data.model_copy(update={"receipt_no": receipt_no}) if isinstance(data, Registered) else data
                 for data in produced)

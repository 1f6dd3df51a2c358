"""The state of one matter, folded from its events (``evolve``), and its statuses.

Two rules of the clocks live here (the escalation side is in ``escalation.domain.matter``):

- **Who may act is who held the matter when the act happened.**  ``holdings`` is the matter's
  holding history — each routing fact that gave it to a unit (or an own fact that sent it back for
  routing), with its occurred time — so ``holder_at(t)`` answers for an offline terminal's action
  dated ``t``.  A withdrawn escalation (``petition.routing_withdrawn.v1``) leaves the history, and
  the matter returns to the unit that held it before.
- **Dues that are met are gone.**  ``due`` lists open obligations only: an acceptance or decision
  ends the accept due, a reply the handling due, a review or re-review reply its own, a closing
  every due — at once, on intake's own fact, not when escalation's answer comes back.  While the
  clock is suspended nothing is due (the worklist says 暂停).

Each due says whether escalation counted it over a year with no holiday plan (``calendar_assumed``: Monday–Friday
assumed, :mod:`xinfang.calendar`); a deadline change with ``reason="calendar"`` replaces it once the county file
lists the year.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from xinfang.events.catalogue import (
    Accepted,
    Assigned,
    Closed,
    DeadlineChanged,
    Declined,
    Escalated,
    Evaluated,
    EventData,
    ExtensionGranted,
    Merged,
    MergeReceived,
    MergeUndone,
    NoticeIssued,
    Objected,
    PersonalDataErased,
    RecheckReplied,
    RecheckRequested,
    Registered,
    Replied,
    Resumed,
    ReviewAssigned,
    ReviewReplied,
    ReviewRequested,
    RoutingWithdrawn,
    Supervised,
    Suspended,
    Terminated,
    Transferred,
    Unmerged,
    VisitRecorded,
    Withdrawn,
)
from xinfang.events.envelope import parse_time, rfc3339
from xinfang.vocabulary import NoticeKind

#: status → Chinese label (the API shows both)
STATUSES = {
    "registered": "已登记待交办",
    "assigned": "已交办待受理",
    "accepted": "已受理办理中",
    "declined": "不予受理",
    "transferred": "已转送待交办",
    "objected": "派单异议待重新交办",
    "replied": "已答复",
    "review_requested": "复查中",
    "reviewed": "已复查",
    "recheck_requested": "复核中",
    "rechecked": "已复核",
    "terminated": "已终结",
    "withdrawn": "已撤回",
    "merged": "已并单",
}
#: statuses in which a matter can still be withdrawn (any open stage)
OPEN = {"registered", "assigned", "accepted", "transferred", "objected", "review_requested",
        "recheck_requested"}
#: facts beside the procedure: an action follows the latest step, never one of these (a review request
#: follows the answer, not its evaluation)
NOT_STEPS = (VisitRecorded, Evaluated, PersonalDataErased, NoticeIssued, Supervised, MergeReceived, MergeUndone)
#: the fact each kind of written notice tells the petitioner (书面告知)
NOTICE_OF: dict[type, NoticeKind] = {Registered: "receipt", Accepted: "acceptance", Declined: "declined",
                                     ExtensionGranted: "extension", Replied: "opinion", ReviewReplied: "review_opinion",
                                     RecheckReplied: "recheck_opinion"}
#: status → the notice that delivers the answer the petitioner may contest now: the window counts from its delivery
ANSWER_NOTICES = {"replied": "opinion", "reviewed": "review_opinion"}
#: statuses after which nothing but visits, evaluation and erasure may be recorded
FINAL_STATUSES = {"declined", "terminated", "withdrawn"}


@dataclass(frozen=True)
class PetitionState:
    """Everything decide() needs to know about one matter."""

    petition_id: str
    receipt_no: str
    status: str
    jurisdiction: str
    category: str
    registered_unit: str
    registered_at: datetime
    imported: bool = False
    external_id: str | None = None
    accused_unit: str | None = None
    holder_unit: str | None = None
    holder_tier: str | None = None
    department: str | None = None
    assigned_at: datetime | None = None
    due: tuple[tuple[str, str, bool], ...] = ()  # (stage, due_at RFC 3339, calendar_assumed), as escalation set them
    batches: int = 1
    head_count: int = 0
    extended: bool = False
    suspended: bool = False
    answered_at: datetime | None = None  # the reply the petitioner may contest
    answer_delivered_at: datetime | None = None  # its written notice first issued (送达): the review window's start
    last_fact_at: datetime | None = None  # occurred time of the latest step of the procedure (not a visit)
    answered_by: str | None = None
    resolved: bool | None = None
    evaluated: bool = False  # the latest answer has been evaluated
    petitioner_refs: tuple[str, ...] = ()
    erased_refs: tuple[str, ...] = ()
    seq: int = 0  # last sequence number of intake's chain for this matter
    route_epoch: int = 0  # seq of the last event that sent the matter back for routing
    # (routing event id or "" for an own fact, unit or None, tier or None, since: occurred RFC 3339), in order
    holdings: tuple[tuple[str, str | None, str | None, str], ...] = ()
    # (notice kind, seq, unit, occurred RFC 3339) of the latest fact each kind of notice tells
    told: tuple[tuple[str, int, str, str], ...] = ()
    # 并单: the survivor this matter was merged into; its status and dues before the merge (back on an unmerge)
    merged_into: str | None = None
    premerge_status: str | None = None
    premerge_due: tuple[tuple[str, str, bool], ...] = ()
    unmerged: bool = False  # its merge was undone once: it cannot be merged again
    merged_in: tuple[str, ...] = ()  # the matters merged into this one

    @property
    def label(self) -> str:
        return STATUSES[self.status]

    def due_at(self, stage: str) -> str | None:
        return next((at for st, at, _ in self.due if st == stage), None)

    def notice_fact(self, kind: str) -> tuple[int, str, datetime] | None:
        """(seq, deciding unit, occurred) of the fact a notice of ``kind`` tells; None if there is none yet."""
        found = next((item for item in self.told if item[0] == kind), None)
        return None if found is None else (found[1], found[2], parse_time(found[3]))

    @property
    def answer_window_start(self) -> datetime | None:
        """Whence the petitioner's time to contest the latest answer counts: the recorded delivery of its written
        notice; an answer whose notice was never recorded as issued counts from the answer itself."""
        return self.answer_delivered_at or self.answered_at

    def holder_at(self, at: datetime) -> str | None:
        """The unit that held the matter at ``at`` (occurred time); a state kept before holdings: the holder now."""
        if not self.holdings:
            return self.holder_unit
        held = [unit for _, unit, _, since in self.holdings if parse_time(since) <= at]
        return held[-1] if held else None


def _held(state: PetitionState, event_id: str, unit: str | None, tier: str | None, at: datetime) -> PetitionState:
    return replace(state, holder_unit=unit, holder_tier=tier,
                   holdings=state.holdings + ((event_id, unit, tier, rfc3339(at)),))


def _met(state: PetitionState, *stages: str) -> tuple[tuple[str, str, bool], ...]:
    """The dues still open once ``stages`` are met."""
    return tuple(item for item in state.due if item[0] not in stages)


def _refs(state: PetitionState, petitioners: list[Any]) -> tuple[str, ...]:
    return state.petitioner_refs + tuple(p.ref for p in petitioners if p.ref not in state.petitioner_refs)


def _answered(state: PetitionState, status: str, data: Any, occurred: datetime) -> PetitionState:
    return replace(state, status=status, answered_at=occurred, answered_by=data.unit, answer_delivered_at=None,
                   resolved=data.resolved, evaluated=False, suspended=False)


def evolve(state: PetitionState | None, data: EventData, occurred: datetime, seq: int,
           petition_id: str = "") -> PetitionState:
    """The state after one of intake's own events (``petition_id``: a registration's matter, which its event does
    not carry — the envelope's subject does; else the state is built without it)."""
    after = _folded(state, data, occurred, seq, petition_id)
    kind = NOTICE_OF.get(type(data))
    if kind is None or isinstance(data, Registered):  # a registration's state is built with its receipt told
        return after
    told = tuple(item for item in after.told if item[0] != kind)
    return replace(after, told=told + ((kind, seq, data.unit, rfc3339(occurred)),))  # type: ignore[attr-defined]


def _delivered(state: PetitionState, data: NoticeIssued, occurred: datetime) -> PetitionState:
    """The first delivery of the latest answer's written notice starts the petitioner's window to contest it."""
    answer = state.notice_fact(data.kind) if ANSWER_NOTICES.get(state.status) == data.kind else None
    if answer is None or answer[0] != data.basis_seq or state.answer_delivered_at is not None:
        return state
    return replace(state, answer_delivered_at=occurred)


def _folded(state: PetitionState | None, data: EventData, occurred: datetime, seq: int,
            petition_id: str = "") -> PetitionState:
    if isinstance(data, Registered):
        # built once, not replaced: the refs as _refs gives them on a matter without any, the receipt told (as
        # evolve tells a notice's fact) and, for imported history, held by the unit that handled it then
        held = {"status": "assigned", "holder_unit": data.unit, "holder_tier": data.tier, "assigned_at": occurred} \
            if data.imported else {"status": "registered"}
        return PetitionState(
            petition_id=petition_id, receipt_no=data.receipt_no,
            jurisdiction=data.jurisdiction, category=data.category, registered_unit=data.unit,
            registered_at=occurred, last_fact_at=occurred, imported=data.imported, external_id=data.external_id,
            accused_unit=data.accused_unit,
            head_count=data.head_count, seq=seq, petitioner_refs=tuple(p.ref for p in data.petitioners),
            told=((NOTICE_OF[Registered], seq, data.unit, rfc3339(occurred)),), **held,
        )
    assert state is not None, "事项尚未登记 the matter has not been registered"
    step = not isinstance(data, NOT_STEPS) and (state.last_fact_at is None or occurred > state.last_fact_at)
    state = replace(state, seq=seq, last_fact_at=occurred) if step else replace(state, seq=seq)
    if isinstance(data, VisitRecorded):
        return replace(state, batches=state.batches + 1, head_count=state.head_count + data.head_count,
                       petitioner_refs=_refs(state, data.petitioners))
    if isinstance(data, Accepted):
        return replace(state, status="accepted", due=_met(state, "accept"))
    if isinstance(data, Declined):
        return replace(state, status="declined", due=())
    if isinstance(data, Transferred):
        return replace(_held(state, "", None, None, occurred), status="transferred",
                       category=data.category or state.category, department=None, due=(), route_epoch=seq)
    if isinstance(data, Objected):
        return replace(_held(state, "", None, None, occurred), status="objected", due=(), route_epoch=seq)
    if isinstance(data, ExtensionGranted):
        return replace(state, extended=True)
    if isinstance(data, Suspended):
        return replace(state, suspended=True)
    if isinstance(data, Resumed):
        return replace(state, suspended=False)
    if isinstance(data, Replied):
        return replace(_answered(state, "replied", data, occurred), due=_met(state, "handle"))
    if isinstance(data, ReviewRequested):  # imported history names its reviewer; live, escalation assigns one
        return replace(_held(state, "", data.unit, data.tier, occurred), status="review_requested", due=(),
                       route_epoch=seq)
    if isinstance(data, ReviewReplied):
        return replace(_answered(state, "reviewed", data, occurred), due=_met(state, "review"))
    if isinstance(data, RecheckRequested):
        return replace(_held(state, "", data.unit, data.tier, occurred), status="recheck_requested", due=(),
                       route_epoch=seq)
    if isinstance(data, RecheckReplied):
        return replace(_answered(state, "rechecked", data, occurred), due=_met(state, "recheck"))
    if isinstance(data, Evaluated):
        return replace(state, evaluated=True)
    if isinstance(data, Withdrawn):
        return replace(state, status="withdrawn", suspended=False, due=())
    if isinstance(data, Terminated):
        return replace(state, status="terminated", suspended=False, due=())
    if isinstance(data, PersonalDataErased):
        return replace(state, erased_refs=state.erased_refs + (data.petitioner_ref,))
    if isinstance(data, NoticeIssued):
        return _delivered(state, data, occurred)
    if isinstance(data, Supervised):
        return state  # 督办 changes no due: the holder still owes what it owed
    if isinstance(data, Merged | Unmerged | MergeReceived | MergeUndone):
        return _merging(state, data)
    raise TypeError(f"intake 不处理此事件 not an intake event: {type(data).__name__}")


def _merging(state: PetitionState, data: EventData) -> PetitionState:
    """并单 and its undoing: the merged matter's dues close (kept for an unmerge); the survivor counts its batches."""
    if isinstance(data, Merged):
        return replace(state, status="merged", due=(), suspended=False, merged_into=data.into,
                       premerge_status=state.status, premerge_due=state.due)
    if isinstance(data, Unmerged):
        return replace(state, status=state.premerge_status or "registered", due=state.premerge_due, merged_into=None,
                       premerge_status=None, premerge_due=(), unmerged=True)
    if isinstance(data, MergeReceived):
        return replace(state, merged_in=(*state.merged_in, data.merged), batches=state.batches + data.batches,
                       head_count=state.head_count + data.head_count)
    assert isinstance(data, MergeUndone)
    return replace(state, merged_in=tuple(p for p in state.merged_in if p != data.merged),
                   batches=state.batches - data.batches, head_count=state.head_count - data.head_count)


def apply_routing(state: PetitionState, data: EventData, occurred: datetime, event_id: str = "") -> PetitionState:
    """The state after one of escalation's routing facts: who holds the matter, and when it is due."""
    if state.merged_into is not None:  # decided before the merge, learned after: it changes what an unmerge restores
        inner = apply_routing(replace(state, status=state.premerge_status or "registered", due=state.premerge_due,
                                      merged_into=None), data, occurred, event_id)
        return replace(inner, status="merged", due=(), merged_into=state.merged_into,
                       premerge_status=inner.status, premerge_due=inner.due)
    due = lambda items: tuple((d.stage, d.due_at, d.calendar_assumed) for d in items)  # noqa: E731
    if getattr(data, "basis_seq", state.route_epoch) < state.route_epoch:
        return state  # decided before the matter was sent back for routing: stale
    if isinstance(data, Assigned):
        status = "assigned" if state.status in {"registered", "transferred", "objected"} else state.status
        return replace(_held(state, event_id, data.unit, data.tier, occurred), status=status,
                       department=data.department, assigned_at=occurred, due=due(data.due))
    if isinstance(data, Escalated):
        return replace(_held(state, event_id, data.to_unit, data.to_tier, occurred), assigned_at=occurred,
                       due=due(data.due) or state.due)
    if isinstance(data, ReviewAssigned):
        return replace(_held(state, event_id, data.unit, data.tier, occurred), assigned_at=occurred,
                       due=due(data.due))
    if isinstance(data, DeadlineChanged):
        others = _met(state, data.stage, *(("accept",) if data.reason == "accepted" else ()))
        changed = ((data.stage, data.due_at, data.calendar_assumed),) if data.due_at else ()
        return replace(state, due=others + changed)
    if isinstance(data, RoutingWithdrawn):
        return _withdrawn(state, data)
    if isinstance(data, Closed):
        return replace(state, due=())
    return state  # warnings and overdue notices change nothing intake decides on


def _withdrawn(state: PetitionState, data: RoutingWithdrawn) -> PetitionState:
    """An escalation withdrawn: out of the holding history, the matter back with the unit that held it before."""
    kept = tuple(h for h in state.holdings if h[0] != data.withdrawn_id)
    if kept == state.holdings or not kept:
        return state  # a warning or an overdue notice: nothing intake holds changes
    _, unit, tier, since = kept[-1]
    return replace(state, holdings=kept, holder_unit=unit, holder_tier=tier, assigned_at=parse_time(since))

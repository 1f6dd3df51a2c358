"""One matter's routing and timer state: decide on intake's facts and on the passage of time, evolve.

- ``handle(county, matter, intake, now)``: an intake event arrives.  Breaches that fell before
  it happened are placed first (a late event is placed by its occurred time), then its routing
  facts; what falls due after it is left to the timer.
- ``advance(county, matter, now)``: the timer — every breach due by ``now``, in time order.
- ``evolve(county, matter, fact)``: the state after one of escalation's own facts.

A fact's id is derived from what makes it unique (the stage, the unit and the due time for a
breach), its times from the breach or the intake event, never from the wall clock: the same
state and input always yield the same bytes.  Imported matters are assigned, never timed.

**Facts by occurred time: an offline terminal's facts win.**  The routing of a matter is a
function of intake's facts placed at the time they happened, not of when the worker learned them.
An acceptance made at 10:00 inside the limit on a terminal that synced at 10:20, after the
deadline, finds a warning, an overdue notice and an escalation the timer emitted meanwhile for
lack of it.  So the state keeps, beside the clock, what the timer has *sent* since the last
intake fact that changed the routing (``Matter.sent``): each breach's id parts, type, time and
the timed part of the state just before it (``Timed``: holder, clock, review window, closure).
When an intake fact arrives that happened before some of those breaches and changes the routing
or the clock (an acceptance, a reply, a suspension, a transfer, a review request …):

1. the state is rewound to just before the first breach that came after the fact;
2. the fact is decided and applied there, at its occurred time; the timer then runs to ``now``;
3. every sent breach the new course does not produce again is withdrawn, newest first, by a
   ``petition.routing_withdrawn.v1`` (id derived from the withdrawn event's parts and the cause),
   naming the withdrawn event, the fact that made it wrong, and who holds the matter once it is
   undone — the unit that met the deadline; breaches the new course produces again stand as sent.

**The review window counts from the delivery.**  The petitioner may ask for a review (re-review) within the
limit "of receiving" the written reply (review) — DOMAIN.md counts it from the receipt, as a legal limit, not
a county option: the county file sets the window's length, never its start.  The receipt is intake's
``petition.notice_issued`` for that answer (the first one of its kind whose ``basis_seq`` is the answer's seq:
the same test as intake's ``answer_delivered_at``).  Until one is recorded the window counts from the answer
itself, as intake does (an answer whose written notice is never recorded as issued — a matter answered before
notices existed, a unit that does not record them — must still close).  A delivery recorded later moves the
window: one that happened before a closure already sent withdraws it (facts by occurred time, below); one that
happened after it opens the window again from the delivery, because intake then accepts a request until then.

A fact that changes nothing timed (a later visit, an evaluation) rewinds nothing.  Rewinding
never goes past the last routing-changing intake fact (``sent`` starts afresh there; intake
refuses an action dated before the fact it follows), nor further back than the county's
``offline_window`` or the last ``MAX_SENT`` breaches: older back-dating is history, for imports.
The same facts give the same standing events whatever the arrival timing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from escalation.domain import clock as clocks
from escalation.domain import placement
from escalation.domain.clock import Clock
from escalation.domain.times import text as rfc3339
from xinfang.county import County
from xinfang.events.catalogue import (
    Accepted,
    Assigned,
    Closed,
    DeadlineChanged,
    DeadlineWarning,
    Declined,
    Due,
    Escalated,
    EventData,
    ExtensionGranted,
    Merged,
    NoticeIssued,
    Objected,
    Overdue,
    RecheckReplied,
    RecheckRequested,
    Registered,
    Replied,
    Resumed,
    ReviewAssigned,
    ReviewReplied,
    ReviewRequested,
    RoutingWithdrawn,
    Suspended,
    Terminated,
    Transferred,
    Unmerged,
    VisitRecorded,
    Withdrawn,
    event_type_of,
)
from xinfang.events.chain import ChainLink
from xinfang.events.ids import derived_event_id

#: closing reasons after which a later decline, withdrawal or termination closes nothing again
FINAL_CLOSE_REASONS = frozenset({"withdrawn", "terminated", "declined", "redirected"})
#: breaches kept for a late fact to withdraw; at the top tier a matter is reported again once per limit,
#: which in a test county of seconds would otherwise grow the state without bound
MAX_SENT = 16
#: the window an answer opens → the notice that delivers that answer (its issue starts the window)
ANSWER_NOTICES = {"review_request_window": "opinion", "recheck_request_window": "review_opinion"}


@dataclass(frozen=True)
class Intake:
    """One of intake's events as escalation reads it."""

    seq: int
    occurred: datetime
    recorded: datetime
    data: EventData


@dataclass(frozen=True)
class Fact:
    """A routing fact to publish: its data, when it happened and was recorded, and its id's parts."""

    data: EventData
    occurred: datetime
    recorded: datetime
    key: tuple[str, ...]
    clock: Clock | None = None  # the clock this fact starts or changes (kept in the state, not published)

    @property
    def timed(self) -> bool:
        """True for what the passage of time emits (warning, overdue, escalation, window closed)."""
        return self.key[0] in ("warning", "overdue", "escalated") or self.key[:2] == ("closed", "review_window_passed")


@dataclass(frozen=True)
class Window:
    """The petitioner's time to ask for a review (or re-review) of an answer."""

    kind: str  # review_request_window | recheck_request_window
    ends_at: datetime


@dataclass(frozen=True)
class Timed:
    """The part of a matter's state the timer changes: who holds it, its clock, window and closure."""

    unit: str | None = None
    tier: str | None = None
    department: str | None = None
    clock: Clock | None = None
    window: Window | None = None
    closed: str | None = None


@dataclass(frozen=True)
class Sent:
    """A breach the timer emitted: its id's parts, type and time, and the timed state just before it."""

    key: tuple[str, ...]
    type: str
    occurred: datetime
    before: Timed


@dataclass(frozen=True)
class Matter:
    """Everything escalation keeps about one matter."""

    petition_id: str
    jurisdiction: str = ""
    category: str = ""
    head_count: int = 0
    imported: bool = False
    intake_seq: int = 0  # last intake event applied: redeliveries are recognised by it
    known_at: datetime | None = None  # when the system recorded the last intake event
    head: ChainLink = field(default_factory=ChainLink)  # this matter's chain on petition.routing
    basis_seq: int = 0  # seq of the intake event the current routing reacts to
    unit: str | None = None
    tier: str | None = None
    department: str | None = None
    redirect: str | None = None
    clock: Clock | None = None
    answered_by: str | None = None
    window: Window | None = None
    objectors: tuple[str, ...] = ()
    closed: str | None = None
    sent: tuple[Sent, ...] = ()  # breaches since the last routing-changing intake fact, oldest first
    parked: Timed | None = None  # 并单: the timed part as it stood when the matter was merged (back on an unmerge)
    undelivered: tuple[int, str] | None = None  # (seq, window kind) of the answer whose delivery is awaited

    @property
    def registered(self) -> bool:
        return self.intake_seq > 0

    @property
    def timed(self) -> Timed:
        return Timed(self.unit, self.tier, self.department, self.clock, self.window, self.closed)

    def rewound(self, to: Timed) -> Matter:
        """The matter with its timed part as it was (the rest — what intake told — stays)."""
        return replace(self, unit=to.unit, tier=to.tier, department=to.department, clock=to.clock,
                       window=to.window, closed=to.closed)


# ---- the passage of time ------------------------------------------------------------


def next_breach(county: County, m: Matter) -> datetime | None:
    """When something is next due on this matter; None if nothing runs."""
    if m.imported:
        return None
    if m.window is not None:
        return m.window.ends_at
    c = m.clock
    if c is None or not c.running:
        return None
    if c.overdue_at is None and clocks.listed_since(county, c):
        return m.known_at or c.started_at  # counted over a year the county file lists now: at once (known_at is past)
    if c.overdue_at is None:
        return c.due_at if c.warned else min(c.warn_at, c.due_at)
    if placement.unit_above(county, c.unit) is not None:
        return county.grace_end(c.due_at)
    return clocks.next_report(county, c)


def advance(county: County, m: Matter, now: datetime) -> tuple[Matter, list[Fact]]:
    """Every breach due by ``now``, in time order, each evolved into the state."""
    m, facts = _recounted(county, m, now)
    while (when := next_breach(county, m)) is not None and when <= now:
        fact = _breach(county, m, now)
        if fact is None:  # a warning that came too late to help: passed over in silence
            m = replace(m, clock=replace(m.clock, warned=True))
            continue
        sent = Sent(fact.key, event_type_of(fact.data), fact.occurred, m.timed)
        m = evolve(county, m, fact)
        m = replace(m, sent=(*m.sent, sent))
        facts.append(fact)
    horizon = now - county.offline_window  # a live terminal cannot date a fact before this
    if m.sent and (m.sent[0].occurred < horizon or len(m.sent) > MAX_SENT):
        m = replace(m, sent=tuple(s for s in m.sent if s.occurred >= horizon)[-MAX_SENT:])
    return m, facts


def _recounted(county: County, m: Matter, now: datetime) -> tuple[Matter, list[Fact]]:
    """An open due counted over a year the county file has listed since: counted again, the change told (also when
    the due stands but is no longer assumed: intake and the worklist drop the flag)."""
    c = m.clock
    if c is None or not c.running or c.overdue_at is not None or not clocks.listed_since(county, c):
        return m, []
    again = clocks.recounted(county, c)
    if again.due_at == c.due_at:  # the due stands, and so does its warning; told only if no longer assumed
        again = replace(c, assumed=again.assumed)
        if bool(again.assumed) == bool(c.assumed):
            return replace(m, clock=again), []
    data = DeadlineChanged(unit=c.unit, stage=c.stage, due_at=rfc3339(again.due_at), previous_due_at=rfc3339(c.due_at),
                           reason="calendar", calendar_assumed=bool(again.assumed))
    fact = Fact(data, now, _recorded(m, now), ("deadline_changed", "calendar", c.stage, c.unit, rfc3339(c.due_at)), again)
    return evolve(county, m, fact), [fact]


def _recorded(m: Matter, at: datetime) -> datetime:
    """A breach is recorded when it falls, but never before the system knew of what it breaches."""
    return at if m.known_at is None or at >= m.known_at else m.known_at


def _breach(county: County, m: Matter, now: datetime) -> Fact | None:
    if m.window is not None:
        at = m.window.ends_at
        return Fact(Closed(reason="review_window_passed"), at, _recorded(m, at),
                    ("closed", "review_window_passed", rfc3339(at)))
    c = m.clock
    assert c is not None
    due = rfc3339(c.due_at)
    if c.overdue_at is None and not c.warned and c.warn_at < c.due_at:
        if now >= c.due_at:
            return None
        return Fact(DeadlineWarning(unit=c.unit, tier=c.tier, stage=c.stage, due_at=due), c.warn_at,
                    _recorded(m, c.warn_at), ("warning", c.stage, c.unit, due))
    if c.overdue_at is None:
        return Fact(Overdue(unit=c.unit, tier=c.tier, stage=c.stage, due_at=due), c.due_at,
                    _recorded(m, c.due_at), ("overdue", c.stage, c.unit, due))
    above = placement.unit_above(county, c.unit)
    if above is None:
        return _report_again(county, m, c, now)
    at = county.grace_end(c.due_at)
    fresh = clocks.start(county, above.id, above.tier, c.stage, at)
    reason = (f"{c.stage} 期限 {due} 已过且宽限期满，升级至上一级 "
              f"the {c.stage} limit passed at {due} and the grace ended")
    data = Escalated(from_unit=c.unit, from_tier=c.tier, to_unit=above.id, to_tier=above.tier, stage=c.stage,
                     reason=reason, due=[_due(fresh)], basis_seq=m.basis_seq)
    return Fact(data, at, _recorded(m, at), ("escalated", c.stage, c.unit, due), fresh)


def _report_again(county: County, m: Matter, c: Clock, now: datetime) -> Fact:
    """督办 again at the top tier: one report for the latest period that has ended (missed ones are not replayed)."""
    at = clocks.latest_report(county, c, now)
    assert at is not None
    due = rfc3339(c.due_at)
    return Fact(Overdue(unit=c.unit, tier=c.tier, stage=c.stage, due_at=due), at, _recorded(m, at),
                ("overdue", c.stage, c.unit, due, rfc3339(at)))


def _due(c: Clock) -> Due:
    return Due(stage=c.stage, due_at=rfc3339(c.due_at), warn_at=rfc3339(c.warn_at), calendar_assumed=bool(c.assumed))


# ---- intake's facts ------------------------------------------------------------------


def handle(county: County, m: Matter, intake: Intake, now: datetime) -> tuple[Matter, list[Fact]]:
    """The state and routing facts after one intake event (a redelivered one changes nothing)."""
    if intake.seq <= m.intake_seq:
        return m, []
    m, before = advance(county, m, min(intake.occurred, now)) if m.registered else (m, [])
    late = tuple(s for s in m.sent if s.occurred > intake.occurred)
    if late:
        rewound = m.rewound(late[0].before)
        facts = decide(county, rewound, intake)
        if facts or observe(county, rewound, intake).timed != rewound.timed:
            return _rewritten(county, rewound, intake, facts, late, now, before)
    facts = decide(county, m, intake)
    m = _applied(county, m, intake, facts)
    # What falls due after the event is the timer's: events already on their way (an offline
    # terminal's batch, a relay catching up) are placed before the timer looks.
    return m, [*before, *facts]


def _applied(county: County, m: Matter, intake: Intake, facts: list[Fact]) -> Matter:
    """The matter after an intake event and the routing facts it called for; a routing change starts ``sent`` afresh."""
    changed = observe(county, m, intake)
    for fact in facts:
        changed = evolve(county, changed, fact)
    return replace(changed, sent=()) if facts or changed.timed != m.timed else changed


def _rewritten(county: County, rewound: Matter, intake: Intake, facts: list[Fact], late: tuple[Sent, ...],
               now: datetime, before: list[Fact]) -> tuple[Matter, list[Fact]]:
    """A fact that happened before breaches already sent, and changes the course: the new course to ``now``,
    and the withdrawal of every sent breach it does not produce again (see the module's docstring)."""
    m, after = advance(county, _applied(county, rewound, intake, facts), now)
    again = {f.key for f in after}
    sent = {s.key for s in late}
    withdrawals = [_withdrawal(m.petition_id, s, intake) for s in reversed(late) if s.key not in again]
    return m, [*before, *withdrawals, *facts, *(f for f in after if f.key not in sent)]


def _withdrawal(pid: str, s: Sent, e: Intake) -> Fact:
    cause = event_type_of(e.data)
    what = s.type.removeprefix("petition.").rsplit(".", 1)[0]
    at = rfc3339(e.occurred)
    reason = (f"{cause} 发生于 {at}，早于此{what}（{rfc3339(s.occurred)}），系误发，予以撤销 "
              f"the {cause} at {at} came before this {what} at {rfc3339(s.occurred)}: issued in error, withdrawn")
    data = RoutingWithdrawn(withdrawn_id=derived_event_id(pid, *s.key), withdrawn_type=s.type, unit=s.before.unit,
                            tier=s.before.tier, cause=cause, cause_seq=e.seq, cause_occurred_at=at,
                            reason=reason[:4000])
    return Fact(data, e.occurred, e.recorded, ("withdrawn", str(e.seq), *s.key))


def decide(county: County, m: Matter, e: Intake) -> list[Fact]:
    """The routing facts one intake event calls for, given the matter before it."""
    data, at = e.data, e.occurred

    def fact(payload: EventData, *key: str, clock: Clock | None = None) -> Fact:
        return Fact(payload, at, e.recorded, key, clock)

    match data:
        case Registered(imported=True):
            return [fact(Assigned(unit=data.unit, tier=data.tier, jurisdiction=data.jurisdiction,
                                  rule=placement.IMPORT_RULE, stage="accept", cause="import", basis_seq=e.seq),
                         "assigned", str(e.seq))]
        case Registered():
            place = placement.placed(county, data.jurisdiction, data.category, data.head_count)
            return [_assigned(county, m, place, data.jurisdiction, "registered", e, imported=False)]
        case Transferred():
            place = placement.transferred(county, m.jurisdiction, data.category or m.category, m.head_count,
                                          data.to_unit)
            return [_assigned(county, m, place, m.jurisdiction, "transferred", e, m.imported)]
        case VisitRecorded() if not m.imported and m.clock is not None and m.clock.running and \
                m.clock.stage in ("accept", "handle"):
            place = placement.became_collective(county, m.jurisdiction, m.category, m.head_count,
                                                m.head_count + data.head_count, m.tier)
            return [] if place is None else [
                _assigned(county, m, place, m.jurisdiction, "collective", e, False, m.clock.stage)]
        case Objected():
            place = placement.after_objection(county, m.jurisdiction, m.category, m.head_count,
                                              (*m.objectors, data.unit))
            return [_assigned(county, m, place, m.jurisdiction, "objection", e, m.imported)]
        case Accepted() if m.clock is not None and m.clock.stage == "accept":
            handling = clocks.start(county, m.clock.unit, m.clock.tier, "handle", at)
            return [fact(DeadlineChanged(unit=handling.unit, stage="handle", due_at=rfc3339(handling.due_at),
                                         previous_due_at=rfc3339(m.clock.due_at), reason="accepted",
                                         calendar_assumed=bool(handling.assumed)),
                         "deadline_changed", "accepted", str(e.seq), clock=handling)]
        case ExtensionGranted() if m.clock is not None and m.clock.stage == "handle":
            longer = clocks.extended(county, m.clock, data.days)
            return [fact(DeadlineChanged(unit=longer.unit, stage="handle",
                                         due_at=rfc3339(longer.due_at) if longer.running else None,
                                         previous_due_at=rfc3339(m.clock.due_at), reason="extension",
                                         calendar_assumed=longer.running and bool(longer.assumed)),
                         "deadline_changed", "extension", str(e.seq), clock=longer)]
        case Suspended() if m.clock is not None and m.clock.running:
            return [fact(DeadlineChanged(unit=m.clock.unit, stage=m.clock.stage, due_at=None,
                                         previous_due_at=rfc3339(m.clock.due_at), reason="suspended"),
                         "deadline_changed", "suspended", str(e.seq), clock=clocks.suspended(m.clock, at))]
        case Resumed() if m.clock is not None and not m.clock.running:
            again = clocks.resumed(county, m.clock, at)
            return [fact(DeadlineChanged(unit=again.unit, stage=again.stage, due_at=rfc3339(again.due_at),
                                         previous_due_at=rfc3339(m.clock.due_at), reason="resumed",
                                         calendar_assumed=bool(again.assumed)),
                         "deadline_changed", "resumed", str(e.seq), clock=again)]
        case ReviewRequested() | RecheckRequested():
            kind = "review" if isinstance(data, ReviewRequested) else "recheck"
            place = placement.for_review(county, m.answered_by, m.unit, kind)
            timed = None if m.imported else clocks.start(county, place.unit, place.tier, kind, at)
            return [fact(ReviewAssigned(kind=kind, unit=place.unit, tier=place.tier,
                                        due=[_due(timed)] if timed else [], basis_seq=e.seq),
                         "review_assigned", kind, str(e.seq), clock=timed)]
        case Declined() if m.closed not in FINAL_CLOSE_REASONS:
            reason = "redirected" if data.redirect or m.redirect else "declined"
            return [fact(Closed(reason=reason), "closed", reason, str(e.seq))]
        case Withdrawn() | Terminated() if m.closed not in FINAL_CLOSE_REASONS:
            reason = "withdrawn" if isinstance(data, Withdrawn) else "terminated"
            return [fact(Closed(reason=reason), "closed", reason, str(e.seq))]
    return []


def _assigned(county: County, m: Matter, place: placement.Placement, jurisdiction: str, cause: str,
              e: Intake, imported: bool, stage: str = "accept") -> Fact:
    timed = None if imported else clocks.start(county, place.unit, place.tier, stage, e.occurred)
    data = Assigned(unit=place.unit, tier=place.tier, department=place.department, jurisdiction=jurisdiction,
                    rule=place.rule, stage=stage, due=[_due(timed)] if timed else [], redirect=place.redirect,
                    cause=cause, basis_seq=e.seq)
    return Fact(data, e.occurred, e.recorded, ("assigned", str(e.seq)), timed)


def observe(county: County, m: Matter, e: Intake) -> Matter:
    """What an intake event changes in the state besides the routing facts it calls for."""
    known = e.recorded if m.known_at is None or e.recorded > m.known_at else m.known_at
    m = replace(m, intake_seq=e.seq, known_at=known)
    data = e.data
    match data:
        case Registered():
            return replace(m, jurisdiction=data.jurisdiction, category=data.category, head_count=data.head_count,
                           imported=data.imported)
        case VisitRecorded():
            return replace(m, head_count=m.head_count + data.head_count)
        case Transferred():
            return replace(m, category=data.category or m.category)
        case Objected():
            return replace(m, objectors=(*m.objectors, data.unit))
        case Replied() | ReviewReplied():
            kind = "review_request_window" if isinstance(data, Replied) else "recheck_request_window"
            tier = placement.tier_of(county, data.unit, m.tier or "county")
            window = None if m.imported else Window(kind, county.due(e.occurred, tier, kind))  # until delivered
            return replace(m, clock=None, answered_by=data.unit, window=window, undelivered=(e.seq, kind))
        case NoticeIssued() if m.undelivered is not None and data.basis_seq == m.undelivered[0] and \
                data.kind == ANSWER_NOTICES[m.undelivered[1]]:
            return _delivered(county, m, e)
        case RecheckReplied():
            return replace(m, clock=None, answered_by=data.unit, window=None, undelivered=None)
        case ReviewRequested() | RecheckRequested() | Declined() | Withdrawn() | Terminated():
            return replace(m, window=None, undelivered=None)
        case Merged():  # its clocks stop: nothing runs, so nothing is warned, overdue or escalated
            return replace(m, parked=m.timed, clock=None, window=None)
        case Unmerged() if m.parked is not None:  # its clocks as they stood (a limit passed meanwhile: breached now)
            return replace(m.rewound(m.parked), parked=None)
    return m


def _delivered(county: County, m: Matter, e: Intake) -> Matter:
    """The answer's written notice delivered (first issue only): its window counts from now (see the module)."""
    _, kind = m.undelivered  # type: ignore[misc]
    m = replace(m, undelivered=None)
    if m.imported or (m.window is None and m.closed != "review_window_passed"):
        return m  # imported history is never timed; a request, withdrawal … since: nothing is awaited
    tier = placement.tier_of(county, m.answered_by, m.tier or "county")
    return replace(m, window=Window(kind, county.due(e.occurred, tier, kind)), closed=None)


# ---- escalation's own facts ---------------------------------------------------------


def evolve(county: County, m: Matter, fact: Fact) -> Matter:
    """The state after one routing fact."""
    data, at = fact.data, fact.occurred
    match data:
        case Assigned():
            return replace(m, basis_seq=data.basis_seq, unit=data.unit, tier=data.tier, department=data.department,
                           redirect=data.redirect, window=None, closed=None, clock=fact.clock)
        case ReviewAssigned():
            return replace(m, basis_seq=data.basis_seq, unit=data.unit, tier=data.tier, department=None,
                           window=None, closed=None, clock=fact.clock)
        case DeadlineWarning():
            return replace(m, clock=replace(m.clock, warned=True))
        case Overdue():
            return replace(m, clock=replace(m.clock, overdue_at=at))
        case Escalated():
            return replace(m, unit=data.to_unit, tier=data.to_tier, department=None, clock=fact.clock)
        case DeadlineChanged():
            return replace(m, clock=fact.clock)
        case Closed():
            return replace(m, clock=None, window=None, closed=data.reason)
    return m

"""The matter's lifecycle: decide/evolve as pure functions, and a stateful property test."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from intake.domain import commands as c
from intake.domain.decide import Context, decide
from intake.domain.errors import Refused
from intake.domain.model import FINAL_STATUSES, STATUSES, PetitionState, apply_routing, evolve
from xinfang.events.catalogue import Assigned, Due, Evaluated, ExtensionGranted, Registered, ReviewAssigned, Terminated

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
UNITS = {"room-1": ("village", "county-bureau"), "room-2": ("village", "county-bureau"),
         "station-1": ("township", "county-bureau"), "county-bureau": ("county", None)}
SUPERVISES = {("station-1", "room-1"), ("county-bureau", "room-1"), ("county-bureau", "room-2"),
              ("county-bureau", "station-1")}


def ctx(unit="room-1", roles=("registrar", "handler", "supervisor"), now=T0) -> Context:
    return Context(
        now=now, actor_unit=unit, actor_tier=UNITS[unit][0], roles=frozenset(roles),
        acts_for=lambda holder: holder == unit or (unit, holder) in SUPERVISES,
        in_scope=lambda code: code.startswith("11"), knows_category=lambda code: code in {"labour", "land"},
        knows_unit=lambda u: u in UNITS, window_end=lambda start, window: start + timedelta(days=30),
    )


def register(**kw) -> c.RegisterPetition:
    args = dict(petition_id="m1", receipt_no="2026-0001", batch_id="b1", channel="visit",
                jurisdiction="110105001001", category="labour", summary="欠薪", head_count=3)
    args.update(kw)
    return c.RegisterPetition(**args)


def run(state, command, context):
    for data in decide(state, command, context):
        state = evolve(state, data, context.now, (state.seq if state else 0) + 1)
    return state


def assigned(state, unit="room-1", when=T0):
    data = Assigned(unit=unit, tier=UNITS[unit][0], jurisdiction="110105001001", rule="default", basis_seq=state.seq,
                    stage="accept", due=[Due(stage="accept", due_at="2026-03-03T15:59:59.999999Z",
                                             warn_at="2026-03-03T10:00:00.000000Z")])
    return apply_routing(state, data, when)


def test_happy_path_to_termination():
    s = run(None, register(), ctx())
    assert s.status == "registered" and s.seq == 1
    s = assigned(s)
    s = run(s, c.Accept(), ctx())
    s = run(s, c.Reply(decision="support", resolved=False, facts="已查明", grounds="已协调"), ctx())
    later = T0 + timedelta(days=3)
    s = run(s, c.RequestReview(reason="不服"), ctx(now=later))
    s = apply_routing(s, ReviewAssigned(kind="review", unit="station-1", tier="township", basis_seq=s.seq), later)
    s = run(s, c.ReplyReview(decision="explain", resolved=False, facts="已查明", grounds="维持"), ctx("station-1", now=later))
    s = run(s, c.RequestRecheck(reason="仍不服"), ctx(now=later))
    s = apply_routing(s, ReviewAssigned(kind="recheck", unit="county-bureau", tier="county", basis_seq=s.seq), later)
    s = run(s, c.ReplyRecheck(decision="reject", resolved=False, facts="已查明", grounds="终结"), ctx("county-bureau", now=later))
    assert s.status == "terminated" and s.seq == 8
    with pytest.raises(Refused, match="已终结"):
        run(s, c.RequestReview(reason="再申请"), ctx())


@pytest.mark.parametrize("command, kind, code", [
    (c.Accept(), "state", "status"),
    (c.Reply(decision="support", resolved=True, facts="已查明", grounds="x"), "state", "status"),
    (c.Extend(days=10, reason="x"), "state", "status"),
])
def test_refusals_before_assignment_say_why(command, kind, code):
    s = run(None, register(), ctx())
    with pytest.raises(Refused) as refused:
        run(s, command, ctx())
    assert (refused.value.kind, refused.value.code) == (kind, code)
    assert refused.value.zh and refused.value.en


def test_another_village_cannot_act_but_the_township_above_can():
    s = assigned(run(None, register(), ctx()))
    with pytest.raises(Refused) as refused:
        run(s, c.Accept(), ctx("room-2"))
    assert refused.value.kind == "forbidden"
    assert run(s, c.Accept(), ctx("station-1")).status == "accepted"


def test_extension_only_once_by_a_supervisor_at_most_30_days():
    s = run(assigned(run(None, register(), ctx())), c.Accept(), ctx())
    with pytest.raises(Refused, match="roles"):
        run(s, c.Extend(days=10, reason="x"), ctx(roles=("handler",)))
    with pytest.raises(Refused, match="1 to 30"):
        run(s, c.Extend(days=31, reason="x"), ctx())  # the legal limit, where the tier sets none
    s = run(s, c.Extend(days=30, reason="听证"), ctx())
    with pytest.raises(Refused, match="only once"):
        run(s, c.Extend(days=1, reason="x"), ctx())


def test_review_only_within_30_days_of_the_reply():
    s = run(assigned(run(None, register(), ctx())), c.Accept(), ctx())
    s = run(s, c.Reply(decision="support", resolved=True, facts="已查明", grounds="x"), ctx())
    with pytest.raises(Refused, match="time allowed"):
        run(s, c.RequestReview(reason="late"), ctx(now=T0 + timedelta(days=31)))


def test_objection_only_by_the_assigned_unit_within_its_window():
    s = assigned(run(None, register(), ctx()))
    with pytest.raises(Refused, match="time allowed"):
        run(s, c.Object(reason="非本单位职责"), ctx(now=T0 + timedelta(days=40)))
    s = run(s, c.Object(reason="非本单位职责"), ctx())
    assert s.status == "objected" and s.holder_unit is None


def test_unknown_category_and_foreign_jurisdiction_are_refused():
    with pytest.raises(Refused, match="category"):
        run(None, register(category="nope"), ctx())
    with pytest.raises(Refused) as refused:
        run(None, register(jurisdiction="120000"), ctx())
    assert refused.value.kind == "forbidden"


def test_routing_decided_before_a_transfer_is_ignored_as_stale():
    s = run(assigned(run(None, register(), ctx())), c.Accept(), ctx())
    stale = Assigned(unit="room-2", tier="village", jurisdiction="110105001001", rule="r", stage="accept",
                     basis_seq=s.seq)
    s = run(s, c.Transfer(reason="转办"), ctx())
    assert apply_routing(s, stale, T0).holder_unit is None
    assert assigned(s, "station-1").holder_unit == "station-1"


def test_imported_matters_are_held_by_their_unit_at_once():
    s = run(None, register(imported=True, external_id="old-1"), ctx())
    assert s.status == "assigned" and s.holder_unit == "room-1"


ACTIONS = st.one_of(
    st.builds(c.Accept), st.builds(c.Decline, reason=st.just("不属于信访事项")),
    st.builds(c.Transfer, reason=st.just("转住建局"), to_unit=st.sampled_from([None, "station-1"])),
    st.builds(c.Object, reason=st.just("非本单位")),
    st.builds(c.Extend, days=st.integers(-5, 40), reason=st.just("x")),
    st.builds(c.Suspend, reason=st.just("听证")), st.builds(c.Resume),
    st.builds(c.Reply, decision=st.sampled_from(["support", "explain", "reject"]), resolved=st.booleans(),
              facts=st.just("x"), grounds=st.just("x")),
    st.builds(c.RequestReview, reason=st.just("x")),
    st.builds(c.ReplyReview, decision=st.sampled_from(["support", "explain"]), resolved=st.booleans(),
              facts=st.just("x"), grounds=st.just("x")),
    st.builds(c.RequestRecheck, reason=st.just("x")),
    st.builds(c.ReplyRecheck, decision=st.sampled_from(["support", "reject"]), resolved=st.booleans(),
              facts=st.just("x"), grounds=st.just("x")),
    st.builds(c.Evaluate, satisfaction=st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied"])),
    st.builds(c.Withdraw),
    st.builds(c.RecordVisit, batch_id=st.just("b2"), channel=st.just("visit"), head_count=st.integers(1, 50)),
)


class Lifecycle(RuleBasedStateMachine):
    """Any sequence of commands, from any unit, at any time: the state stays valid."""

    def __init__(self):
        super().__init__()
        self.state: PetitionState = run(None, register(), ctx())
        self.now = T0
        self.events: list = [Registered]
        self.head_count = self.state.head_count

    @rule(unit=st.sampled_from(sorted(UNITS)))
    @precondition(lambda self: self.state.status in {"registered", "transferred", "objected"})
    def route(self, unit):
        self.state = assigned(self.state, unit, self.now)

    @rule(kind=st.sampled_from(["review", "recheck"]), unit=st.sampled_from(sorted(UNITS)))
    @precondition(lambda self: self.state.status in {"review_requested", "recheck_requested"})
    def route_review(self, kind, unit):
        review = ReviewAssigned(kind=kind, unit=unit, tier=UNITS[unit][0], basis_seq=self.state.seq)
        self.state = apply_routing(self.state, review, self.now)

    @rule(days=st.integers(0, 40))
    def time_passes(self, days):
        self.now += timedelta(days=days)

    @rule(command=ACTIONS, unit=st.sampled_from(sorted(UNITS)),
          roles=st.sets(st.sampled_from(["registrar", "handler", "supervisor", "auditor"]), min_size=1))
    def act(self, command, unit, roles):
        before = self.state
        try:
            produced = decide(before, command, ctx(unit, tuple(roles), self.now))
        except Refused as refused:
            assert refused.zh and refused.en and refused.kind in {"state", "forbidden", "invalid", "not_found"}
            return
        assert produced, "an accepted command produces at least one event"
        if before.status in FINAL_STATUSES:
            assert all(type(e).__name__ in {"VisitRecorded", "Evaluated"} for e in produced)
        for data in produced:
            self.state = evolve(self.state, data, self.now, self.state.seq + 1)
            self.events.append(type(data))
            self.head_count += getattr(data, "head_count", 0) if type(data).__name__ == "VisitRecorded" else 0

    @invariant()
    def state_is_valid(self):
        s = self.state
        assert s.status in STATUSES
        assert s.seq == len(self.events)
        assert s.head_count == self.head_count and s.batches >= 1
        assert self.events.count(ExtensionGranted) <= 1
        answers = sum(1 for e in self.events if e.__name__ in {"Replied", "ReviewReplied", "RecheckReplied"})
        assert self.events.count(Evaluated) <= answers
        if Terminated in self.events:
            assert s.status == "terminated"
            assert "RecheckReplied" in [e.__name__ for e in self.events]
        if s.status == "accepted":
            assert s.holder_unit is not None


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_rate_limiter_allows_a_minutes_burst_then_refuses_with_retry_after(monkeypatch):
    from intake.api.deps import RateLimiter
    from xinfang.problems import Problem

    clock = [1000.0]
    monkeypatch.setattr("intake.api.deps.time.monotonic", lambda: clock[0])
    limiter = RateLimiter(per_minute=60)
    for _ in range(60):
        limiter.check("t1")
    with pytest.raises(Problem) as refused:
        limiter.check("t1")
    assert refused.value.status == 429 and refused.value.extra["headers"]["Retry-After"] == "1"
    limiter.check("t2")  # per terminal
    clock[0] += 1.0
    limiter.check("t1")  # one token back after a second


def test_published_openapi_document_is_current():
    import json

    from intake.openapi import PUBLISHED, document

    assert json.loads(PUBLISHED.read_text()) == json.loads(json.dumps(document())), \
        "regenerate: python -m intake.openapi"

"""Who may act is who held the matter when the act happened; dues that are met are gone."""
from __future__ import annotations

from datetime import timedelta

import pytest

from intake import store
from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.domain.model import apply_routing
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run
from xinfang.events.catalogue import DeadlineChanged, Escalated, RoutingWithdrawn
from xinfang.events.envelope import rfc3339

ESCALATION_ID = "5d2c5e0e-0000-5000-8000-000000000001"


def escalated(state, at=T0 + timedelta(seconds=5)):
    data = Escalated(from_unit="room-1", from_tier="village", to_unit="station-1", to_tier="township", stage="accept",
                     reason="超期升级", due=[])
    return apply_routing(state, data, at, ESCALATION_ID)


def withdrawal():
    return RoutingWithdrawn(withdrawn_id=ESCALATION_ID, withdrawn_type="petition.escalated.v2", unit="room-1",
                            tier="village", cause="petition.accepted.v1", cause_seq=2,
                            cause_occurred_at=rfc3339(T0 + timedelta(seconds=2)), reason="受理早于期限")


@pytest.fixture
def escalated_matter():
    """Room 1 held it from T0; it was escalated to station 1 at T0+5 s for lack of an acceptance."""
    return escalated(assigned(run(None, register(), ctx())))


def test_an_offline_acceptance_by_the_unit_that_held_the_matter_then_is_accepted(escalated_matter):
    assert escalated_matter.holder_unit == "station-1"
    state = run(escalated_matter, c.Accept(), ctx("room-1", now=T0 + timedelta(seconds=2)))
    assert state.status == "accepted"


def test_the_same_unit_dated_after_the_escalation_is_not_the_holder(escalated_matter):
    with pytest.raises(Refused) as refused:
        run(escalated_matter, c.Accept(), ctx("room-1", now=T0 + timedelta(seconds=6)))
    assert refused.value.code == "not_holder" and "station-1" in refused.value.en


def test_another_village_never_held_it(escalated_matter):
    with pytest.raises(Refused):
        run(escalated_matter, c.Accept(), ctx("room-2", now=T0 + timedelta(seconds=2)))


def test_holder_at_reads_the_holding_history(escalated_matter):
    assert escalated_matter.holder_at(T0) == "room-1"
    assert escalated_matter.holder_at(T0 + timedelta(seconds=4.9)) == "room-1"
    assert escalated_matter.holder_at(T0 + timedelta(seconds=5)) == "station-1"
    assert escalated_matter.holder_at(T0 - timedelta(seconds=1)) is None  # before it was assigned


def test_a_withdrawn_escalation_returns_the_matter_to_the_unit_that_met_the_deadline(escalated_matter):
    accepted = run(escalated_matter, c.Accept(), ctx("room-1", now=T0 + timedelta(seconds=2)))
    back = apply_routing(accepted, withdrawal(), T0 + timedelta(seconds=2), "w-1")
    assert (back.holder_unit, back.holder_tier, back.assigned_at) == ("room-1", "village", T0)
    assert [h[1] for h in back.holdings] == ["room-1"]
    assert apply_routing(back, withdrawal(), T0 + timedelta(seconds=2), "w-1") == back  # redelivered: no change


def test_a_met_accept_due_is_gone_at_once_and_the_handling_due_replaces_it():
    state = assigned(run(None, register(), ctx()))
    assert [stage for stage, _, _ in state.due] == ["accept"]
    accepted = run(state, c.Accept(), ctx())
    assert accepted.due == () and store.next_due_at(accepted) is None  # the worklist's column
    handling = apply_routing(state, DeadlineChanged(unit="room-1", stage="handle", due_at="2026-04-01T00:00:00.000000Z",
                                                    previous_due_at=state.due[0][1], reason="accepted"), T0)
    assert handling.due == (("handle", "2026-04-01T00:00:00.000000Z", False),)  # even if routing comes first


def test_a_reply_ends_the_handling_due_and_a_suspension_shows_nothing_due():
    state = run(assigned(run(None, register(), ctx())), c.Accept(), ctx())
    state = apply_routing(state, DeadlineChanged(unit="room-1", stage="handle", due_at="2026-04-01T00:00:00.000000Z",
                                                 reason="accepted"), T0)
    paused = run(state, c.Suspend(reason="听证"), ctx())
    assert paused.suspended and store.next_due_at(paused) is None
    replied = run(state, c.Reply(decision="support", resolved=True, facts="已查明", grounds="已解决"), ctx())
    assert replied.due == ()

"""Facts by occurred time: a late fact that met an obligation withdraws what the timer sent for lack of it."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.domain import codec
from escalation.domain.matter import MAX_SENT, advance, handle
from unit.escalation.helpers import ROOM, ROOT, STATION, intake, new, registered, s
from xinfang.county import load_county
from xinfang.events import derived_event_id
from xinfang.events.catalogue import (
    Accepted,
    DeadlineChanged,
    Replied,
    RoutingWithdrawn,
    Suspended,
    VisitRecorded,
)
from xinfang.events.envelope import rfc3339

FAST = load_county(ROOT / "tests" / "fixtures" / "county_fast.yaml")
PID = "m1"


def kinds(facts):
    return [type(f.data).__name__ for f in facts]


def looked(m, until, start, step=0.25):
    """The timer looking every ``step`` seconds from ``start`` to ``until``."""
    facts, now = [], start
    while now < until:
        now = min(now + timedelta(seconds=step), until)
        m, more = advance(FAST, m, now)
        facts += more
    return m, facts


def offline(sync_at: float, *, reply: bool = True, step: float = 0.25):
    """Registered at 0 s for the village room (accept due 4 s); accepted at 2 s and replied at 3 s on a
    terminal that syncs at ``sync_at``; the timer looks every ``step`` seconds until 30 s."""
    m, facts = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, more = looked(m, s(sync_at), s(0), step)
    facts += more
    late = [intake(2, Accepted(unit=ROOM), s(2), recorded=s(sync_at))]
    if reply:
        late.append(intake(3, Replied(unit=ROOM, decision="support", resolved=True, facts="已查明", grounds="已解决"), s(3),
                           recorded=s(sync_at)))
    for e in late:
        m, more = handle(FAST, m, e, s(sync_at))
        facts += more
    m, more = looked(m, s(30), s(sync_at), step)
    return m, facts + more


def standing(facts):
    """The ids of the events that stand: every event but the withdrawn ones and the withdrawals."""
    withdrawn = {f.data.withdrawn_id for f in facts if isinstance(f.data, RoutingWithdrawn)}
    return [derived_event_id(PID, *f.key) for f in facts
            if not isinstance(f.data, RoutingWithdrawn) and derived_event_id(PID, *f.key) not in withdrawn]


def test_an_acceptance_synced_after_the_escalation_withdraws_warning_overdue_and_escalation_newest_first():
    _, facts = offline(6.5, reply=False)
    assert kinds(facts)[:9] == ["Assigned", "DeadlineWarning", "Overdue", "Escalated", "RoutingWithdrawn",
                            "RoutingWithdrawn", "RoutingWithdrawn", "DeadlineChanged", "DeadlineWarning"]
    warning, overdue, escalated = facts[1:4]
    withdrawals = [f.data for f in facts[4:7]]
    assert [w.withdrawn_id for w in withdrawals] == [derived_event_id(PID, *f.key) for f in (escalated, overdue, warning)]
    assert [w.withdrawn_type for w in withdrawals] == ["petition.escalated.v2", "petition.overdue.v1",
                                                       "petition.deadline_warning.v1"]
    assert all((w.unit, w.tier) == (ROOM, "village") for w in withdrawals)  # back to the unit that met the due
    assert all(w.cause == "petition.accepted.v1" and w.cause_seq == 2 and w.cause_occurred_at == rfc3339(s(2))
               for w in withdrawals)
    assert all(f.occurred == s(2) and f.recorded == s(6.5) for f in facts[4:7])
    assert facts[7].data == DeadlineChanged(unit=ROOM, stage="handle", due_at=rfc3339(s(8)),
                                            previous_due_at=rfc3339(s(4)), reason="accepted")
    assert facts[8].occurred == s(6.8)  # the handling clock's own warning, from the acceptance
    assert [(type(f.data).__name__, f.occurred) for f in facts[9:11]] == [("Overdue", s(8)), ("Escalated", s(9))]


def test_an_acceptance_after_the_due_but_before_the_escalation_leaves_the_overdue_standing():
    m, _ = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, more = looked(m, s(6), s(0))
    m, late = handle(FAST, m, intake(2, Accepted(unit=ROOM), s(4.5), recorded=s(6)), s(6))
    assert kinds(more) == ["DeadlineWarning", "Overdue", "Escalated"]
    assert [f.data.withdrawn_type for f in late if isinstance(f.data, RoutingWithdrawn)] == ["petition.escalated.v2"]
    assert m.unit == ROOM


def test_the_standing_events_and_final_state_do_not_depend_on_when_the_terminal_synced():
    baseline_state, baseline = offline(2)  # synced at once: nothing to withdraw
    assert not any(isinstance(f.data, RoutingWithdrawn) for f in baseline)
    for sync_at in (3.5, 4.2, 5.5, 7.9, 9.3, 12.0, 15.0):
        m, facts = offline(sync_at)
        assert standing(facts) == standing(baseline), sync_at
        assert m.timed == baseline_state.timed, sync_at


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=2.0, max_value=20.0), st.sampled_from([0.1, 0.25, 0.7, 1.3]))
def test_any_sync_time_and_any_timer_rhythm_give_the_same_standing_events(sync_at, step):
    _, baseline = offline(2, step=step)
    _, facts = offline(sync_at, step=step)
    assert standing(facts) == standing(baseline)
    withdrawn = [f.data.withdrawn_id for f in facts if isinstance(f.data, RoutingWithdrawn)]
    assert len(withdrawn) == len(set(withdrawn))  # each withdrawn once


def test_a_late_visit_changes_nothing_timed_and_withdraws_nothing():
    m, _ = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, _ = looked(m, s(6), s(0))
    visit = VisitRecorded(batch_id="b2", channel="visit", head_count=1, unit=ROOM, tier="village")
    after, facts = handle(FAST, m, intake(2, visit, s(1), recorded=s(6)), s(6))
    assert facts == [] and after.timed == m.timed and after.sent == m.sent


def test_a_late_suspension_withdraws_the_handling_breaches_after_it():
    m, _ = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, _ = handle(FAST, m, intake(2, Accepted(unit=ROOM), s(1)), s(1))
    m, timer = looked(m, s(9), s(1))
    assert kinds(timer) == ["DeadlineWarning", "Overdue", "Escalated"]  # handling due 7 s
    m, facts = handle(FAST, m, intake(3, Suspended(unit=ROOM, reason="听证"), s(5), recorded=s(9)), s(9))
    assert kinds(facts) == ["RoutingWithdrawn", "RoutingWithdrawn", "RoutingWithdrawn", "DeadlineChanged"]
    assert m.unit == ROOM and not m.clock.running


def test_withdrawal_ids_are_derived_so_a_redelivery_or_restart_gives_the_same_bytes():
    _, first = offline(6.5, reply=False)
    _, again = offline(6.5, reply=False)
    assert [derived_event_id(PID, *f.key) for f in first] == [derived_event_id(PID, *f.key) for f in again]


def test_what_was_sent_survives_the_state_s_json_form_and_stays_bounded():
    m, _ = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, _ = looked(m, s(12), s(0))
    assert len(m.sent) == 6 and codec.from_dict(codec.to_dict(m)) == m
    m, _ = looked(m, s(4 * (MAX_SENT + 20)), s(12), step=1.0)  # the city reports it again every 4 s
    assert len(m.sent) == MAX_SENT


def test_a_late_fact_older_than_the_county_s_offline_window_finds_nothing_to_withdraw():
    m, _ = handle(FAST, new(PID), intake(1, registered(), s(0)), s(0))
    m, _ = looked(m, s(12), s(0))
    later = s(12) + FAST.offline_window
    m, _ = advance(FAST, m, later)
    assert all(x.occurred >= later - FAST.offline_window for x in m.sent)
    assert STATION not in {x.before.unit for x in m.sent}  # the escalations of the first seconds are history

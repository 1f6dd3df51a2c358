"""One matter's timer state as decide/evolve: warnings, overdue, escalation, reviews, event time."""
from __future__ import annotations

import functools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.domain import codec
from escalation.domain.chain import chain_facts, source_of
from escalation.domain.matter import advance, handle, next_breach
from support.escalation import notice_issued
from unit.escalation.helpers import BUREAU, CITY, ROOM, STATION, intake, new, registered, s
from xinfang.events import verify_chain
from xinfang.events.catalogue import (
    Accepted,
    Assigned,
    Closed,
    DeadlineChanged,
    DeadlineWarning,
    Declined,
    Escalated,
    ExtensionGranted,
    Merged,
    Objected,
    RecheckReplied,
    RecheckRequested,
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
    Withdrawn,
)
from xinfang.events.envelope import rfc3339  # the contracts' spelling, to compare with
from xinfang.events.ids import derived_event_id

SOURCE = source_of("361501000000")


def kinds(facts):
    return [type(f.data).__name__ for f in facts]


def walk(county, m, until, start=None):
    """Advance as the timer does: every tenth of a second, up to ``until``."""
    facts, now = [], start or s(0)
    while now < until:
        now = min(now + timedelta(seconds=0.1), until)
        m, more = advance(county, m, now)
        facts += more
    return m, facts


def run(county, m, *events, now):
    """Apply intake events (each handled at its own occurred time), then advance to ``now``."""
    facts = []
    for e in events:
        m, more = handle(county, m, e, e.occurred)
        facts += more
    m, more = advance(county, m, now)
    return m, facts + more


def test_registration_assigns_the_village_room_with_the_accept_due_time(fast):
    m, facts = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    [fact] = facts
    a = fact.data
    assert isinstance(a, Assigned)
    assert (a.unit, a.tier, a.stage, a.cause, a.basis_seq, a.jurisdiction) == (ROOM, "village", "accept",
                                                                               "registered", 1, "361501100201")
    assert [(d.stage, d.due_at, d.warn_at) for d in a.due] == [("accept", rfc3339(s(4)), rfc3339(s(3.2)))]
    assert next_breach(fast, m) == s(3.2)


def test_warning_overdue_and_escalation_up_to_the_city_in_order_and_on_time(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, facts = walk(fast, m, s(19.5))
    assert [(kinds([f])[0], f.occurred) for f in facts] == [
        ("DeadlineWarning", s(3.2)), ("Overdue", s(4)), ("Escalated", s(5)),
        ("DeadlineWarning", s(8.2)), ("Overdue", s(9)), ("Escalated", s(10)),
        ("DeadlineWarning", s(13.2)), ("Overdue", s(14)), ("Escalated", s(15)),
        ("DeadlineWarning", s(18.2)), ("Overdue", s(19)),
    ]
    ups = [(f.data.from_unit, f.data.to_unit, f.data.to_tier) for f in facts if isinstance(f.data, Escalated)]
    assert ups == [(ROOM, STATION, "township"), (STATION, BUREAU, "county"), (BUREAU, CITY, "city")]
    assert facts[2].data.due[0].due_at == rfc3339(s(9)) and facts[2].data.basis_seq == 1
    assert (m.unit, m.tier) == (CITY, "city")


def test_the_top_tier_keeps_the_matter_and_reports_it_overdue_once_per_limit(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, _ = walk(fast, m, s(19.5))
    m, again = walk(fast, m, s(27.5), start=s(19.5))
    assert [(kinds([f])[0], f.occurred) for f in again] == [("Overdue", s(23)), ("Overdue", s(27))]
    assert len({f.key for f in again}) == 2 and all(f.data.due_at == rfc3339(s(19)) for f in again)
    m, after_downtime = advance(fast, m, s(100))  # missed periods are not replayed: one report for the latest
    assert [f.occurred for f in after_downtime] == [s(99)]
    assert m.unit == CITY


def test_each_breach_fires_once_however_often_the_timer_looks(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    fired = []
    for tenth in range(0, 120):
        for _ in range(3):  # several timers looking at the same moment
            m, facts = advance(fast, m, s(tenth / 10))
            fired += facts
    assert kinds(fired) == ["DeadlineWarning", "Overdue", "Escalated"] * 2
    assert len({f.key for f in fired}) == len(fired) == 6


def test_a_warning_that_comes_after_the_due_time_is_passed_over(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, facts = advance(fast, m, s(4.5))  # the worker was down from 3 s to 4.5 s
    assert kinds(facts) == ["Overdue"]


def test_acceptance_starts_the_handling_limit_from_when_it_happened(fast):
    m, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)), now=s(1))
    change = facts[-1].data
    assert isinstance(change, DeadlineChanged)
    assert (change.reason, change.stage, change.due_at, change.previous_due_at) == (
        "accepted", "handle", rfc3339(s(7)), rfc3339(s(4)))
    assert (m.clock.stage, m.clock.due_at) == ("handle", s(7))


def test_an_extension_and_a_hearing_pause_shift_the_handling_due_time(fast):
    m, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
                   intake(3, ExtensionGranted(unit=ROOM, days=10, reason="复杂", approved_by=STATION), s(2)),
                   intake(4, Suspended(unit=ROOM, reason="听证"), s(3)), now=s(3))
    changes = [f.data for f in facts if isinstance(f.data, DeadlineChanged)]
    assert [(c.reason, c.due_at) for c in changes] == [
        ("accepted", rfc3339(s(7))), ("extension", rfc3339(s(11))), ("suspended", None)]
    m, quiet = advance(fast, m, s(30))
    assert quiet == [] and next_breach(fast, m) is None  # nothing runs while suspended
    m, facts = handle(fast, m, intake(5, Resumed(unit=ROOM), s(5)), s(5))
    assert [(f.data.reason, f.data.due_at) for f in facts] == [("resumed", rfc3339(s(13)))]
    m, facts = walk(fast, m, s(13), start=s(5))
    # 10 s of running time (1–3 s, 5–13 s): the warning after 8 of them, the 2 s pause not counted
    assert [(kinds([f])[0], f.occurred) for f in facts] == [("DeadlineWarning", s(11)), ("Overdue", s(13))]


def test_a_reply_stops_the_clock_and_the_review_goes_to_the_tier_above_the_unit_that_replied(fast):
    m, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
                   intake(3, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)),
                   intake(4, ReviewRequested(reason="不服"), s(3)), now=s(3))
    review = facts[-1].data
    assert isinstance(review, ReviewAssigned)
    assert (review.kind, review.unit, review.tier, review.basis_seq) == ("review", STATION, "township", 4)
    assert [(d.stage, d.due_at) for d in review.due] == [("review", rfc3339(s(7)))]
    m, facts = run(fast, m, intake(5, ReviewReplied(unit=STATION, decision="reject", resolved=False,
                                                    facts="已查明", grounds="维持"),
                                   s(4)), intake(6, RecheckRequested(reason="仍不服"), s(5)), now=s(5))
    recheck = facts[-1].data
    assert (recheck.kind, recheck.unit, recheck.tier, recheck.basis_seq) == ("recheck", BUREAU, "county", 6)
    m, facts = run(fast, m, intake(7, RecheckReplied(unit=BUREAU, decision="reject", resolved=False,
                                                     facts="已查明", grounds="终结"),
                                   s(6)), intake(8, Terminated(reason="复核终结"), s(6)), now=s(60))
    assert [(type(f.data).__name__, getattr(f.data, "reason", None)) for f in facts] == [("Closed", "terminated")]
    assert m.closed == "terminated" and next_breach(fast, m) is None


def test_an_overdue_review_escalates_like_any_stage(fast):
    m, _ = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
               intake(3, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)),
               intake(4, ReviewRequested(reason="不服"), s(3)), now=s(3))
    m, facts = walk(fast, m, s(8), start=s(3))
    assert [(kinds([f])[0], f.occurred) for f in facts] == [
        ("DeadlineWarning", s(6.2)), ("Overdue", s(7)), ("Escalated", s(8))]
    assert facts[-1].data.stage == "review" and facts[-1].data.to_unit == BUREAU


def test_the_review_window_closes_the_matter_when_it_passes_unused(fast):
    m, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
                   intake(3, Replied(unit=ROOM, decision="support", resolved=True, facts="已查明", grounds="已解决"), s(2)),
                   now=s(6))
    assert facts[-1].data == Closed(reason="review_window_passed") and facts[-1].occurred == s(6)
    assert next_breach(fast, m) is None


def test_a_late_request_within_the_window_reopens_a_closed_matter(fast):
    m, _ = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
               intake(3, Replied(unit=ROOM, decision="support", resolved=True, facts="已查明", grounds="已解决"), s(2)), now=s(6))
    m, facts = handle(fast, m, intake(4, ReviewRequested(reason="不服"), s(5), recorded=s(30)), s(30))
    m, more = advance(fast, m, s(30))
    facts += more
    # the worker learns at 30 s of a request made at 5 s: the window's closing at 6 s is withdrawn, every
    # breach since is placed by event time, warnings that could no longer help are passed over, the top
    # tier reports the latest period once
    assert [(kinds([f])[0], f.occurred) for f in facts] == [
        ("RoutingWithdrawn", s(5)), ("ReviewAssigned", s(5)), ("Overdue", s(9)), ("Escalated", s(10)),
        ("Overdue", s(14)), ("Escalated", s(15)), ("Overdue", s(19)), ("Overdue", s(27))]
    assert all(f.recorded == s(30) for f in facts)  # never recorded before the system knew


def test_a_late_reply_is_placed_by_when_it_happened(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, _ = handle(fast, m, intake(2, Accepted(unit=ROOM), s(1)), s(1))
    late = intake(3, Replied(unit=ROOM, decision="explain", resolved=True, facts="已查明", grounds="答复"), s(6), recorded=s(9))
    m, facts = handle(fast, m, late, s(9))  # handling was due at 7 s: the reply came in time, no breach
    assert [(kinds([f])[0], f.occurred, f.recorded) for f in facts] == [("DeadlineWarning", s(5.8), s(5.8))]
    m2, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m2, _ = handle(fast, m2, intake(2, Accepted(unit=ROOM), s(1)), s(1))
    later = intake(3, Replied(unit=ROOM, decision="explain", resolved=True,
                              facts="已查明", grounds="答复"), s(7.5), recorded=s(9))
    m2, facts = handle(fast, m2, later, s(9))  # replied after the due time, before the grace ended
    assert [(kinds([f])[0], f.occurred) for f in facts] == [("Overdue", s(7))]  # and no escalation


def test_a_registration_learned_late_is_timed_from_when_it_happened(fast):
    m, facts = handle(fast, new(), intake(1, registered(), s(0), recorded=s(6)), s(6))
    assert kinds(facts) == ["Assigned"]  # what fell due since is the timer's, at its next look
    m, more = advance(fast, m, s(6))
    facts += more
    assert kinds(facts) == ["Assigned", "Overdue", "Escalated"]
    assert [f.occurred for f in facts] == [s(0), s(4), s(5)]
    assert [f.recorded for f in facts] == [s(6), s(6), s(6)]
    assert facts[-1].data.due[0].due_at == rfc3339(s(9))


def test_a_redelivered_intake_event_changes_nothing(fast):
    first = intake(1, registered(), s(0))
    m, _ = handle(fast, new(), first, s(0))
    again, facts = handle(fast, m, first, s(0.5))
    assert facts == [] and again == m


def test_imported_history_is_assigned_but_never_timed(fast):
    m, facts = handle(fast, new(), intake(1, registered(imported=True, unit=STATION, tier="township"), s(0)), s(0))
    [a] = [f.data for f in facts]
    assert (a.cause, a.unit, a.tier, a.due, a.rule) == ("import", STATION, "township", [], a.rule)
    m, facts = run(fast, m, intake(2, Accepted(unit=STATION), s(1)),
                   intake(3, Replied(unit=STATION, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)),
                   intake(4, ReviewRequested(reason="不服"), s(3)), now=s(1000))
    assert kinds(facts) == ["ReviewAssigned"] and facts[0].data.due == [] and facts[0].data.unit == BUREAU
    assert next_breach(fast, m) is None


def test_a_transfer_and_an_objection_route_again_with_new_due_times(fast):
    m, facts = run(fast, new(), intake(1, registered(), s(0)),
                   intake(2, Transferred(from_unit=ROOM, to_unit="dept.rsj", reason="主管部门"), s(1)), now=s(1))
    moved = facts[-1].data
    assert (moved.unit, moved.department, moved.cause, moved.basis_seq) == ("dept.rsj", "dept.rsj", "transferred", 2)
    assert moved.due[0].due_at == rfc3339(s(5))
    m, facts = run(fast, m, intake(3, Objected(unit="dept.rsj", reason="非本部门职责"), s(2)), now=s(2))
    assert (facts[-1].data.unit, facts[-1].data.cause) == (ROOM, "objection")  # routed afresh
    m, facts = run(fast, m, intake(4, Objected(unit=ROOM, reason="非本室职责"), s(3)), now=s(3))
    assert (facts[-1].data.unit, facts[-1].data.rule) == (STATION, "派单异议改派上一级 objection upheld: to the tier above")


def test_decline_withdrawal_and_redirect_close_the_matter(fast):
    _, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Withdrawn(reason="撤回"), s(1)), now=s(99))
    assert [f.data for f in facts[1:]] == [Closed(reason="withdrawn")]
    _, facts = run(fast, new(), intake(1, registered(category="law"), s(0)),
                   intake(2, Declined(unit=BUREAU, reason="请向法院起诉"), s(1)), now=s(99))
    assert facts[0].data.redirect == "court" and [f.data for f in facts[1:]] == [Closed(reason="redirected")]


def test_chained_events_verify_and_are_byte_identical_when_derived_again(fast):
    def emit():
        m, facts = handle(fast, new("m-7"), intake(1, registered(), s(0)), s(0))
        m, chained = chain_facts(m, facts, source=SOURCE)
        m, facts = walk(fast, m, s(12))
        return chain_facts(m, facts, source=SOURCE)[1] + chained

    first, second = emit(), emit()
    assert [e.to_json() for e in first] == [e.to_json() for e in second]
    ordered = sorted(first, key=lambda e: e.seq)
    assert [e.seq for e in ordered] == list(range(1, 8)) and verify_chain([e.envelope() for e in ordered]) == []
    assert all(e.envelope()["source"] == "/xinfang/361501/escalation" and e.envelope()["actor"] == "system:escalation"
               for e in first)
    assert len({e.id for e in first}) == 7


def test_the_state_survives_its_json_form(fast):
    m, _ = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
               intake(3, Suspended(unit=ROOM, reason="听证"), s(2)), now=s(2))
    m = chain_facts(m, [], source=SOURCE)[0]
    assert codec.from_dict(codec.to_dict(m)) == m
    m2, _ = run(fast, new(), intake(1, registered(), s(0)),
                intake(2, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(1)),
                intake(3, Objected(unit=ROOM, reason="x"), s(1)), now=s(2))
    assert codec.from_dict(codec.to_dict(m2)) == m2


@functools.cache
def _fast_county():
    from unit.escalation.helpers import ROOT
    from xinfang.county import load_county
    return load_county(ROOT / "tests" / "fixtures" / "county_fast.yaml")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40))
def test_overdue_and_escalations_do_not_depend_on_when_the_timer_looks(steps):
    fast = _fast_county()
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    now, fired = s(0), []
    for step in steps:
        now = min(now + timedelta(milliseconds=step), s(18))
        m, facts = advance(fast, m, now)
        fired += facts
    m, facts = advance(fast, m, s(18))
    fired += facts
    breaches = [f.key for f in fired if not isinstance(f.data, DeadlineWarning)]
    assert breaches == [f.key for f in advance(fast, handle(fast, new(), intake(1, registered(), s(0)), s(0))[0],
                                               s(18))[1] if not isinstance(f.data, DeadlineWarning)]
    assert len(set(breaches)) == len(breaches) == 6
    assert [f.occurred for f in fired] == sorted(f.occurred for f in fired)


def test_chaining_writes_the_same_bytes_as_the_contracts_cloud_event():
    from escalation.domain.chain import chain_facts
    from escalation.domain.matter import Fact, Matter
    from xinfang.events import CloudEvent, derived_event_id, event_type_of

    data = Closed(reason="review_window_passed")
    fact = Fact(data, s(1.5), s(2), ("closed", "x"))
    for alg in ("sha256", "sm3"):
        _, [mine] = chain_facts(Matter(petition_id="m-1"), [fact], source=SOURCE, hashalg=alg)
        theirs = CloudEvent.chained(event_id=derived_event_id("m-1", "closed", "x"), source=SOURCE,
                                    type=event_type_of(data), subject="m-1", recorded=s(2), occurred=s(1.5),
                                    actor="system:escalation", seq=1, prevhash="0" * 64,
                                    data=data.model_dump(mode="json"), hashalg=alg)
        assert mine.to_json() == theirs.to_json() and CloudEvent.from_json(mine.to_json()).hash_ok()


def test_a_merged_matter_emits_nothing_and_an_unmerge_gives_back_its_clocks(fast):
    survivor = "00000000-0000-4000-8000-000000000002"
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    merged = Merged(into=survivor, into_receipt_no="2026-361501-0000002", reason="重复", unit=BUREAU)
    m, facts = handle(fast, m, intake(2, merged, s(1)), s(1))
    assert facts == [] and next_breach(fast, m) is None
    m, silent = walk(fast, m, s(30), start=s(1))
    assert silent == []  # no warning, no overdue, no escalation while merged
    assert codec.from_dict(codec.to_dict(m)) == m  # the parked clocks survive the table
    m, facts = handle(fast, m, intake(3, Unmerged(into=survivor, reason="误", unit=BUREAU), s(30)), s(30))
    assert m.parked is None and m.clock is not None and m.clock.due_at == s(4)  # as it stood: overdue now
    m, after = advance(fast, m, s(30))
    assert "Overdue" in kinds(after)


def test_a_merge_synced_late_withdraws_what_the_timer_sent_after_it(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, sent = walk(fast, m, s(6))
    assert kinds(sent) == ["DeadlineWarning", "Overdue", "Escalated"]
    merged = Merged(into="00000000-0000-4000-8000-000000000002", into_receipt_no="x", reason="重复", unit=BUREAU)
    m, facts = handle(fast, m, intake(2, merged, s(3.5), recorded=s(6)), s(6))
    assert kinds(facts) == ["RoutingWithdrawn", "RoutingWithdrawn"]  # the escalation and the overdue, newest first
    assert next_breach(fast, m) is None


# ---- the review window counts from the delivery of the written answer --------------------------------------

def _replied_and_delivered(fast, delivered_at, recorded=None, now=None):
    """Registered at 0 s, accepted at 1 s, replied (written) at 2 s, its 意见书 delivered at ``delivered_at``."""
    m, facts = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
                   intake(3, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)),
                   now=recorded or delivered_at)  # the timer runs until the worker learns of the delivery
    at = recorded or delivered_at
    m, more = handle(fast, m, intake(4, notice_issued(3), delivered_at, recorded=at), at)
    m, later = advance(fast, m, now or s(60))
    return m, facts + more + later


def _standing(facts):
    gone = {f.data.withdrawn_id for f in facts if isinstance(f.data, RoutingWithdrawn)}
    return [(kinds([f])[0], f.occurred) for f in facts
            if not isinstance(f.data, RoutingWithdrawn) and derived_event_id("m1", *f.key) not in gone]


def test_a_reply_delivered_later_than_written_closes_the_window_counted_from_the_delivery(fast):
    m, facts = _replied_and_delivered(fast, s(3.5))
    assert [(kinds([f])[0], f.occurred) for f in facts][-1] == ("Closed", s(7.5))  # 3.5 s + the 4 s window
    assert m.closed == "review_window_passed" and m.undelivered is None


def test_a_delivery_learned_after_the_window_from_the_reply_closed_withdraws_that_closure(fast):
    live = _standing(_replied_and_delivered(fast, s(3.5))[1])
    m, facts = _replied_and_delivered(fast, s(3.5), recorded=s(30))
    closures = [f for f in facts if isinstance(f.data, Closed)]
    assert [f.occurred for f in closures] == [s(6), s(7.5)]  # from the reply, then from the delivery
    [withdrawn] = [f.data for f in facts if isinstance(f.data, RoutingWithdrawn)]
    assert withdrawn.withdrawn_id == derived_event_id("m1", *closures[0].key)
    assert _standing(facts) == live  # the same facts, the same standing events, whatever the arrival timing


def test_a_delivery_after_the_window_from_the_reply_passed_opens_it_again_from_the_delivery(fast):
    m, facts = _replied_and_delivered(fast, s(8))
    assert [(kinds([f])[0], f.occurred) for f in facts if isinstance(f.data, Closed)] == [
        ("Closed", s(6)), ("Closed", s(12))]
    assert not any(isinstance(f.data, RoutingWithdrawn) for f in facts)


def test_only_the_first_delivery_of_the_answers_own_notice_moves_the_window(fast):
    m, _ = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
               intake(3, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)), now=s(2))
    for seq, notice in enumerate([notice_issued(2, kind="acceptance"), notice_issued(1, kind="opinion")], start=4):
        m, facts = handle(fast, m, intake(seq, notice, s(3)), s(3))
        assert facts == [] and next_breach(fast, m) == s(6)
    m, _ = handle(fast, m, intake(6, notice_issued(3), s(4)), s(4))
    m, _ = handle(fast, m, intake(7, notice_issued(3, delivery="desk"), s(5)), s(5))  # a copy handed over again
    assert next_breach(fast, m) == s(8)
    assert codec.from_dict(codec.to_dict(m)) == m


def test_a_review_request_before_the_delivery_leaves_nothing_to_await(fast):
    m, _ = run(fast, new(), intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(1)),
               intake(3, Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"), s(2)),
               intake(4, ReviewRequested(reason="不服"), s(3)), now=s(3))
    m, facts = handle(fast, m, intake(5, notice_issued(3), s(3.5)), s(3.5))
    assert facts == [] and m.window is None and m.clock.stage == "review"

"""Clocks that are right: warnings by running time and working days, back-dated matters at O(1), 集体访 by head-count."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.domain import clock as clocks
from escalation.domain.matter import advance, handle
from unit.escalation.helpers import CITY, ROOM, ROOT, STATION, T0, intake, new, registered, s
from xinfang.county import load_county
from xinfang.events.catalogue import (
    Accepted,
    Assigned,
    DeadlineWarning,
    Overdue,
    Resumed,
    Suspended,
    VisitRecorded,
)

SH = ZoneInfo("Asia/Shanghai")
DEMO_VILLAGE, DEMO_ROOM, DEMO_STATION = "361402101203", "room.361402101203", "station.361402101000"


@functools.cache
def fast_county():
    return load_county(ROOT / "tests" / "fixtures" / "county_fast.yaml")


def local(y, mo, d, h=9, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def visit(head_count: int):
    return VisitRecorded(batch_id="b2", channel="visit", head_count=head_count, unit=ROOM, tier="village")


def timeline(county, events, until):
    """Intake events handled each at its occurred time, the timer looking every 0.1 s in between, up to ``until``."""
    m, facts, now = new(), [], events[0].occurred
    pending = list(events)
    while now <= until:
        while pending and pending[0].occurred <= now:
            m, more = handle(county, m, pending.pop(0), now)
            facts += more
        m, more = advance(county, m, now)
        facts += more
        now += timedelta(seconds=0.1)
    return m, facts


# ---- item 4: warnings -----------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(pause_at=st.integers(1, 79), pause_len=st.integers(1, 500))
def test_after_a_pause_before_the_warning_it_falls_at_80_percent_of_running_time(pause_at, pause_len):
    fast = fast_county()
    c = clocks.start(fast, ROOM, "village", "handle", s(0))  # 6 s to handle: warn at 4.8 s of running time
    stopped, again = s(pause_at / 20), s(pause_at / 20 + pause_len / 10)
    resumed = clocks.resumed(fast, clocks.suspended(c, stopped), again)
    assert resumed.due_at == s(6) + (again - stopped)
    assert resumed.warn_at == s(4.8) + (again - stopped)  # 4.8 s running + the pause, not 80 % of the whole span
    assert not stopped <= resumed.warn_at < again


@settings(max_examples=60, deadline=None)
@given(pause_from=st.integers(49, 59), pause_len=st.integers(1, 40))
def test_a_pause_after_the_warning_gives_no_second_warning_and_none_inside_the_pause(pause_from, pause_len):
    fast = fast_county()
    stop, go = pause_from / 10, pause_from / 10 + pause_len / 10
    events = [intake(1, registered(), s(0)), intake(2, Accepted(unit=ROOM), s(0)),
              intake(3, Suspended(unit=ROOM, reason="听证"), s(stop)), intake(4, Resumed(unit=ROOM), s(go))]
    _, facts = timeline(fast, events, s(go + 7))
    warnings = [f for f in facts if isinstance(f.data, DeadlineWarning) and f.data.unit == ROOM]
    assert [w.occurred for w in warnings] == [s(4.8)]  # one warning per obligation, before the pause
    assert not any(s(stop) < f.occurred < s(go) for f in facts if isinstance(f.data, (DeadlineWarning, Overdue)))
    overdue = [f for f in facts if isinstance(f.data, Overdue) and f.data.unit == ROOM]
    assert overdue[0].occurred == s(6 + go - stop)


def test_a_working_day_warning_falls_at_the_office_opening_of_the_80_percent_day(demo):
    monday = local(2026, 3, 2, 10)
    handle_5 = clocks.start(demo, DEMO_ROOM, "village", "handle", monday)  # 5 working days: due Monday 9th
    assert handle_5.due_at.date() == local(2026, 3, 9).date()
    assert handle_5.warn_at == local(2026, 3, 9, 8, 30)  # 4 of 5 days passed: the 5th day at opening
    sunday_night = local(2026, 3, 8, 3, 3)
    assert handle_5.warn_at != sunday_night  # what 80 % of the wall-clock span gave
    township = clocks.start(demo, DEMO_STATION, "township", "handle", monday)  # 15 working days: 12 passed
    assert township.warn_at == local(2026, 3, 19, 8, 30)
    assert township.due_at.date() == local(2026, 3, 23).date()


def test_a_working_day_warning_skips_holidays_and_moves_by_the_working_days_paused(demo):
    before_national_day = local(2026, 9, 28, 10)  # 3 working days to accept at the township, across 国庆
    c = clocks.start(demo, DEMO_STATION, "township", "accept", before_national_day)
    assert demo.work_calendar.is_working_day(c.warn_at.date()) and c.warn_at.time() == demo.office_hours.opens
    assert c.warn_at < c.due_at
    paused = clocks.suspended(clocks.start(demo, DEMO_ROOM, "village", "handle", local(2026, 3, 2, 10)),
                              local(2026, 3, 3, 11))
    again = clocks.resumed(demo, paused, local(2026, 3, 5, 15))  # Wed and Thu paused: two working days
    assert again.warn_at == local(2026, 3, 11, 8, 30) and again.due_at.date() == local(2026, 3, 11).date()


def test_a_calendar_day_limit_keeps_its_warning_at_the_fraction_of_the_span(demo):
    c = clocks.start(demo, "bureau.361402", "county", "accept", local(2026, 3, 2, 10))
    assert c.warn_at == local(2026, 3, 2, 10) + (c.due_at - local(2026, 3, 2, 10)) * 0.8


# ---- item 5: a back-dated matter costs O(1) -------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(after=st.integers(0, 200_000))
def test_the_latest_top_tier_report_is_computed_as_stepping_through_every_period_would(after):
    fast = fast_county()
    c = clocks.Clock("accept", CITY, "city", s(15), s(19), s(18.2), warned=True, overdue_at=s(19))
    now = s(19) + timedelta(milliseconds=after)
    at = clocks.next_report(fast, c)
    if at > now:
        assert clocks.latest_report(fast, c, now) is None
        return
    while fast.due(at, "city", "accept") <= now:  # the oracle: one period after another
        at = fast.due(at, "city", "accept")
    assert clocks.latest_report(fast, c, now) == at


def test_a_matter_back_dated_by_a_year_jumps_to_its_state_now(fast):
    year_ago = T0 - timedelta(days=365)
    m, facts = handle(fast, new(), intake(1, registered(), year_ago, recorded=T0), T0)
    m, more = advance(fast, m, T0)  # with 4-second limits: 7.9 million periods, jumped over
    facts += more
    kinds = [type(f.data).__name__ for f in facts]
    assert kinds == ["Assigned", "Overdue", "Escalated", "Overdue", "Escalated", "Overdue", "Escalated",
                     "Overdue", "Overdue"]  # warnings that could no longer help are passed over
    last = facts[-1]
    top_overdue = year_ago + timedelta(seconds=19)
    assert last.occurred == top_overdue + timedelta(seconds=4) * ((T0 - top_overdue) // timedelta(seconds=4))
    assert T0 - timedelta(seconds=4) < last.occurred <= T0 and all(f.recorded == T0 for f in facts)
    assert (m.unit, m.clock.overdue_at) == (CITY, last.occurred)


def test_a_back_dated_review_request_at_the_top_tier_reports_once_for_the_latest_period(fast):
    m, _ = handle(fast, new(), intake(1, registered(), s(0)), s(0))
    m, _ = advance(fast, m, s(20))
    m, facts = advance(fast, m, s(20) + timedelta(days=90))
    periods = (timedelta(days=90) + timedelta(seconds=1)) // timedelta(seconds=4)  # of 4 s since the report at 19 s
    assert [(type(f.data).__name__, f.occurred) for f in facts] == [("Overdue", s(19) + timedelta(seconds=4) * periods)]


# ---- item 7: collective by the current head-count -------------------------------------------


def test_a_later_batch_that_reaches_the_collective_threshold_routes_the_matter_afresh(fast):
    m, _ = handle(fast, new(), intake(1, registered(head_count=4), s(0)), s(0))
    assert m.unit == ROOM
    m, facts = handle(fast, m, intake(2, visit(1), s(1)), s(1))
    [fact] = facts
    a = fact.data
    assert isinstance(a, Assigned)
    assert (a.unit, a.tier, a.cause, a.stage, a.basis_seq) == (STATION, "township", "collective", "accept", 2)
    assert "累计5人达集体访标准5人" in a.rule and "集体访提级" in a.rule  # the reason and the county's rule
    assert (m.unit, m.head_count, m.clock.unit, m.clock.started_at) == (STATION, 5, STATION, s(1))
    assert a.due[0].due_at == fact.clock.due_at.isoformat().replace("+00:00", ".000000Z")


def test_a_matter_in_handling_keeps_its_stage_when_it_becomes_collective(fast):
    m, _ = handle(fast, new(), intake(1, registered(head_count=3), s(0)), s(0))
    m, _ = handle(fast, m, intake(2, Accepted(unit=ROOM), s(0.5)), s(0.5))
    m, facts = handle(fast, m, intake(3, visit(2), s(1)), s(1))
    assert [(f.data.cause, f.data.stage, f.data.unit) for f in facts] == [("collective", "handle", STATION)]
    assert m.clock.due_at == s(7)


def test_only_the_batch_that_crosses_the_threshold_reroutes_and_never_downward(fast):
    m, _ = handle(fast, new(), intake(1, registered(head_count=5), s(0)), s(0))
    assert m.unit == STATION  # collective from the first batch
    m, facts = handle(fast, m, intake(2, visit(3), s(1)), s(1))
    assert facts == []
    small, _ = handle(fast, new(), intake(1, registered(head_count=2), s(0)), s(0))
    small, facts = handle(fast, small, intake(2, visit(2), s(1)), s(1))
    assert facts == [] and small.head_count == 4
    late, _ = handle(fast, new(), intake(1, registered(head_count=4), s(0)), s(0))
    late, _ = advance(fast, late, s(6))  # escalated to the township already
    late, facts = handle(fast, late, intake(2, visit(1), s(6.1)), s(6.1))
    assert late.unit == STATION and not any(isinstance(f.data, Assigned) for f in facts)
    imported, _ = handle(fast, new(), intake(1, registered(head_count=4, imported=True), s(0)), s(0))
    imported, facts = handle(fast, imported, intake(2, visit(1), s(1)), s(1))
    assert facts == []


# ---- item 9: timer lateness and late knowledge apart --------------------------------------


def test_breaches_learned_late_are_late_knowledge_and_the_rest_timer_lateness(fast):
    from escalation.domain.chain import chain_facts, source_of
    from escalation.metrics import Metrics

    metrics = Metrics()
    m, facts = handle(fast, new(), intake(1, registered(), s(0), recorded=s(6)), s(6))  # learned 6 s late
    m, chained = chain_facts(m, facts, source=source_of(fast.code))
    assert metrics.breaches(chained) == {}  # the assignment is no breach
    m, facts = advance(fast, m, s(6))  # overdue at 4 s and escalation at 5 s: past when learned
    m, chained = chain_facts(m, facts, source=source_of(fast.code))
    assert metrics.breaches(chained) == {}
    m, facts = advance(fast, m, s(8.5))  # the township's warning, overdue, escalation: the timer's own
    m, more = advance(fast, m, s(11))
    m, chained = chain_facts(m, facts + more, source=source_of(fast.code))
    assert metrics.breaches(chained) == {e.seq: e.occurred_at.timestamp() for e in chained} and len(chained) == 3
    late = metrics.registry.get_sample_value
    assert late("escalation_late_knowledge_seconds_count") == 2
    assert late("escalation_late_knowledge_seconds_sum") == 2 + 1  # learned at 6 s of dues at 4 s and 5 s

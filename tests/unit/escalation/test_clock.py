"""Deadline arithmetic as pure functions: limits per tier and stage, warnings, extension, pauses."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from escalation.domain import clock as clocks
from unit.escalation.helpers import ROOM, s

SH = ZoneInfo("Asia/Shanghai")


def local(y, mo, d, h=9, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def end_of(y, mo, d) -> datetime:
    return datetime(y, mo, d, 23, 59, 59, 999999, tzinfo=SH)


def test_seconds_limits_and_the_warning_at_the_fraction(fast):
    c = clocks.start(fast, ROOM, "village", "accept", s(0))
    assert (c.due_at, c.warn_at) == (s(4), s(3.2))
    assert clocks.start(fast, ROOM, "village", "handle", s(10)).due_at == s(16)


def test_a_village_room_has_one_working_day_to_accept_over_a_weekend(demo):
    friday = local(2026, 3, 6, 15)
    c = clocks.start(demo, "room.361402101203", "village", "accept", friday)
    assert c.due_at == end_of(2026, 3, 9)  # Monday: the start day does not count, the weekend is no working day
    assert c.warn_at == local(2026, 3, 9, 8, 30)  # the one working day's office opening, not 80 % of the span


def test_a_working_day_limit_skips_the_national_day_holidays(demo):
    c = clocks.start(demo, "station.361402101000", "township", "accept", local(2026, 9, 30, 10))
    assert c.due_at.date() > datetime(2026, 10, 7).date()  # 国庆 1–7 October are not working days


def test_the_county_tier_counts_calendar_days_and_a_holiday_end_moves_to_the_next_working_day(demo):
    c = clocks.start(demo, "bureau.361402", "county", "accept", local(2026, 9, 16, 10))  # +15 days = 1 October
    assert c.due_at == end_of(2026, 10, 8)


def test_an_extension_is_capped_at_the_tiers_extension_limit(demo):
    c = clocks.start(demo, "room.361402101203", "village", "handle", local(2026, 3, 2, 9))
    assert c.due_at == end_of(2026, 3, 9)  # 5 working days
    assert clocks.extended(demo, c, 30).due_at == end_of(2026, 3, 12)  # village ceiling: 3 working days
    assert clocks.extended(demo, c, 1).due_at == end_of(2026, 3, 10)


def test_an_extension_resets_the_warning_and_overdue_state(fast):
    c = clocks.start(fast, ROOM, "village", "handle", s(0))
    late = clocks.extended(fast, clocks.Clock(**{**c.__dict__, "warned": True, "overdue_at": s(6)}), 4)
    assert (late.due_at, late.warned, late.overdue_at) == (s(10), False, None)
    assert late.warn_at == s(8)


def test_a_pause_of_seconds_moves_the_due_time_by_the_pause(fast):
    c = clocks.suspended(clocks.start(fast, ROOM, "village", "handle", s(0)), s(2))
    assert not c.running
    again = clocks.resumed(fast, c, s(5.5))
    assert again.running and again.due_at == s(9.5)  # 4 s remained at the pause, 4 s remain after it


def test_a_pause_of_working_days_moves_the_due_day_by_the_working_days_paused(demo):
    c = clocks.start(demo, "station.361402101000", "township", "handle", local(2026, 3, 2, 9))
    paused = clocks.suspended(c, local(2026, 3, 5, 10))  # Thursday
    again = clocks.resumed(demo, paused, local(2026, 3, 9, 16))  # next Monday: Fri and Mon were paused
    assert again.due_at == demo.work_calendar.add_days(c.due_at, 2, "working", SH)
    same_day = clocks.resumed(demo, clocks.suspended(c, local(2026, 3, 5, 10)), local(2026, 3, 5, 17))
    assert same_day.due_at == c.due_at


def test_the_top_tier_reports_again_once_per_limit(fast):
    c = clocks.start(fast, "city.361500", "city", "accept", s(0))
    assert clocks.next_report(fast, c) is None
    reported = clocks.Clock(**{**c.__dict__, "overdue_at": s(4)})
    assert clocks.next_report(fast, reported) == s(8)
    assert clocks.paused_due(fast, clocks.suspended(c, s(1)), s(1) - timedelta(seconds=1)) == c.due_at

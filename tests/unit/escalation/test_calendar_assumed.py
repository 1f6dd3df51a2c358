"""A due counted over a year with no holiday plan says so, and is counted again once the county lists it.

The working-day test county (tests/fixtures/county_working.yaml) has no calendar of its own, so 2027 (past
chinesecalendar 1.11) is assumed Monday–Friday; tests/fixtures/calendar_2027_invented.yaml is a made-up plan."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalation.domain import codec
from escalation.domain.matter import advance, handle, next_breach
from escalation.domain.times import text as rfc3339
from unit.escalation.helpers import ROOT, intake, new, registered
from xinfang.county import load_county
from xinfang.events.catalogue import Assigned, DeadlineChanged

SH = ZoneInfo("Asia/Shanghai")
WORKING = ROOT / "tests" / "fixtures" / "county_working.yaml"
PLAN = ROOT / "tests" / "fixtures" / "calendar_2027_invented.yaml"
MONDAY = datetime(2026, 12, 28, 10, tzinfo=SH)  # 5 working days: to Mon 4 Jan 2027 assumed, Fri 8 Jan with the plan


@pytest.fixture(scope="module")
def counties(tmp_path_factory):
    listed = tmp_path_factory.mktemp("county") / "with_2027.yaml"
    listed.write_text(WORKING.read_text() + "\n" + PLAN.read_text())
    return load_county(WORKING), load_county(listed)


def test_a_due_in_2027_without_a_plan_is_marked_assumed_and_one_within_2026_is_not(counties):
    without, _ = counties
    m, facts = handle(without, new(), intake(1, registered(), MONDAY), MONDAY)
    (assigned,) = [f.data for f in facts]
    assert isinstance(assigned, Assigned) and assigned.due[0].calendar_assumed
    assert assigned.due[0].due_at == "2027-01-04T15:59:59.999999Z"
    assert m.clock.assumed == (2027,) and codec.from_dict(codec.to_dict(m)).clock.assumed == (2027,)
    early = datetime(2026, 12, 1, 10, tzinfo=SH)
    _, facts = handle(without, new(), intake(1, registered(), early), early)
    assert not facts[0].data.due[0].calendar_assumed


def test_with_the_year_listed_the_due_is_counted_by_the_plan_and_not_assumed(counties):
    _, listed = counties
    _, facts = handle(listed, new(), intake(1, registered(), MONDAY), MONDAY)
    due = facts[0].data.due[0]
    assert due.due_at == "2027-01-08T15:59:59.999999Z" and not due.calendar_assumed


def test_once_the_year_is_listed_the_open_due_is_recounted_with_one_deadline_change(counties):
    without, listed = counties
    m, _ = handle(without, new(), intake(1, registered(), MONDAY), MONDAY)
    now = datetime(2026, 12, 1, 9, tzinfo=SH)  # before the matter's own start: a terminal dated it ahead
    m = replace(m, known_at=now)
    assert next_breach(without, m) > now and next_breach(listed, m) <= now  # the timer looks at once
    after, facts = advance(listed, m, now)
    (change,) = [f.data for f in facts]
    assert isinstance(change, DeadlineChanged) and change.reason == "calendar" and not change.calendar_assumed
    assert (change.previous_due_at, change.due_at) == ("2027-01-04T15:59:59.999999Z", "2027-01-08T15:59:59.999999Z")
    assert facts[0].key == ("deadline_changed", "calendar", "accept", "room.361501100201", change.previous_due_at)
    assert after.clock.assumed == () and advance(listed, after, now) == (after, [])
    assert next_breach(listed, after) == after.clock.warn_at


def test_a_due_already_overdue_is_not_recounted_only_the_open_one_after_it(counties):
    without, listed = counties
    m, _ = handle(without, new(), intake(1, registered(), MONDAY), MONDAY)
    m, facts = advance(without, m, datetime(2027, 1, 5, 9, tzinfo=SH))  # the room's due passed: to the station
    assert [type(f.data).__name__ for f in facts][-2:] == ["Overdue", "Escalated"], facts
    _, facts = advance(listed, m, datetime(2027, 1, 5, 10, tzinfo=SH))
    changes = [f.data for f in facts if isinstance(f.data, DeadlineChanged)]
    assert [(c.unit, c.previous_due_at) for c in changes] == [("station.361501100000", rfc3339(m.clock.due_at))]


def test_a_due_the_plan_leaves_where_it_was_is_confirmed_and_no_longer_marked(counties):
    without, listed = counties
    march = datetime(2027, 3, 1, 10, tzinfo=SH)  # 5 working days to Mon 8 March: no holiday of the plan between
    m, facts = handle(without, new(), intake(1, registered(), march), march)
    assert facts[0].data.due[0].calendar_assumed
    m = replace(m, clock=replace(m.clock, warned=True))  # its warning already sent
    after, facts = advance(listed, m, march)
    (change,) = [f.data for f in facts]
    assert isinstance(change, DeadlineChanged) and change.reason == "calendar" and not change.calendar_assumed
    assert change.due_at == change.previous_due_at == rfc3339(m.clock.due_at)
    assert after.clock == replace(m.clock, assumed=())  # the same due, its warning not sent again
    assert advance(listed, after, march) == (after, [])

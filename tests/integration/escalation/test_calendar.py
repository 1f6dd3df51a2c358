"""A working-day county with and without next year's holiday plan, against the real Kafka (one worker).

The registration is dated in the last week of the year before the first one chinesecalendar does not cover
(2027 with chinesecalendar 1.11): its 5-working-day accept limit reaches that year.  Without a plan the due is
counted Monday–Friday and marked ``calendar_assumed``; the county file then lists the year (a made-up plan),
the worker restarts, and the open due is counted again: one deadline change, its id derived from the due it
replaces, the new due as the county's own arithmetic gives it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.escalation import ROOM, Routing, Run, get, registered, utcnow, wait_ready
from support.process import ROOT
from xinfang.calendar import WorkCalendar
from xinfang.county import load_county
from xinfang.events import derived_event_id
from xinfang.events.envelope import rfc3339

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
WORKING = ROOT / "tests" / "fixtures" / "county_working.yaml"


def first_unplanned_year() -> int:
    """The first year after this one with no holiday plan in chinesecalendar."""
    national, year = WorkCalendar.china(), utcnow().astimezone(SH).year + 1
    while national.covers(year):
        year += 1
    return year


def invented_plan(year: int) -> str:
    """A made-up plan for ``year``: New Year's Day and the three weekdays after the first weekend off, plus an
    unplanned year before it listed plain (it had no plan either)."""
    first_monday = date(year, 1, 1) + timedelta(days=(7 - date(year, 1, 1).weekday()) % 7 or 7)
    days = [date(year, 1, 1)] + [first_monday + timedelta(days=i) for i in range(3)]
    lines = ["calendar:", f"  {year}:", f"    holidays: [{', '.join(d.isoformat() for d in days)}]", "    workdays: []"]
    if not WorkCalendar.china().covers(year - 1):
        lines += [f"  {year - 1}:", "    holidays: []", "    workdays: []"]
    return "\n".join(lines) + "\n"


def test_a_due_over_an_unplanned_year_is_marked_and_recounted_once_the_county_lists_the_year(
        settings, kafka_bootstrap, tmp_path):
    year = first_unplanned_year()
    county_file = tmp_path / "county.yaml"
    county_file.write_text(WORKING.read_text())
    run = Run(settings, tmp_path, county_file)
    routing = None
    worker = run.worker().start(timeout=90)
    try:
        wait_ready([worker], run.partitions, timeout=90)
        ready = get(worker, "/readyz").json()
        if year == utcnow().astimezone(SH).year + 1:  # the years shown are this one and the next
            assert year in ready["calendar"]["assumed"], ready
            assert f'xinfang_calendar_assumed_years{{year="{year}"}} 1.0' in get(worker, "/metrics").text
        assert any(span.endswith(str(year - 1)) or span == str(year - 1) for span in ready["calendar"]["covered"]) \
            or not WorkCalendar.china().covers(year - 1), ready
        last_week = datetime(year - 1, 12, 27, 10, tzinfo=SH)  # a day in the last week: 5 working days reach `year`
        pid = str(uuid.uuid4())
        run.send(pid, registered(), last_week)
        run.flush()
        routing = Routing(run.settings.kafka_bootstrap, run.settings.topic_routing)
        routing.wait(lambda r: "assigned" in r.types(pid), 60, "the assignment")
        assumed_due = routing.by_pid[pid][0]["data"]["due"][0]
        assert assumed_due["calendar_assumed"] is True, assumed_due

        worker.stop()
        county_file.write_text(WORKING.read_text() + "\n" + invented_plan(year))
        listed = load_county(county_file)
        expected = rfc3339(listed.due(last_week, "village", "accept"))
        assert expected != assumed_due["due_at"]  # the plan moves this due: the recount must show
        worker.start(timeout=90)
        wait_ready([worker], run.partitions, timeout=90)
        assert year not in get(worker, "/readyz").json()["calendar"]["assumed"]
        later = str(uuid.uuid4())
        run.send(later, registered(), last_week)  # counted with the plan from the start: not assumed
        run.flush()
        routing.wait(lambda r: "deadline_changed" in r.types(pid) and "assigned" in r.types(later), 60,
                     "the recount and the later assignment")
        changes = [e for e in routing.by_pid[pid] if e["type"] == "petition.deadline_changed.v2"]
        assert len(changes) == 1, changes
        change = changes[0]
        assert change["data"] == {"unit": ROOM, "stage": "accept", "due_at": expected,
                                  "previous_due_at": assumed_due["due_at"], "reason": "calendar",
                                  "calendar_assumed": False}
        assert change["id"] == derived_event_id(pid, "deadline_changed", "calendar", "accept", ROOM,
                                                assumed_due["due_at"])
        fresh = routing.by_pid[later][0]["data"]["due"][0]
        assert (fresh["due_at"], fresh["calendar_assumed"]) == (expected, False)
    finally:
        if routing is not None:
            routing.close()
        worker.stop()
        run.close()

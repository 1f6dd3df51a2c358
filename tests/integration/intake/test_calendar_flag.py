"""Calendars that say what they don't know, at intake: a due escalation counted over a year with no holiday plan
shows ``calendar_assumed`` and 按周一至周五推算，待公布节假日安排 on the matter and the worklist until the recount
replaces it; intake's start-up log, ``/readyz`` and ``/metrics`` list the years covered and assumed."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from support.intake import BUREAU, VILLAGE, VILLAGE_CODE, start_intake
from support.process import ROOT
from xinfang.calendar import WorkCalendar
from xinfang.county import load_county
from xinfang.coverage import coverage
from xinfang.events.catalogue import Assigned, DeadlineChanged, Due
from xinfang.vocabulary import CALENDAR_ASSUMED_LABEL

pytestmark = pytest.mark.integration
ACCEPT, WARN = "2030-01-04T15:59:59.999999Z", "2030-01-03T10:00:00.000000Z"
RECOUNTED = "2030-01-07T15:59:59.999999Z"
DEMO = ROOT / "deploy" / "counties" / "demo.yaml"
WORKING = ROOT / "tests" / "fixtures" / "county_working.yaml"  # no plan of its own: next year is assumed


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def worklist_item(intake, pid: str) -> dict:
    items = intake.get("/v1/worklist", unit=VILLAGE).json()
    return next(item for item in items if item["petition_id"] == pid)


def test_a_due_over_an_assumed_year_is_flagged_on_the_matter_and_the_worklist_until_recounted(intake):
    pid = intake.register()["petition_id"]
    matter = intake.get(f"/v1/petitions/{pid}", unit=BUREAU).json()
    due = [Due(stage="accept", due_at=ACCEPT, warn_at=WARN, calendar_assumed=True)]
    intake.send_routing(pid, Assigned(unit=VILLAGE, tier="village", jurisdiction=VILLAGE_CODE, rule="test",
                                      stage="accept", due=due, basis_seq=matter["version"] + 100),
                        datetime.fromisoformat(matter["registered_at"]))
    routed = intake.wait_for(pid, lambda m: m["holder_unit"] == VILLAGE, why="intake applying the assignment")
    [shown] = routed["due"]
    assert (shown["stage"], when(shown["due_at"])) == ("accept", when(ACCEPT))
    assert (shown["calendar_assumed"], shown["calendar_label"]) == (True, CALENDAR_ASSUMED_LABEL), routed
    item = worklist_item(intake, pid)
    assert when(item["next_due_at"]) == when(ACCEPT)
    assert (item["calendar_assumed"], item["calendar_label"]) == (True, CALENDAR_ASSUMED_LABEL), item

    # the county file lists the year, escalation restarts and recounts: the flag goes with the old due
    intake.send_routing(pid, DeadlineChanged(unit=VILLAGE, stage="accept", due_at=RECOUNTED, previous_due_at=ACCEPT,
                                             reason="calendar", calendar_assumed=False))
    recounted = intake.wait_for(pid, lambda m: [when(d["due_at"]) for d in m["due"]] == [when(RECOUNTED)],
                                why="intake applying the recount")
    assert (recounted["due"][0]["calendar_assumed"], recounted["due"][0]["calendar_label"]) == (False, None)
    item = worklist_item(intake, pid)
    assert when(item["next_due_at"]) == when(RECOUNTED)
    assert (item["calendar_assumed"], item["calendar_label"]) == (False, None), item


def assert_lists_its_calendar(service, county_file) -> dict:
    """``/readyz``, ``/metrics`` and the start-up log of ``service`` list what the calendar of ``county_file``
    covers and assumes; that coverage."""
    county = load_county(county_file)
    expected = coverage(county.work_calendar, datetime.now(county.zone))
    assert expected["covered"], expected
    ready = service.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["calendar"] == expected
    metrics = service.http.get("/metrics").text
    assert "# TYPE xinfang_calendar_assumed_years gauge" in metrics
    series = re.findall(r'^xinfang_calendar_assumed_years\{year="(\d+)"\} 1\.0$', metrics, re.MULTILINE)
    assert series == [str(year) for year in expected["assumed"]], metrics  # one series per assumed year, none else
    log = service.proc.log.read_text(errors="replace")
    assert f"calendar covers {', '.join(expected['covered'])}" in log, log[-2000:]
    if expected["assumed"]:
        assert f"{', '.join(map(str, expected['assumed']))} assumed Monday–Friday" in log, log[-2000:]
    return expected


def test_intake_says_which_years_its_calendar_covers(intake):
    assert_lists_its_calendar(intake, DEMO)  # the file the fixture's intake reads; it lists next year's plan


def test_intake_says_which_years_its_calendar_assumes(settings, kafka_bootstrap, pg_dsn, tmp_path):
    service = start_intake(settings, pg_dsn, tmp_path, XINFANG_COUNTY_FILE=str(WORKING))
    try:
        expected = assert_lists_its_calendar(service, WORKING)
    finally:
        service.proc.stop()
        service.producer.close()
    next_year = datetime.now(load_county(WORKING).zone).year + 1
    if not WorkCalendar.china().covers(next_year):  # 2027 with chinesecalendar 1.11
        assert next_year in expected["assumed"], expected

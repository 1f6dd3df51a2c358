"""Deadline arithmetic over real holidays: the civil-code counting of xinfang.calendar.

2026 facts (chinesecalendar 1.11, State Council notice): Spring Festival off 15–23 Feb, make-up
working days Sat 14 Feb and Sat 28 Feb; Mid-Autumn off 25–27 Sep; National Day off 1–7 Oct,
make-up working days Sun 20 Sep and Sat 10 Oct.  2027 comes only from the county file.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xinfang.calendar import END_OF_DAY, WorkCalendar, warning_time
from xinfang.county import load_county

SH = ZoneInfo("Asia/Shanghai")
DEMO = Path(__file__).resolve().parents[2] / "deploy" / "counties" / "demo.yaml"
PLAN_2027 = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "calendar_2027_demo_invented.yaml"
NATIONAL = WorkCalendar.china()


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SH).replace(hour=hour)


def end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), END_OF_DAY, SH)


@pytest.fixture(scope="module")
def county_2027(tmp_path_factory) -> WorkCalendar:
    """The demo county's calendar with a 2027 list added (an invented one: tests/fixtures)."""
    listed = tmp_path_factory.mktemp("county") / "demo_with_2027.yaml"
    listed.write_text(DEMO.read_text() + "\n" + PLAN_2027.read_text())
    return load_county(listed).work_calendar


@pytest.mark.parametrize("start, n, unit, due, why", [
    # National Day 2026
    ("2026-09-15", 15, "calendar", "2026-09-30", "ends on a working day: stays"),
    ("2026-09-16", 15, "calendar", "2026-10-08", "ends 1 Oct: moves past the whole holiday"),
    ("2026-09-22", 15, "calendar", "2026-10-08", "ends 7 Oct, last holiday: next working day"),
    ("2026-09-25", 15, "calendar", "2026-10-10", "ends Sat 10 Oct, a make-up working day: stays"),
    ("2026-09-05", 15, "calendar", "2026-09-20", "ends Sun 20 Sep, a make-up working day: stays"),
    ("2026-08-02", 60, "calendar", "2026-10-08", "60-day limit ending 1 Oct"),
    ("2026-09-29", 3, "working", "2026-10-09", "30 Sep, then 8 and 9 Oct"),
    ("2026-09-29", 5, "working", "2026-10-12", "counts the Saturday make-up day 10 Oct"),
    ("2026-09-18", 1, "working", "2026-09-20", "Sun 20 Sep is a make-up working day"),
    ("2026-09-24", 1, "working", "2026-09-28", "Mid-Autumn 25–27 Sep skipped"),
    # Spring Festival 2026
    ("2026-02-01", 15, "calendar", "2026-02-24", "ends 16 Feb, in the holiday: moves to 24 Feb"),
    ("2026-01-30", 15, "calendar", "2026-02-14", "ends Sat 14 Feb, make-up day: stays"),
    ("2026-02-13", 15, "calendar", "2026-02-28", "ends Sat 28 Feb, make-up day: stays"),
    ("2026-02-12", 3, "working", "2026-02-24", "13 Feb, Sat 14 Feb, then 24 Feb"),
    ("2026-02-12", 5, "working", "2026-02-26", "holiday 15–23 Feb skipped"),
    ("2026-02-24", 4, "working", "2026-02-28", "Sat 28 Feb counts as a working day"),
    # ordinary days
    ("2026-03-06", 15, "calendar", "2026-03-23", "ends on a Saturday: Monday"),
    ("2026-03-02", 1, "calendar", "2026-03-03", "start day not counted"),
    ("2026-03-02", 1, "working", "2026-03-03", "start day not counted"),
    ("2026-03-06", 1, "working", "2026-03-09", "Friday + 1 working day is Monday"),
    ("2026-03-07", 1, "working", "2026-03-09", "starting on a rest day"),
    ("2026-03-02", 0, "calendar", "2026-03-02", "no days: end of the start day"),
])
def test_due_times_in_2026(start, n, unit, due, why):
    assert NATIONAL.add_days(at(start), n, unit) == end_of(due), why


@pytest.mark.parametrize("start, n, unit, national_only, with_county_list", [
    ("2027-09-29", 3, "working", "2027-10-04", "2027-10-09"),   # National Day, Sat 9 Oct make-up
    ("2027-09-16", 15, "calendar", "2027-10-01", "2027-10-08"),
    ("2027-02-03", 2, "working", "2027-02-05", "2027-02-15"),   # Spring Festival 5–13 Feb
    ("2026-12-01", 60, "calendar", "2027-02-01", "2027-01-31"),  # Sat 30 Jan → Sun 31 Jan make-up
    ("2027-03-10", 5, "working", "2027-03-17", "2027-03-17"),   # no holiday: both agree
])
def test_2027_with_and_without_the_county_list(start, n, unit, national_only, with_county_list, county_2027):
    assert WorkCalendar.china().add_days(at(start), n, unit) == end_of(national_only)
    assert county_2027.add_days(at(start), n, unit) == end_of(with_county_list)


def test_a_year_without_data_warns_once_naming_the_year(caplog):
    calendar = WorkCalendar.china()
    with caplog.at_level(logging.WARNING, logger="xinfang.calendar"):
        assert calendar.is_working_day(date(2027, 10, 1))      # a Friday: weekends-only fallback
        assert not calendar.is_working_day(date(2027, 10, 2))
        calendar.add_days(at("2027-09-16"), 60, "working")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "2027" in warnings[0]


def test_the_county_list_makes_the_year_known(caplog, county_2027):
    with caplog.at_level(logging.WARNING, logger="xinfang.calendar"):
        assert not county_2027.is_working_day(date(2027, 10, 1))
        assert county_2027.is_working_day(date(2027, 10, 9))
        assert not caplog.records
        county_2027.is_working_day(date(2028, 3, 1))
    assert "2028" in caplog.records[0].getMessage()


def test_the_county_list_wins_over_the_package():
    calendar = WorkCalendar.china(holidays=[date(2026, 10, 8)], workdays=[date(2026, 10, 7)])
    assert calendar.is_working_day(date(2026, 10, 7))
    assert not calendar.is_working_day(date(2026, 10, 8))
    assert calendar.add_days(at("2026-09-22"), 15, "calendar") == end_of("2026-10-07")
    assert calendar.add_days(at("2026-09-23"), 15, "calendar") == end_of("2026-10-09")


def test_due_time_is_end_of_the_local_day():
    # 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai: the start day is 2 March.
    start = datetime(2026, 3, 1, 17, 30, tzinfo=timezone.utc)
    due = NATIONAL.add_days(start, 1, "calendar")
    assert due == datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=SH)
    assert due.astimezone(timezone.utc) == datetime(2026, 3, 3, 15, 59, 59, 999999, tzinfo=timezone.utc)
    assert NATIONAL.add_days(start, 1, "calendar", "UTC") == datetime(2026, 3, 2, 23, 59, 59, 999999,
                                                                       tzinfo=ZoneInfo("UTC"))


def test_seconds_are_plain_elapsed_time_even_on_holidays():
    start = datetime(2026, 10, 1, 23, 59, 58, tzinfo=SH)
    assert NATIONAL.add_days(start, 4, "seconds") == start + timedelta(seconds=4)


@pytest.mark.parametrize("args, message", [
    ((datetime(2026, 3, 2, 10), 1, "calendar"), "timezone-aware"),
    ((at("2026-03-02"), -1, "calendar"), "negative"),
    ((at("2026-03-02"), -1, "seconds"), "negative"),
    ((at("2026-03-02"), 1, "fortnights"), "unknown unit"),
])
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        NATIONAL.add_days(*args)


@pytest.mark.parametrize("a, b, count", [
    ("2026-09-30", "2026-10-10", 3),    # 8, 9 and Sat 10 Oct
    ("2026-02-13", "2026-02-28", 6),    # Sat 14, 24–27, Sat 28 Feb
    ("2026-03-02", "2026-03-02", 0),
    ("2026-03-02", "2026-03-09", 5),
    ("2026-03-09", "2026-03-02", -5),
])
def test_working_days_between(a, b, count):
    assert NATIONAL.working_days_between(date.fromisoformat(a), date.fromisoformat(b)) == count


def test_is_working_day_follows_make_up_days():
    assert NATIONAL.is_working_day(date(2026, 2, 14))       # Saturday, 调休
    assert not NATIONAL.is_working_day(date(2026, 2, 16))   # Monday, Spring Festival
    assert not NATIONAL.is_working_day(date(2026, 3, 7))    # ordinary Saturday


def test_warning_time_is_the_fraction_of_the_limit():
    start = at("2026-03-02", 0)
    assert warning_time(start, start + timedelta(seconds=10), 0.8) == start + timedelta(seconds=8)
    with pytest.raises(ValueError):
        warning_time(start, start, 0)


def test_the_package_covers_2026_and_2027_is_assumed_until_a_county_lists_it(county_2027):
    assert NATIONAL.covers(2026) and not NATIONAL.covers(2027)
    assert NATIONAL.covered_years()[-1] == 2026 and 2004 in NATIONAL.covered_years()
    assert NATIONAL.assumed_years(date(2026, 12, 1)) == [2027]
    assert NATIONAL.assumed_years(date(2026, 12, 1), ahead=2) == [2027, 2028]
    assert county_2027.covers(2027) and county_2027.assumed_years(date(2026, 12, 1)) == []
    assert county_2027.assumed_years(date(2027, 6, 1)) == [2028]


def test_a_due_counted_over_an_assumed_year_names_it():
    assert NATIONAL.assumed_between(date(2026, 12, 20), date(2027, 1, 8)) == (2027,)
    assert NATIONAL.assumed_between(date(2027, 1, 8), date(2026, 12, 20)) == (2027,)
    assert NATIONAL.assumed_between(date(2026, 3, 1), date(2026, 12, 31)) == ()
    assert NATIONAL.assumed_between(date(2026, 12, 1), date(2028, 1, 3)) == (2027, 2028)


def test_without_a_year_is_the_calendar_before_the_county_listed_it(county_2027):
    before = county_2027.without([2027])
    assert not before.covers(2027) and before.covers(2026)
    assert before.is_working_day(date(2027, 2, 8)) and not county_2027.is_working_day(date(2027, 2, 8))
    assert before.due_date(date(2026, 12, 31), 5, "working") == NATIONAL.due_date(date(2026, 12, 31), 5, "working")
    assert county_2027.without([]).holidays == county_2027.holidays

"""Periods in local time: shortcuts, comparisons, bounds, and refusals naming the field."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from reporting.periods import Period, PeriodError, parse_period

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("kwargs, start, end, label", [
    ({"month": "2026-03"}, date(2026, 3, 1), date(2026, 3, 31), "2026年3月"),
    ({"month": "2024-02"}, date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    ({"quarter": "2026Q1"}, date(2026, 1, 1), date(2026, 3, 31), "2026年第一季度"),
    ({"quarter": "2026q4"}, date(2026, 10, 1), date(2026, 12, 31), "2026年第四季度"),
    ({"half": "2026H1"}, date(2026, 1, 1), date(2026, 6, 30), "2026年上半年"),
    ({"half": "2026H2"}, date(2026, 7, 1), date(2026, 12, 31), "2026年下半年"),
    ({"year": "2026"}, date(2026, 1, 1), date(2026, 12, 31), "2026年"),
    ({"from_": "2026-01-05", "to": "2026-02-04"}, date(2026, 1, 5), date(2026, 2, 4), "2026年1月5日至2026年2月4日"),
])
def test_shortcuts(kwargs, start, end, label):
    period = parse_period(**kwargs)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_a_visit_at_2330_on_31_march_local_belongs_to_the_first_quarter():
    start, stop = parse_period(quarter="2026Q1").bounds(SHANGHAI)
    visit = datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)
    assert start <= visit < stop
    assert stop == datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc)
    assert not start <= datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI) < stop


@pytest.mark.parametrize("code, yoy, mom", [
    ("2026Q1", ("2025-01-01", "2025-03-31"), ("2025-10-01", "2025-12-31")),
    ("2026H1", ("2025-01-01", "2025-06-30"), ("2025-07-01", "2025-12-31")),
])
def test_comparison_periods(code, yoy, mom):
    kind = "quarter" if "Q" in code else "half"
    period = parse_period(**{kind: code})
    assert (period.year_before().start.isoformat(), period.year_before().end.isoformat()) == yoy
    assert (period.before().start.isoformat(), period.before().end.isoformat()) == mom
    assert period.before().kind == kind


def test_month_comparisons_keep_month_ends():
    march = parse_period(month="2024-03")
    assert march.before() == Period(date(2024, 2, 1), date(2024, 2, 29), "month")
    feb = parse_period(month="2024-02")
    assert feb.year_before() == Period(date(2023, 2, 1), date(2023, 2, 28), "month")
    jan = parse_period(month="2026-01")
    assert jan.before() == Period(date(2025, 12, 1), date(2025, 12, 31), "month")


def test_a_range_compares_with_as_many_days_just_before_and_a_year_before():
    period = parse_period(from_="2024-02-20", to="2024-02-29")
    assert period.before() == Period(date(2024, 2, 10), date(2024, 2, 19))
    assert period.year_before() == Period(date(2023, 2, 20), date(2023, 2, 28))


def test_months_of_a_period():
    assert [p.code for p in parse_period(quarter="2026Q2").months()] == ["2026-04", "2026-05", "2026-06"]


@pytest.mark.parametrize("kwargs, field", [
    ({}, "period"), ({"quarter": "2026Q5"}, "quarter"), ({"month": "2026-13"}, "month"), ({"month": "March"}, "month"),
    ({"half": "2026H3"}, "half"), ({"year": "26"}, "year"), ({"from_": "2026-01-01"}, "to"), ({"to": "2026-01-01"}, "from"),
    ({"from_": "2026-02-30", "to": "2026-03-01"}, "from"), ({"from_": "2026-03-01", "to": "2026-02-01"}, "to"),
    ({"year": "2026", "month": "2026-01"}, "year"), ({"from_": "2026-01-01", "to": "2026-02-01", "year": "2026"}, "year"),
])
def test_bad_periods_name_the_field(kwargs, field):
    with pytest.raises(PeriodError) as caught:
        parse_period(**kwargs)
    assert caught.value.field == field and caught.value.zh and caught.value.en

"""The working-day calendar and deadline arithmetic (期间计算).

Days are counted as the civil code counts them (民法典 第二百零一条至第二百零三条): the
start day does not count; a limit whose last day is a public holiday or rest day ends on the
next working day; the last day ends at 24:00.  A due time is therefore the END of its due
day in the county's local time — 23:59:59.999999 Asia/Shanghai unless the county says
otherwise — read as "by the end of day N".

Working days follow China's public holidays and make-up working days (调休): the
``chinesecalendar`` package for 2004–2026, merged with the county file's own lists (the
county wins on a date both list).  A year nobody has data for falls back to Monday–Friday,
with one warning per year; such a year is *assumed*, not covered, and a due counted over it says so
(:meth:`WorkCalendar.assumed_between`), so that it can be recounted once the county lists the year
(:meth:`WorkCalendar.without` is the calendar it was counted with).  Test counties may count plain
elapsed ``seconds`` instead.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

TimeUnit = Literal["calendar", "working", "seconds"]
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59, 999999)
_ONE_DAY = timedelta(days=1)


class WorkCalendar:
    """Which days are working days: holidays and make-up days by date, known years, weekends."""

    def __init__(self, holidays: set[date], workdays: set[date], known_years: set[int]) -> None:
        overlap = holidays & workdays
        if overlap:
            raise ValueError(f"既是假日又是工作日 both holiday and working day: {sorted(overlap)}")
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.known_years = frozenset(known_years)
        self._warned: set[int] = set()

    @classmethod
    def china(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = (),
              years: Iterable[int] = ()) -> WorkCalendar:
        """China's calendar from chinesecalendar, overridden and extended by a county's lists.

        A year in ``years`` (or with any date listed) counts as known: list it in full.
        """
        own_holidays, own_workdays = set(holidays), set(workdays)
        national_holidays = set(chinese_calendar.holidays) - own_workdays
        national_workdays = set(chinese_calendar.workdays) - own_holidays
        known = {d.year for d in chinese_calendar.holidays} | set(years)
        known |= {d.year for d in own_holidays | own_workdays}
        return cls(national_holidays | own_holidays, national_workdays | own_workdays, known)

    def covers(self, year: int) -> bool:
        """True if the year's holidays and make-up days are known (not assumed Monday–Friday)."""
        return year in self.known_years

    def covered_years(self) -> list[int]:
        """The years with a holiday plan, in order."""
        return sorted(self.known_years)

    def assumed_years(self, today: date, ahead: int = 1) -> list[int]:
        """Of this year and the ``ahead`` next (where dues computed today fall), those without a plan."""
        return [y for y in range(today.year, today.year + ahead + 1) if y not in self.known_years]

    def assumed_between(self, a: date, b: date) -> tuple[int, ...]:
        """The years from a's to b's (either order) that this calendar assumes."""
        low, high = sorted((a.year, b.year))
        return tuple(y for y in range(low, high + 1) if y not in self.known_years)

    def without(self, years: Iterable[int]) -> WorkCalendar:
        """This calendar as it was before ``years`` were listed: those years assumed Monday–Friday."""
        gone = set(years)
        return WorkCalendar({d for d in self.holidays if d.year not in gone},
                            {d for d in self.workdays if d.year not in gone}, set(self.known_years) - gone)

    def is_working_day(self, day: date) -> bool:
        """True on a working day: a make-up day, or a weekday that is not a holiday."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year not in self.known_years and day.year not in self._warned:
            self._warned.add(day.year)
            log.warning("%d 年无节假日数据，按周一至周五计算工作日 no holiday data for %d: "
                        "counting Monday–Friday only; list the year in the county file",
                        day.year, day.year)
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The day itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def due_date(self, start: date, n: int, unit: Literal["calendar", "working"]) -> date:
        """The last day of an n-day limit counted from start (start day not counted)."""
        if n < 0:
            raise ValueError(f"期限不能为负 a limit cannot be negative: {n}")
        if unit == "calendar":
            return self.next_working_day(start + timedelta(days=n)) if n else start
        if unit != "working":
            raise ValueError(f"未知的期限单位 unknown unit {unit!r}")
        day = start
        for _ in range(n):
            day = self.next_working_day(day + _ONE_DAY)
        return day

    def add_days(self, start: datetime, n: int, unit: TimeUnit, tz: tzinfo | str = DEFAULT_TZ) -> datetime:
        """Due time of an n-unit limit from start: end of the due day in tz, or start + n seconds."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("起算时间必须带时区 start must be timezone-aware")
        if unit == "seconds":
            if n < 0:
                raise ValueError(f"期限不能为负 a limit cannot be negative: {n}")
            return start + timedelta(seconds=n)
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        due = self.due_date(start.astimezone(zone).date(), n, unit)
        return datetime.combine(due, END_OF_DAY, tzinfo=zone)

    def working_warning(self, start: datetime, due: datetime, fraction: float, opens: time,
                        tz: tzinfo | str = DEFAULT_TZ) -> datetime:
        """When to warn on a working-day limit: once the fraction of its working days has passed.

        Of n working days from start's day to due's day, ⌊fraction·n⌋ must have passed: the warning
        is dated at the office opening (``opens``) of the next working day — of 5 days, the 5th at
        08:30; of 1 day, that day at 08:30 — never at a fraction of the wall-clock span.
        """
        warning_time(start, due, fraction)  # the same check of the fraction
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        first, last = start.astimezone(zone).date(), due.astimezone(zone).date()
        passed = math.floor(fraction * self.working_days_between(first, last) + 1e-9)  # 0.8·15 is 12.000…02
        return datetime.combine(self.due_date(first, passed + 1, "working"), opens, tzinfo=zone)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after a up to and including b (negative when b is before a)."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def warning_time(start: datetime, due: datetime, fraction: float) -> datetime:
    """When to warn: after the given fraction of the time from start to due has passed."""
    if not 0 < fraction <= 1:
        raise ValueError(f"预警比例须在 (0, 1] 之间 warning fraction must be in (0, 1]: {fraction}")
    return start + (due - start) * fraction

"""Reporting periods in the county's local time: month, quarter, half-year, year or a range of days.

A period is a range of local calendar days, both ends included; :meth:`Period.bounds` turns it
into the instants ``[start, end)`` the queries compare occurred times with, so a visit at 23:30 on
31 March (local) belongs to the first quarter even though it is 15:30 UTC.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["month", "quarter", "half", "year", "range"]
_QUARTER_ZH = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


class PeriodError(ValueError):
    """A period parameter that cannot be read: the field, and why in Chinese and English."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(f"{field}: {en}")
        self.field, self.zh, self.en = field, zh, en


@dataclass(frozen=True)
class Period:
    """Local days ``start`` … ``end`` (inclusive), and what kind of period they make."""

    start: date
    end: date
    kind: Kind = "range"

    @property
    def label(self) -> str:
        """How a report names it: 2026年3月, 2026年第一季度, 2026年上半年, 2026年, or a range of days."""
        s = self.start
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年{_QUARTER_ZH[(s.month - 1) // 3 + 1]}"
        if self.kind == "half":
            return f"{s.year}年{'上' if s.month == 1 else '下'}半年"
        if self.kind == "year":
            return f"{s.year}年"
        return f"{_day(self.start)}至{_day(self.end)}"

    @property
    def code(self) -> str:
        """The shortcut that names it (2026-03, 2026Q1, 2026H1, 2026) or from..to."""
        s = self.start
        return {"month": f"{s.year}-{s.month:02d}", "quarter": f"{s.year}Q{(s.month - 1) // 3 + 1}",
                "half": f"{s.year}H{1 if s.month == 1 else 2}", "year": f"{s.year}"}.get(
            self.kind, f"{self.start.isoformat()}..{self.end.isoformat()}")

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants (UTC) where the period starts and where the next one starts."""
        start = datetime.combine(self.start, time(), zone)
        stop = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return start.astimezone(timezone.utc), stop.astimezone(timezone.utc)

    def year_before(self) -> Period:
        """同比: the same period a year earlier."""
        if self.kind == "range":
            return Period(_minus_year(self.start), _minus_year(self.end), "range")
        return Period(_minus_year(self.start), _month_end(self.end.year - 1, self.end.month), self.kind)

    def before(self) -> Period:
        """环比: the period just before, of the same kind (a range: as many days, just before)."""
        if self.kind == "range":
            days = (self.end - self.start).days + 1
            return Period(self.start - timedelta(days=days), self.start - timedelta(days=1), "range")
        months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]
        first = _add_months(self.start, -months)
        last = _add_months(first, months - 1)
        return Period(first, _month_end(last.year, last.month), self.kind)

    def months(self) -> list[Period]:
        """The calendar months the period touches, clipped to it."""
        found, first = [], date(self.start.year, self.start.month, 1)
        while first <= self.end:
            last = _month_end(first.year, first.month)
            found.append(Period(max(first, self.start), min(last, self.end), "month"))
            first = last + timedelta(days=1)
        return found


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _year(text: str, field: str) -> int:
    if not re.fullmatch(r"\d{4}", text) or not 1900 <= int(text) <= 2999:
        raise PeriodError(field, f"年份格式应为 YYYY：{text!r}", f"year must be YYYY: {text!r}")
    return int(text)


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(field, f"日期格式应为 YYYY-MM-DD：{text!r}", f"date must be YYYY-MM-DD: {text!r}") from None


def parse_period(*, from_: str | None = None, to: str | None = None, month: str | None = None,
                 quarter: str | None = None, half: str | None = None, year: str | None = None) -> Period:
    """Exactly one way of naming a period: from+to, month=2026-03, quarter=2026Q1, half=2026H1 or year=2026."""
    given = [name for name, value in (("from", from_), ("to", to), ("month", month), ("quarter", quarter),
                                      ("half", half), ("year", year)) if value]
    shortcuts = [name for name in given if name not in ("from", "to")]
    if not given:
        raise PeriodError("period", "须指定统计期间：from/to、month、quarter、half 或 year",
                          "give a period: from and to, month, quarter, half or year")
    if len(shortcuts) > 1 or (shortcuts and len(given) > 1):
        field = shortcuts[1] if len(shortcuts) > 1 else shortcuts[0]
        raise PeriodError(field, "统计期间只能用一种方式指定", f"give one period only, not {' and '.join(given)}")
    if month:
        m = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not m or not 1 <= int(m[2]) <= 12:
            raise PeriodError("month", f"月份格式应为 YYYY-MM：{month!r}", f"month must be YYYY-MM: {month!r}")
        y, mo = _year(m[1], "month"), int(m[2])
        return Period(date(y, mo, 1), _month_end(y, mo), "month")
    if quarter:
        m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", quarter)
        if not m:
            raise PeriodError("quarter", f"季度格式应为 YYYYQn：{quarter!r}", f"quarter must be YYYYQ1..YYYYQ4: {quarter!r}")
        y, q = _year(m[1], "quarter"), int(m[2])
        return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), "quarter")
    if half:
        m = re.fullmatch(r"(\d{4})-?[Hh]([12])", half)
        if not m:
            raise PeriodError("half", f"半年格式应为 YYYYH1 或 YYYYH2：{half!r}", f"half must be YYYYH1 or YYYYH2: {half!r}")
        y, h = _year(m[1], "half"), int(m[2])
        return Period(date(y, 6 * h - 5, 1), _month_end(y, 6 * h), "half")
    if year:
        y = _year(year, "year")
        return Period(date(y, 1, 1), date(y, 12, 31), "year")
    if not from_ or not to:
        missing = "to" if from_ else "from"
        raise PeriodError(missing, f"from 和 to 须同时给出，缺少 {missing}", f"from and to go together; {missing} is missing")
    start, end = _date(from_, "from"), _date(to, "to")
    if end < start:
        raise PeriodError("to", "结束日期早于开始日期", "to is before from")
    if (end - start).days > 366 * 10:
        raise PeriodError("to", "统计期间不能超过十年", "a period spans at most ten years")
    return Period(start, end, "range")

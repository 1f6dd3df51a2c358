"""What a service that computes dues knows of the calendar: the years covered by a holiday plan and the
years it assumes Monday–Friday for (:mod:`xinfang.calendar`), said at start, on ``/readyz`` and as the
gauge ``xinfang_calendar_assumed_years`` (one series per assumed year, value 1; none when all is known)."""
from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge

from xinfang.calendar import WorkCalendar
from xinfang.county import County


def _spans(years: list[int]) -> list[str]:
    spans: list[list[int]] = []
    for y in years:
        if spans and spans[-1][1] == y - 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return [f"{a}" if a == b else f"{a}–{b}" for a, b in spans]


def coverage(calendar: WorkCalendar, now: datetime) -> dict:
    """``{"covered": ["2004–2026"], "assumed": [2027]}``: the years dues computed at ``now`` may reach."""
    return {"covered": _spans(calendar.covered_years()), "assumed": calendar.assumed_years(now.date())}


class CalendarCoverage:
    """The county's calendar coverage for one service: logged at start, read by ``/readyz``, gauged."""

    def __init__(self, county: County, registry: CollectorRegistry, log: logging.Logger) -> None:
        self.county, self.log = county, log
        self.gauge = Gauge("xinfang_calendar_assumed_years", "years dues may reach with no holiday plan "
                           "(counted Monday–Friday): 1 per such year", ["year"], registry=registry)

    def now(self) -> dict:
        """The coverage as of now (the gauge follows)."""
        seen = coverage(self.county.work_calendar, datetime.now(self.county.zone))
        self.gauge.clear()
        for year in seen["assumed"]:
            self.gauge.labels(str(year)).set(1)
        return seen

    def announce(self) -> dict:
        """Log the coverage (a warning when a year is assumed); the coverage."""
        seen = self.now()
        if seen["assumed"]:
            self.log.warning("节假日安排覆盖 %s 年；%s 年无安排，按周一至周五推算，待公布节假日安排后在县配置文件中补充 "
                             "calendar covers %s; %s assumed Monday–Friday until the county file lists them",
                             "、".join(seen["covered"]), "、".join(map(str, seen["assumed"])),
                             ", ".join(seen["covered"]), ", ".join(map(str, seen["assumed"])), extra={"calendar": seen})
        else:
            self.log.info("节假日安排覆盖 %s 年 calendar covers %s", "、".join(seen["covered"]),
                          ", ".join(seen["covered"]), extra={"calendar": seen})
        return seen

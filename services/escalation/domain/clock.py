"""Deadline arithmetic of one stage: due and warning times, extension, the paused clock.

A clock's times come from when things happened (occurred time), never from when the worker
learned them.  Limits are the county's per tier and stage (``County.due``); the warning falls
at the county's fraction of the limit's running time (pauses do not count), on a working-day
limit at the office's opening once that fraction of its working days has passed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from xinfang.calendar import END_OF_DAY, warning_time
from xinfang.county import County

CLOCK_STAGES = ("accept", "handle", "review", "recheck")


@dataclass(frozen=True)
class Clock:
    """A running (or paused) time limit: which unit must act at which stage, and by when."""

    stage: str
    unit: str
    tier: str
    started_at: datetime  # moved later by every pause: the time since it is the limit's running time
    due_at: datetime
    warn_at: datetime
    warned: bool = False
    overdue_at: datetime | None = None  # time of the latest overdue report; None: not overdue
    suspended_at: datetime | None = None  # the clock stands still from here (听证 etc.)
    assumed: tuple[int, ...] = ()  # years the due was counted over with no holiday plan (Monday–Friday)

    @property
    def running(self) -> bool:
        return self.suspended_at is None


def warning(county: County, tier: str, stage: str, start: datetime, due: datetime) -> datetime:
    """When to warn of a limit running from ``start`` to ``due``: after the county's fraction of it;
    on a working-day limit, at the office's opening once that fraction of its working days has passed."""
    if county.limit(tier, stage).unit == "working":
        return county.work_calendar.working_warning(start, due, county.warning_fraction,
                                                    county.office_hours.opens, county.zone)
    return warning_time(start, due, county.warning_fraction)


def start(county: County, unit: str, tier: str, stage: str, at: datetime) -> Clock:
    """A stage's clock started at ``at`` for a unit at a tier."""
    due = county.due(at, tier, stage)
    return Clock(stage, unit, tier, at, due, warning(county, tier, stage, at, due),
                 assumed=_assumed(county, tier, stage, at, due))


def _assumed(county: County, tier: str, stage: str, start: datetime, due: datetime) -> tuple[int, ...]:
    if county.limit(tier, stage).unit == "seconds":  # type: ignore[arg-type]
        return ()
    return county.work_calendar.assumed_between(start.astimezone(county.zone).date(), due.astimezone(county.zone).date())


def moved(county: County, clock: Clock, due: datetime) -> Clock:
    """The same stage with a new due time: a new warning time, nothing reported against it yet."""
    return replace(clock, due_at=due, warn_at=warning(county, clock.tier, clock.stage, clock.started_at, due),
                   warned=False, overdue_at=None, assumed=_assumed(county, clock.tier, clock.stage, clock.started_at, due))


def listed_since(county: County, clock: Clock) -> tuple[int, ...]:
    """The years the clock's due was counted over without a plan that the county file now lists."""
    return tuple(y for y in clock.assumed if county.work_calendar.covers(y))


def recounted(county: County, clock: Clock) -> Clock:
    """The due counted again now that the county lists the years it assumed (:func:`listed_since`).

    The count is kept as it was made, over the calendar before those years were listed: a working-day
    limit keeps its number of working days from the start (whatever extensions and pauses added); a
    calendar-day limit keeps the day it fell on before being moved past rest days, taken as the first
    day of the rest days (under the old count) just before its due day.
    """
    new, old = county.work_calendar, county.work_calendar.without(listed_since(county, clock))
    start = clock.started_at.astimezone(county.zone).date()
    due = clock.due_at.astimezone(county.zone).date()
    if county.limit(clock.tier, clock.stage).unit == "working":  # type: ignore[arg-type]
        day = new.due_date(start, old.working_days_between(start, due), "working")
    else:
        while due - timedelta(days=1) > start and not old.is_working_day(due - timedelta(days=1)):
            due -= timedelta(days=1)
        day = new.next_working_day(due)
    return moved(county, clock, datetime.combine(day, END_OF_DAY, tzinfo=county.zone))


def extended(county: County, clock: Clock, days: int) -> Clock:
    """延期: the due time moved by the granted days, at most the tier's extension limit.

    Days count in the unit of the tier's extension limit (calendar or working days; seconds in
    test counties), from the old due time.  Intake refuses more days than ``county.limit(tier,
    "extension")`` and an extension after the due time, so the event's days are the days applied;
    the cap holds for events recorded before intake refused them, so that they replay as they ran.
    """
    ceiling = county.limit(clock.tier, "extension")
    amount = min(days, ceiling.amount)
    due = county.work_calendar.add_days(clock.due_at, amount, ceiling.unit, county.zone)
    return moved(county, clock, due)


def suspended(clock: Clock, at: datetime) -> Clock:
    """The clock stops at ``at``; the due time waits to be moved when it resumes."""
    return clock if clock.suspended_at is not None else replace(clock, suspended_at=at)


def resumed(county: County, clock: Clock, at: datetime) -> Clock:
    """The clock runs again: its start, due and warning times move by the time it stood still.

    Only running time counts, so the warning still falls at the fraction of it, never inside the
    pause; a warning already given stands (one warning per obligation, whatever pauses follow).
    """
    if clock.suspended_at is None:
        return clock
    return replace(clock, started_at=_after_pause(county, clock, clock.started_at, at),
                   due_at=paused_due(county, clock, at),
                   warn_at=clock.warn_at if clock.warned else _after_pause(county, clock, clock.warn_at, at),
                   overdue_at=None, suspended_at=None)


def _paused(county: County, clock: Clock, resumed_at: datetime) -> timedelta | int:
    """How long the clock stood still, as its limit counts: exact time for seconds, else days
    (calendar or working days from the day it stopped to the day it ran again)."""
    assert clock.suspended_at is not None
    unit = county.limit(clock.tier, clock.stage).unit
    if resumed_at <= clock.suspended_at:
        return 0
    if unit == "seconds":
        return resumed_at - clock.suspended_at
    start_day = clock.suspended_at.astimezone(county.zone).date()
    end_day = resumed_at.astimezone(county.zone).date()
    if unit == "working":
        return county.work_calendar.working_days_between(start_day, end_day)
    return (end_day - start_day).days


def _after_pause(county: County, clock: Clock, moment: datetime, resumed_at: datetime) -> datetime:
    """A start or warning time moved by the pause, its local time of day kept (a working day stays one)."""
    pause = _paused(county, clock, resumed_at)
    if isinstance(pause, timedelta):
        return moment + pause
    if not pause:
        return moment
    local = moment.astimezone(county.zone)
    if county.limit(clock.tier, clock.stage).unit == "working":
        day = county.work_calendar.due_date(local.date(), pause, "working")
    else:
        day = local.date() + timedelta(days=pause)
    return datetime.combine(day, local.timetz())


def paused_due(county: County, clock: Clock, resumed_at: datetime) -> datetime:
    """The due time after a pause from ``clock.suspended_at`` to ``resumed_at``.

    Second limits move by the exact pause; day limits by the days of the pause counted as the
    limit counts them (calendar days, or working days), so a due day stays the end of a day.
    """
    pause = _paused(county, clock, resumed_at)
    if isinstance(pause, timedelta):
        return clock.due_at + pause
    limit = county.limit(clock.tier, clock.stage)
    return county.work_calendar.add_days(clock.due_at, pause, limit.unit, county.zone) if pause else clock.due_at


def next_report(county: County, clock: Clock) -> datetime | None:
    """At the top tier an overdue matter is reported again once per limit, counted from the last report."""
    if clock.overdue_at is None:
        return None
    after = county.due(clock.overdue_at, clock.tier, clock.stage)
    return after if after > clock.overdue_at else None


def latest_report(county: County, clock: Clock, now: datetime) -> datetime | None:
    """The last of the top tier's repeated reports that has fallen by ``now`` (None: none has).

    A limit in seconds is plain arithmetic — a matter back-dated by months costs no more than
    one of today's (stepping through every 4-second period of three months took 6–13 s and held
    up every other matter's timer); day limits step once per period (a year of one-day periods:
    about 250 steps, a millisecond).
    """
    at = next_report(county, clock)
    if at is None or at > now:
        return None
    limit = county.limit(clock.tier, clock.stage)
    if limit.unit == "seconds":
        period = at - clock.overdue_at
        return at + period * ((now - at) // period)
    while (following := county.due(at, clock.tier, clock.stage)) <= now and following > at:
        at = following
    return at

"""When a fact may say it happened: the one check of every ``occurred_at`` intake is given.

A live terminal (registrations, visits, actions) may date a fact back by at most the county's
offline window (离线补录期限, ``offline_window``): a terminal that was offline syncs within days;
older history goes through imports, which may reach back to the county's ``history_from``.
Nothing can have happened after intake received it: a time ahead of intake's clock by no more
than a terminal clock's usual error is taken as the time it was received, one further ahead is
refused.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from intake.domain.errors import Refused
from xinfang.county.model import County

#: how far ahead of intake's clock a terminal's clock may run: a fact dated up to this far ahead is
#: recorded as happening when it was received (a phone's clock is often off by tens of seconds)
CLOCK_SKEW = timedelta(minutes=2)


def check_occurred_at(county: County, occurred: datetime | None, recorded: datetime, *, imported: bool = False,
                      field: str = "occurred_at") -> datetime:
    """The occurred time to record for a fact received at ``recorded``; :class:`Refused` naming ``field``."""
    if occurred is None:
        return recorded
    if occurred > recorded + CLOCK_SKEW:
        raise Refused("invalid", "occurred_in_future", "发生时间不能晚于当前时间",
                      f"{field} lies in the future (intake's time is {recorded.isoformat()})", field)
    if imported:
        earliest = datetime.combine(county.history_from, time(), county.zone)
        if occurred < earliest:
            raise Refused("invalid", "before_history_from",
                          f"历史记录的时间不能早于本县导入起始日 {county.history_from.isoformat()}",
                          f"{field} lies before the county's history_from, {county.history_from.isoformat()}",
                          field)
    elif occurred < recorded - county.offline_window:
        days = county.offline_window / timedelta(days=1)
        raise Refused("invalid", "outside_offline_window",
                      f"补录时间不能早于{days:g}天前（离线补录期限），更早的历史请通过导入",
                      f"{field} lies more than the county's offline window ({county.offline_window}) back; "
                      "older history goes through imports", field)
    try:
        occurred.astimezone(timezone.utc)  # how every event writes it
    except OverflowError:  # 0001-01-01T00:00+08:00, in a county whose history_from reaches that far
        raise Refused("invalid", "occurred_out_of_range", "发生时间超出可表示的范围",
                      f"{field} lies outside the representable range", field) from None
    return min(occurred, recorded)


def check_follows(occurred: datetime, after: datetime | None, what_zh: str, what_en: str,
                  field: str = "occurred_at") -> None:
    """A fact cannot have happened before the fact it follows (a visit before its matter's first batch …)."""
    if after is not None and occurred < after:
        raise Refused("invalid", "before_previous",
                      f"发生时间早于{what_zh}（{after.isoformat()}）",
                      f"{field} lies before {what_en} ({after.isoformat()})", field)

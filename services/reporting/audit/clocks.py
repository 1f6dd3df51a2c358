"""The audit's two clocks, named and meant as in ``GET /v1/stats`` (see :mod:`reporting.queries`):

- ``--as-of T``: what had *happened* by T (an event's occurred time ≤ T);
- ``--known-at K``: what the system had *recorded* by K (its recorded time, the CloudEvent ``time``, ≤ K).

Imported history is old by the first and new by the second: the report of 14 April 2019 from history imported
in 2026 is ``--as-of 2019-04-14``; "what could the bureau have known on 14 April" is ``--known-at``.
Neither is the broker's append time: a record is appended after it was recorded (the outbox relays it), so
the replay reads both topics to their end and :class:`Clocks` keeps the rows of the events both clocks
admit — every row carries its event's two times — in the replay's worker processes (it pickles).
The figures are then asked with the same two clocks, so a replay holding only those events and the live
tables holding everything give the same figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reporting.periods import Period, parse_period
from reporting.projection import TABLES, Changes
from reporting.stats import Request
from xinfang.county.model import County

#: per table, where its rows hold the petition id and their event's occurred and recorded times
_PLACES = {name: tuple(next(i for i, (c, _) in enumerate(columns) if c == wanted)
                       for wanted in ("petition_id", "occurred_at", "recorded_at"))
           for name, columns in TABLES.items()}


@dataclass(frozen=True)
class Clocks:
    """What an audit command counts: what had happened by ``as_of`` and been recorded by ``known_at``
    (None: no limit on that clock)."""

    as_of: datetime | None = None
    known_at: datetime | None = None

    def admits(self, occurred: datetime, recorded: datetime) -> bool:
        """Whether an event with these times counts."""
        return (self.as_of is None or occurred <= self.as_of) and (self.known_at is None or recorded <= self.known_at)

    @property
    def limited(self) -> bool:
        return self.as_of is not None or self.known_at is not None

    def __call__(self, changes: Changes) -> Changes:
        """The changes with only the rows of admitted events (offsets and unreadable records untouched), and
        only those rows' matters marked touched."""
        if not self.limited:
            return changes
        touched: dict[str, set[str]] = {}
        for name, rows in changes.rows.items():
            pid, occurred, recorded = _PLACES[name]
            kept = [row for row in rows if self.admits(row[occurred], row[recorded])]
            changes.rows[name] = kept
            if kept:
                touched[name] = {row[pid] for row in kept}
        changes.touched = touched
        return changes

    def request(self, period: Period, jurisdiction: str | None, now: datetime) -> Request:
        """The figures' request with the same clocks; without ``as_of``, what had happened by ``now`` (the
        command's start), so the figures come from the facts and name their moment."""
        return Request(period=period, jurisdiction=jurisdiction, as_of=self.as_of or now, known_at=self.known_at)

    def period(self, county: County, now: datetime, year: str | None = None, quarter: str | None = None,
               month: str | None = None) -> Period:
        """The period asked for, or the local year of the moment the clocks name (as of, else known at, else now)."""
        if year or quarter or month:
            return parse_period(year=year, quarter=quarter, month=month)
        moment = self.as_of or self.known_at or now
        return parse_period(year=str(moment.astimezone(county.zone).year))

    def as_dict(self) -> dict[str, str | None]:
        return {"as_of": _iso(self.as_of), "known_at": _iso(self.known_at)}


EVERYTHING = Clocks()  # no limit on either clock


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()

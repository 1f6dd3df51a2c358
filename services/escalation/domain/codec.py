"""A matter's state as plain JSON values, for the table.

Times are integer microseconds since the Unix epoch (UTC): exact, and much cheaper to write and
read than RFC 3339 text on the hot path.  Reading is tolerant, so that a field added to the state
needs no new layout version (the row's version is the processor's ``Stored``): an unknown field is
ignored, a missing one takes the default of ``Matter`` or ``Clock``.  Only what has no default (the
petition id, a clock's stage, unit, tier and times) must be there.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from escalation.domain.clock import Clock
from escalation.domain.matter import Matter, Sent, Timed, Window
from xinfang.events.chain import ChainLink

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def _t(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def _p(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def clock_to_dict(c: Clock | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"stage": c.stage, "unit": c.unit, "tier": c.tier, "started_at": _t(c.started_at),
            "due_at": _t(c.due_at), "warn_at": _t(c.warn_at), "warned": c.warned,
            "overdue_at": _t(c.overdue_at), "suspended_at": _t(c.suspended_at), "assumed": list(c.assumed)}


def clock_from_dict(d: dict[str, Any] | None) -> Clock | None:
    if d is None:
        return None
    return Clock(d["stage"], d["unit"], d["tier"], _p(d["started_at"]), _p(d["due_at"]), _p(d["warn_at"]),
                 d.get("warned", False), _p(d.get("overdue_at")), _p(d.get("suspended_at")), tuple(d.get("assumed", ())))


def _window(w: Window | None) -> list | None:
    return None if w is None else [w.kind, _t(w.ends_at)]


def _window_from(w: list | None) -> Window | None:
    return None if w is None else Window(w[0], _p(w[1]))


def _timed(b: Timed) -> list:
    return [b.unit, b.tier, b.department, clock_to_dict(b.clock), _window(b.window), b.closed]


def _timed_from(x: list) -> Timed:
    unit, tier, department, clock, window, closed = x
    return Timed(unit, tier, department, clock_from_dict(clock), _window_from(window), closed)


def sent_to_list(s: Sent) -> list:
    return [list(s.key), s.type, _t(s.occurred), _timed(s.before)]


def sent_from_list(x: list) -> Sent:
    key, kind, occurred, before = x
    return Sent(tuple(key), kind, _p(occurred), _timed_from(before))


def to_dict(m: Matter) -> dict[str, Any]:
    """The matter as JSON values."""
    return {
        "petition_id": m.petition_id, "jurisdiction": m.jurisdiction, "category": m.category,
        "head_count": m.head_count, "imported": m.imported, "intake_seq": m.intake_seq,
        "known_at": _t(m.known_at), "head": [m.head.seq, m.head.hash], "basis_seq": m.basis_seq,
        "unit": m.unit, "tier": m.tier, "department": m.department, "redirect": m.redirect,
        "clock": clock_to_dict(m.clock), "answered_by": m.answered_by,
        "window": _window(m.window), "objectors": list(m.objectors), "closed": m.closed,
        "sent": [sent_to_list(s) for s in m.sent],
        "parked": None if m.parked is None else _timed(m.parked),
        "undelivered": None if m.undelivered is None else list(m.undelivered),
    }


# the fields stored as they are (JSON values of their own type); read only when present
_AS_IS = ("jurisdiction", "category", "head_count", "imported", "intake_seq", "basis_seq", "unit", "tier",
          "department", "redirect", "answered_by", "closed")


def from_dict(d: dict[str, Any]) -> Matter:
    """The matter from its JSON values (unknown fields ignored, missing ones defaulted)."""
    head = d.get("head")
    return Matter(
        petition_id=d["petition_id"], **{name: d[name] for name in _AS_IS if name in d},
        known_at=_p(d.get("known_at")), head=ChainLink() if head is None else ChainLink(*head),
        clock=clock_from_dict(d.get("clock")),
        window=_window_from(d.get("window")), objectors=tuple(d.get("objectors", ())),
        sent=tuple(sent_from_list(x) for x in d.get("sent", ())),
        parked=None if d.get("parked") is None else _timed_from(d["parked"]),
        undelivered=None if d.get("undelivered") is None else tuple(d["undelivered"]),
    )

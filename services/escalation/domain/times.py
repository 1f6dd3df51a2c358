"""RFC 3339 text of an instant, as the event contracts spell it (``xinfang.events.envelope.rfc3339``).

The same characters, made by ``isoformat`` in C rather than ``strftime``: it is on every chained
event's hot path.  A unit test holds the two spellings equal.
"""
from __future__ import annotations

from datetime import datetime, timezone


def text(moment: datetime) -> str:
    """UTC RFC 3339 with microseconds: ``2026-03-02T01:00:04.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("时间必须带时区 timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

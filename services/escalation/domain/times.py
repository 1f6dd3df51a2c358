"""RFC 3339 text of an instant, as the event contracts spell it: ``xinfang.events.envelope.rfc3339``.

Escalation's modules call it ``text``.  It was a faster copy (``isoformat`` in C) while the contracts
used ``strftime``, which wrote the year 999 as ``999``; the contracts now spell it this way themselves.
"""
from __future__ import annotations

from xinfang.events.envelope import rfc3339 as text

__all__ = ["text"]

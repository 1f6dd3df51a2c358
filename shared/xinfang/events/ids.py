"""Deterministic ids for derived events: a redelivery or restart re-derives the same id."""
from __future__ import annotations

import uuid

# Fixed forever: changing it would let a replay produce a second escalation of one breach.
XINFANG_NAMESPACE = uuid.UUID("6f1c8a52-3b1e-5d0a-9c57-0e8d2b7f4a10")


def derived_event_id(subject: str, kind: str, *parts: object) -> str:
    """The id of the derived event ``kind`` for ``subject``, keyed by what makes it unique.

    For a breach that is the stage, the unit and the due time it breached: the same breach
    always gets the same id, a new due time (after an extension) a new one.
    """
    name = "|".join([subject, kind, *(str(part) for part in parts)])
    return str(uuid.uuid5(XINFANG_NAMESPACE, name))

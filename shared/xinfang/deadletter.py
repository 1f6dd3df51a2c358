"""The dead-letter record: what a consumer could not process, with the reason, kept for people.

A consumer that cannot read an event does not stop and does not skip silently: it writes the
original bytes and the reason to the dead-letter topic, then goes on.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import orjson


def dead_letter(consumer: str, topic: str, partition: int, offset: int, key: bytes | None,
                value: bytes | None, reason: str) -> tuple[bytes | None, bytes]:
    """The (key, value) to produce to the dead-letter topic for one unreadable record."""
    body = {
        "consumer": consumer, "topic": topic, "partition": partition, "offset": offset,
        "reason": reason[:2000], "at": datetime.now(timezone.utc).isoformat(),
        "key": key.decode("utf-8", "replace") if key else None,
        "value_base64": base64.b64encode(value or b"").decode(),
    }
    return key, orjson.dumps(body)

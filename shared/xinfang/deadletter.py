"""The dead-letter topic: what a consumer could not process, with the reason, kept for people.

A consumer that cannot read an event does not stop and does not skip silently: it writes the
original bytes and the reason to the dead-letter topic, waits for the broker's acknowledgement
(so the record is there before the consumer moves past it), then goes on.
"""
from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import orjson

# The producer's send, as aiokafka's ``AIOKafkaProducer.send`` is: called with the topic, and the key and
# value by name, it returns the future of the broker's acknowledgement.  faust's producer's send takes
# partition, timestamp and headers besides, by position: escalation wraps it in this shape.
Send = Callable[..., Awaitable[Awaitable[Any]]]


async def send_dead_letter(send: Send, deadletter_topic: str, consumer: str, topic: str, partition: int, offset: int,
                           key: bytes | None, value: bytes | None, reason: str) -> None:
    """Put one unreadable record on the dead-letter topic and wait until the broker has acknowledged it."""
    body = {
        "consumer": consumer, "topic": topic, "partition": partition, "offset": offset,
        "reason": reason[:2000], "at": datetime.now(timezone.utc).isoformat(),
        "key": key.decode("utf-8", "replace") if key else None,
        "value_base64": base64.b64encode(value or b"").decode(),
    }
    acknowledged = await send(deadletter_topic, key=key, value=orjson.dumps(body))
    await acknowledged

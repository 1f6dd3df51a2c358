"""Sends chained routing events to ``petition.routing`` once the state that holds them is durable.

Each round: wait until the table's changelog writes that hold the queued events are acknowledged
(not a flush of the whole producer, which the agent keeps filling), then send the events in order
with the idempotent producer and wait for their acknowledgements, then report them confirmed so
the agent can drop them from the outbox.
A crash anywhere re-sends the stored bytes (same id, same content); it never decides again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from xinfang.retry import Backoff, retrying

log = logging.getLogger("escalation.publisher")


@dataclass(frozen=True)
class Pending:
    partition: int
    pid: str
    seq: int
    wire: bytes
    durable: asyncio.Future | None  # the changelog write of the state that holds this event
    breach_at: float | None  # a breach due after the system learned of it: when (for its timer lateness)


class Publisher:
    """One per worker; ``run`` is a task for the life of the worker."""

    def __init__(self, send: Callable[..., Awaitable[Awaitable[Any]]], topic: str,
                 on_sent: Callable[[Pending, float], None] | None = None) -> None:
        self._send, self.topic, self._on_sent = send, topic, on_sent
        self._queue: list[Pending] = []
        self._wake = asyncio.Event()
        self._enqueued: dict[int, dict[str, int]] = defaultdict(dict)  # highest seq queued per matter
        self._acked: dict[int, dict[str, int]] = defaultdict(dict)  # highest seq acknowledged on the topic
        self._confirmed: dict[int, dict[str, int]] = defaultdict(dict)  # acknowledged, not yet reported
        self.sent = 0

    def enqueue(self, partition: int, pid: str, outbox: list[tuple[int, bytes]], durable: asyncio.Future | None,
                breaches: dict[int, float] | None = None) -> int:
        """Queue the outbox entries of a matter not already queued by this process; returns how many.

        ``breaches``: for events a timer fired, seq → when the breach fell (for the delay metric)."""
        done = max(self._enqueued[partition].get(pid, 0), self._acked[partition].get(pid, 0))
        fresh = [(seq, wire) for seq, wire in outbox if seq > done]
        for seq, wire in fresh:
            self._queue.append(Pending(partition, pid, seq, wire, durable, (breaches or {}).get(seq)))
        if fresh:
            self._enqueued[partition][pid] = fresh[-1][0]
            self._wake.set()
        return len(fresh)

    def take_confirmed(self, partition: int) -> list[tuple[str, int]]:
        """(petition id, seq) acknowledged on the topic since the last call, for the agent to clear."""
        confirmed = self._confirmed.pop(partition, {})
        return list(confirmed.items())

    def forget(self, partition: int, pid: str, seq: int) -> None:
        """The outbox of a matter is clear up to ``seq``: stop remembering it."""
        for known in (self._enqueued.get(partition, {}), self._acked.get(partition, {})):
            if known.get(pid, 0) <= seq:
                known.pop(pid, None)

    def revoke(self, partition: int) -> None:
        """A rebalance took the partition: drop what is queued, not yet sent (its owner re-sends it).

        What was acknowledged is remembered: if the partition comes back, it is not sent again."""
        self._queue = [p for p in self._queue if p.partition != partition]
        self._enqueued.pop(partition, None)

    def keep_only(self, partitions: set[int]) -> None:
        """After a rebalance: forget everything about partitions that went to other workers."""
        for memory in (self._enqueued, self._acked, self._confirmed):
            for partition in set(memory) - partitions:
                del memory[partition]

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await retrying(self._publish_queued, "publishing routing events", log, Backoff(cap=5.0))

    async def _publish_queued(self) -> None:
        """Send what is queued; on a failure it goes back to the front of the queue (a rebalance meanwhile
        may take some of it away), to be retried in order."""
        batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            await self._publish(batch)
        except Exception:
            self._queue = batch + self._queue
            raise

    async def _publish(self, batch: list[Pending]) -> None:
        started = time.time()
        writes = {id(p.durable): p.durable for p in batch if p.durable is not None}
        await asyncio.gather(*writes.values())  # the states holding these events are in the changelog
        flushed = time.time()
        futures = [await self._send(self.topic, key=p.pid.encode(), value=p.wire, partition=p.partition,
                                    timestamp=None, headers=None) for p in batch]
        await asyncio.gather(*futures)
        now = time.time()
        log.debug("published %d events: changelog %.3fs, send %.3fs", len(batch), flushed - started, now - flushed)
        for p in batch:
            acked = self._acked[p.partition]
            acked[p.pid] = max(acked.get(p.pid, 0), p.seq)
            self._confirmed[p.partition][p.pid] = acked[p.pid]
            if self._on_sent is not None:
                self._on_sent(p, now)
        self.sent += len(batch)

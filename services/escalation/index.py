"""The due index: per owned partition, a heap of (next breach, petition id), and the open clocks.

The table is the truth; this is an in-memory index over it, rebuilt by scanning a partition's
RocksDB when the worker is given that partition (after its table recovery) and kept current by
the agent after every change.  Stale heap entries are harmless: the agent decides from the
stored state, so an early look finds nothing to do and schedules the true next breach.

A matter learned after its breaches fell due (back-dated, synced late) waits in a lane of its own,
handed out a few per look after every due of the timely heap, in the agent's spare time: a thousand
matters back-dated by a year arriving at once (nine events each) held other matters' timers up to
2 s when handled first.
"""
from __future__ import annotations

import heapq
from collections import Counter, deque
from datetime import datetime


class DueIndex:
    """Heaps and open-clock tallies for the partitions this worker owns."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[float, str]]] = {}
        self._open: dict[int, dict[str, tuple[str, str]]] = {}
        self._late: dict[int, deque[str]] = {}

    @property
    def partitions(self) -> list[int]:
        return sorted(self._heaps)

    def owns(self, partition: int) -> bool:
        return partition in self._heaps

    def adopt(self, partition: int) -> None:
        """Start indexing a partition (empty until scanned or changed)."""
        self._heaps.setdefault(partition, [])
        self._open.setdefault(partition, {})
        self._late.setdefault(partition, deque())

    def drop(self, partition: int) -> None:
        """Forget a partition this worker no longer owns."""
        self._heaps.pop(partition, None)
        self._open.pop(partition, None)
        self._late.pop(partition, None)

    def schedule(self, partition: int, pid: str, when: datetime | None, holder: tuple[str, str] | None,
                 late: bool = False) -> None:
        """Record a matter's next breach and its open clock (tier, stage), or that nothing runs;
        ``late``: the breach fell due before the system learned of the matter (the catch-up lane)."""
        if partition not in self._heaps:
            return  # not ours (any more): the owner's scan picks it up
        if when is not None and late:
            self._late[partition].append(pid)
        elif when is not None:
            heapq.heappush(self._heaps[partition], (when.timestamp(), pid))
        if holder is None:
            self._open[partition].pop(pid, None)
        else:
            self._open[partition][pid] = holder

    def pop_due(self, partition: int, now: float, limit: int) -> list[str]:
        """Petition ids whose breach is due by ``now`` (each once), at most ``limit``."""
        heap, found = self._heaps.get(partition, []), {}
        while heap and heap[0][0] <= now and len(found) < limit:
            found.setdefault(heapq.heappop(heap)[1], None)
        return list(found)

    def pop_late(self, partition: int, limit: int) -> list[str]:
        """At most ``limit`` matters of the catch-up lane, first come first served."""
        lane = self._late.get(partition, deque())
        return [lane.popleft() for _ in range(min(limit, len(lane)))]

    def late(self) -> int:
        """Matters waiting in the catch-up lane."""
        return sum(len(lane) for lane in self._late.values())

    def earliest(self) -> float | None:
        firsts = [h[0][0] for h in self._heaps.values() if h]
        return min(firsts) if firsts else None

    def pending(self) -> int:
        return sum(len(h) for h in self._heaps.values()) + self.late()

    def counts(self) -> Counter[tuple[str, str]]:
        """Open clocks per (tier, stage) on this worker's partitions."""
        tally: Counter[tuple[str, str]] = Counter()
        for clocks in self._open.values():
            tally.update(clocks.values())
        return tally

"""Reading partitions to their end, and the dead-letter record, against stand-ins for the clients."""
import asyncio
from collections import namedtuple

import orjson

from xinfang.deadletter import send_dead_letter
from xinfang.kafka import read_to_end

Part = namedtuple("Part", "topic partition")
Rec = namedtuple("Rec", "offset")


class Log:
    """A kafka-python consumer over in-memory partitions; a poll returns up to ``fetch`` records of each."""

    def __init__(self, partitions: dict, fetch: int = 3) -> None:
        self.partitions, self.fetch = partitions, fetch  # partition -> the offsets it holds (gaps are markers)
        self.positions: dict = {}
        self.paused: set = set()

    def assign(self, tps) -> None:
        self.assigned = list(tps)

    def seek(self, tp, offset) -> None:
        self.positions[tp] = offset

    def pause(self, tp) -> None:
        self.paused.add(tp)

    def position(self, tp) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int, max_records: int) -> dict:
        polled = {}
        for tp in self.assigned:
            if tp in self.paused:
                continue
            held = [o for o in self.partitions[tp] if o >= self.positions[tp]][:self.fetch]
            if held:
                polled[tp] = [Rec(o) for o in held]
                self.positions[tp] = held[-1] + 1
            elif self.positions[tp] < max(self.partitions[tp], default=-1) + 2:
                self.positions[tp] += 1  # past a transaction marker
        return polled


A, B, C = Part("t", 0), Part("t", 1), Part("t", 2)


def offsets(batches, tp) -> list[int]:
    return [r.offset for batch in batches for r in batch.get(tp, [])]


def test_each_partition_is_read_from_its_start_up_to_not_including_its_end():
    log = Log({A: list(range(10)), B: list(range(4))})
    batches = list(read_to_end(log, {A: (2, 7), B: (0, 4)}))
    assert offsets(batches, A) == [2, 3, 4, 5, 6] and offsets(batches, B) == [0, 1, 2, 3]
    assert log.paused == {A, B} and all(batch for batch in batches)


def test_a_transaction_marker_at_the_last_offset_ends_the_partition_by_its_position():
    log = Log({A: [0, 1, 2]})  # offset 3 is the commit marker; the end is 4
    assert offsets(read_to_end(log, {A: (0, 4)}), A) == [0, 1, 2]


def test_a_partition_with_nothing_to_read_is_not_even_assigned():
    log = Log({A: [0, 1], C: [0]})
    assert offsets(read_to_end(log, {A: (0, 2), C: (1, 1)}), A) == [0, 1]
    assert log.assigned == [A]


def test_a_dead_letter_is_sent_and_its_acknowledgement_awaited():
    async def scenario():
        loop, sent = asyncio.get_running_loop(), []
        acknowledged = loop.create_future()

        async def send(topic, *, key, value):
            sent.append((topic, key, orjson.loads(value)))
            return acknowledged

        letter = asyncio.create_task(send_dead_letter(send, "dead", "intake-routing", "petition.routing", 2, 41,
                                                      b"m-1", b"\xff", "unreadable"))
        await asyncio.sleep(0)
        assert sent and not letter.done()  # waiting for the broker
        acknowledged.set_result(None)
        await letter
        topic, key, body = sent[0]
        assert (topic, key) == ("dead", b"m-1")
        assert body["consumer"] == "intake-routing" and (body["topic"], body["partition"], body["offset"]) == (
            "petition.routing", 2, 41)
        assert body["reason"] == "unreadable" and body["value_base64"] == "/w=="

    asyncio.run(scenario())

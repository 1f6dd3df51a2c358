"""The worker's framework-free parts: the stored form and outbox, the due index, the publisher's memory."""
from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest

from escalation.__main__ import main
from escalation.domain.chain import source_of
from escalation.index import DueIndex
from escalation.processor import Processor, Stored, Unreadable, confirmed_raw, read_intake
from escalation.publisher import Publisher
from support.waiting import until_async
from unit.escalation.helpers import ROOM, registered, s
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import Accepted


def intake_event(pid: str, data, seq: int = 1, occurred=None) -> CloudEvent:
    return CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361501/intake", type={
        "Registered": "petition.registered.v1", "Accepted": "petition.accepted.v1"}[type(data).__name__],
        subject=pid, recorded=occurred or s(0), occurred=occurred or s(0), actor="terminal:t-1", seq=seq,
        prevhash=GENESIS_HASH, data=data.model_dump(mode="json"))


@pytest.fixture
def processor(fast):
    return Processor(fast, source_of(fast.code))


def test_an_intake_event_is_stored_with_its_routing_event_in_the_outbox(processor):
    out = processor.on_intake(None, intake_event("m1", registered()).to_json(), s(0), "m1")
    [event] = out.chained
    assert out.stored.outbox == [(1, event.to_json())] and out.stored.matter.head.seq == 1
    back = Stored.loads(out.stored.dumps())
    assert back == out.stored
    assert processor.next_breach(back) == s(3.2)
    assert processor.on_intake(back, intake_event("m1", registered()).to_json(), s(1), "m1").stored is None


def test_the_timer_adds_to_the_outbox_and_a_confirmation_drops_a_prefix(processor):
    stored = processor.on_intake(None, intake_event("m1", registered()).to_json(), s(0), "m1").stored
    later = processor.on_time(stored, s(5)).stored
    assert [seq for seq, _ in later.outbox] == [1, 2, 3]
    raw = later.dumps()
    assert Stored.loads(confirmed_raw(raw, 2)).outbox == later.outbox[2:]
    assert Stored.loads(confirmed_raw(raw, 3)).outbox == [] and confirmed_raw(confirmed_raw(raw, 3), 3) is None
    assert Stored.loads(confirmed_raw(raw, 3)).matter == later.matter
    assert processor.on_time(later, s(5)).stored is None  # nothing more due


def test_unreadable_input_is_named(processor):
    with pytest.raises(Unreadable, match="not a CloudEvent"):
        read_intake(b"{")
    tampered = orjson.loads(intake_event("m1", registered()).to_json())
    tampered["data"]["head_count"] = 7
    with pytest.raises(Unreadable, match="hash mismatch"):
        read_intake(orjson.dumps(tampered))
    with pytest.raises(Unreadable, match="registration was never seen"):
        processor.on_intake(None, intake_event("m2", Accepted(unit=ROOM)).to_json(), s(0), "m2")
    with pytest.raises(Unreadable, match="not the event's subject"):
        processor.on_intake(None, intake_event("m3", registered()).to_json(), s(0), "other")


def test_the_due_index_hands_out_each_due_matter_once_and_only_for_owned_partitions():
    index = DueIndex()
    index.schedule(0, "a", s(1), ("village", "accept"))  # not owned yet: ignored
    index.adopt(0)
    index.schedule(0, "a", s(1), ("village", "accept"))
    index.schedule(0, "a", s(2), ("village", "accept"))
    index.schedule(0, "b", s(9), ("township", "handle"))
    index.schedule(0, "c", None, None)
    assert index.pop_due(0, s(5).timestamp(), 100) == ["a"] and index.pop_due(0, s(5).timestamp(), 100) == []
    assert index.counts() == {("village", "accept"): 1, ("township", "handle"): 1}
    index.drop(0)
    assert index.partitions == [] and index.counts() == {}


def test_matters_learned_after_their_breaches_fell_due_wait_in_a_lane_of_their_own():
    index = DueIndex()
    index.adopt(0)
    for n in range(5):
        index.schedule(0, f"old-{n}", s(-86400 * 365), ("village", "accept"), late=True)  # due a year ago
    index.schedule(0, "live", s(1), ("village", "accept"))
    assert index.pending() == 6 and index.late() == 5
    assert index.pop_due(0, s(1).timestamp(), 100) == ["live"]  # the timely heap never waits behind the lane
    assert index.pop_late(0, 2) == ["old-0", "old-1"] and index.pop_late(0, 2) == ["old-2", "old-3"]
    assert index.pop_late(0, 2) == ["old-4"] and index.late() == 0
    index.schedule(0, "old-5", s(0), None, late=True)
    index.drop(0)
    assert index.late() == 0 and index.pop_late(0, 2) == []


def test_the_publisher_waits_for_the_changelog_sends_in_order_and_remembers_what_was_acknowledged():
    async def scenario():
        sent, loop = [], asyncio.get_running_loop()

        async def send(topic, *, key, value, partition, timestamp, headers):
            sent.append((partition, key, value))
            done = loop.create_future()
            done.set_result(None)
            return done

        publisher = Publisher(send, "routing")
        task = asyncio.create_task(publisher.run())
        durable = loop.create_future()
        assert publisher.enqueue(0, "m1", [(1, b"e1"), (2, b"e2")], durable) == 2
        assert publisher.enqueue(0, "m1", [(1, b"e1"), (2, b"e2"), (3, b"e3")], durable) == 1
        await asyncio.sleep(0.01)  # a chance to send, for the check that nothing is: no condition to wait for
        assert sent == []  # the state holding them is not in the changelog yet
        durable.set_result(None)

        async def all_sent() -> bool:
            return [v for _, _, v in sent] == [b"e1", b"e2", b"e3"]

        await until_async(all_sent, lambda: f"e1, e2, e3 sent in order (sent: {sent})", timeout=5, every=0.01)
        assert publisher.take_confirmed(0) == [("m1", 3)] and publisher.take_confirmed(0) == []
        publisher.revoke(0)  # a rebalance: acknowledged events are not sent again if the partition returns
        assert publisher.enqueue(0, "m1", [(3, b"e3")], None) == 0
        publisher.keep_only(set())
        assert publisher.enqueue(0, "m1", [(3, b"e3")], None) == 1
        task.cancel()

    asyncio.run(scenario())


def test_the_command_line_refuses_unknown_arguments_and_a_bad_county_file(tmp_path, monkeypatch, capsys):
    assert main(["serve"]) == 2
    bad = tmp_path / "county.yaml"
    bad.write_text("code: 1\n", encoding="utf-8")
    monkeypatch.setenv("XINFANG_COUNTY_FILE", str(bad))
    assert main([]) == 1
    assert "county file is refused" in capsys.readouterr().err

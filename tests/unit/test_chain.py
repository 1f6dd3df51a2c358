"""The hash chain names each kind of tampering: altered, missing, reordered, injected."""
from datetime import datetime, timezone

from xinfang.events import GENESIS_HASH, CloudEvent, chain_head, next_link, verify_chain
from xinfang.events.envelope import hash_of

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def chain(length: int = 5) -> list[dict]:
    events, head = [], None
    for n in range(length):
        seq, prev = next_link(head)
        event = CloudEvent.chained(event_id=f"e{seq}", source="/xinfang/110105/intake",
                                   type="petition.accepted.v1", subject="m1", recorded=NOW,
                                   occurred=NOW, actor="unit:u1", seq=seq, prevhash=prev,
                                   data={"unit": "u1", "note": f"step {n}"})
        events.append(event.envelope())
        head = chain_head(events)
    return events


def kinds(findings) -> list[tuple[str, int]]:
    return [(f.kind, f.seq) for f in findings]


def test_an_intact_chain_has_no_findings():
    events = chain()
    assert verify_chain(events) == []
    assert events[0]["prevhash"] == GENESIS_HASH
    assert chain_head(events).seq == 5


def test_altered_content_is_named():
    events = chain()
    events[2]["data"]["note"] = "rewritten"
    findings = verify_chain(events)
    assert kinds(findings) == [("altered", 3)]
    assert findings[0].event_id == "e3" and findings[0].label == "被篡改"


def test_altered_and_rehashed_content_is_named_by_the_broken_link():
    events = chain()
    events[2]["data"]["note"] = "rewritten"
    events[2]["hash"] = hash_of(events[2])
    assert kinds(verify_chain(events)) == [("altered", 3)]


def test_a_dropped_event_is_named_missing():
    events = chain()
    del events[1]
    assert ("missing", 2) in kinds(verify_chain(events))


def test_a_reordered_event_is_named():
    events = chain()
    events[1], events[2] = events[2], events[1]
    assert kinds(verify_chain(events)) == [("reordered", 2)]


def test_an_event_injected_into_a_taken_sequence_number_is_named():
    events = chain()
    forged = dict(events[2], id="forged", data={"unit": "u1", "note": "forged"})
    forged["hash"] = hash_of(forged)
    events.insert(3, forged)
    findings = verify_chain(events)
    assert kinds(findings) == [("injected", 3)] and findings[0].event_id == "forged"


def test_an_event_appended_without_the_link_is_named_injected():
    events = chain()
    forged = dict(events[-1], id="forged", seq=6, prevhash="f" * 64)
    forged["hash"] = hash_of(forged)
    events.append(forged)
    assert kinds(verify_chain(events)) == [("injected", 6)]


def test_a_redelivered_event_is_only_a_duplicate():
    events = chain()
    events.insert(3, dict(events[2]))
    assert kinds(verify_chain(events)) == [("duplicate", 3)]

"""The write model's state JSON read back tolerantly, and the rebuild's fold in the order the live path applied."""
import dataclasses
import logging
import uuid
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from intake import store
from intake.domain.model import PetitionState, apply_routing
from intake.rebuild import fold
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import Assigned, DeadlineChanged, Due, Registered, Transferred

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
STATE = PetitionState(
    petition_id="8f0c6c0e-6a77-4d0e-9a43-3c1f5d2c1b11", receipt_no="2026-361402-0000001", status="accepted",
    jurisdiction="361402001001", category="labour", registered_unit="room.361402001001", registered_at=T0,
    holder_unit="room.361402001001", holder_tier="village", assigned_at=T0 + timedelta(hours=1),
    due=(("accept", "2026-03-05T00:00:00.000000Z", True),), head_count=3, petitioner_refs=("p1", "p2"),
    erased_refs=("p2",), answered_at=None, seq=4, route_epoch=1)


def today_row(state: PetitionState) -> dict:
    """The row as the code before the layout wrote it: the dataclass's fields, no layout, dues without the flag."""
    return {**orjson.loads(orjson.dumps(state)), "due": [[stage, at] for stage, at, _ in state.due]}


#: what a layout-1 row reads as: its dues not counted over an assumed year
OLD = dataclasses.replace(STATE, due=(("accept", "2026-03-05T00:00:00.000000Z", False),))


def test_a_written_state_carries_its_layout_and_reads_back_equal():
    raw = store.state_to_json(STATE)
    assert orjson.loads(raw)["layout"] == store.LAYOUT
    assert store.state_from_json(raw) == STATE
    assert isinstance(store.state_from_json(raw).assigned_at, datetime)
    assert store.state_from_json(raw.decode()).due == (("accept", "2026-03-05T00:00:00.000000Z", True),)


def test_a_row_without_a_layout_is_read_as_layout_1_its_dues_not_assumed():
    assert store.state_from_json(orjson.dumps(today_row(STATE))) == OLD
    assert store.state_from_json(orjson.dumps({**today_row(STATE), "layout": 1})) == OLD


def test_a_field_this_code_does_not_know_is_ignored_and_logged_at_debug(caplog):
    row = {**orjson.loads(store.state_to_json(STATE)), "priority": "high"}
    with caplog.at_level(logging.DEBUG, logger="intake.store"):
        assert store.state_from_json(orjson.dumps(row)) == STATE
    assert any("priority" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_fields_missing_from_an_old_row_take_the_dataclass_defaults():
    row = today_row(STATE)
    for name in ("route_epoch", "erased_refs", "due", "assigned_at"):
        del row[name]
    state = store.state_from_json(orjson.dumps(row))
    assert (state.route_epoch, state.erased_refs, state.due, state.assigned_at) == (0, (), (), None)
    assert dataclasses.replace(state, route_epoch=1, erased_refs=("p2",), due=STATE.due,
                               assigned_at=STATE.assigned_at) == STATE


def test_a_row_without_a_field_that_has_no_default_is_no_state():
    row = {**today_row(STATE), "priority": "high"}
    del row["receipt_no"]
    with pytest.raises(TypeError, match="receipt_no"):
        store.state_from_json(orjson.dumps(row))


def test_a_row_written_by_newer_code_is_refused_in_both_languages():
    row = {**today_row(STATE), "layout": store.LAYOUT + 1}
    with pytest.raises(store.NewerLayout) as refused:
        store.state_from_json(orjson.dumps(row))
    message = str(refused.value)
    assert "较新版本" in message and "newer code" in message and f"layout {store.LAYOUT + 1}" in message


def _routing(pid: str, seq: int, prev: str, data, when: datetime) -> CloudEvent:
    return CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361402/escalation",
                           type=f"petition.{'assigned' if isinstance(data, Assigned) else 'deadline_changed'}.v1",
                           subject=pid, recorded=when, occurred=when, actor="system:escalation", seq=seq,
                           prevhash=prev, data=data.model_dump(mode="json"))


def test_the_fold_applies_each_routing_fact_after_the_intake_event_it_followed():
    pid = str(uuid.uuid4())
    registered = Registered(receipt_no="2026-361402-0000009", batch_id="b1", channel="visit",
                            jurisdiction="361402001001", category="labour", summary="欠薪", head_count=1,
                            unit="room.361402001001", tier="village")
    assigned = Assigned(unit="room.361402001001", tier="village", jurisdiction="361402001001", rule="default",
                        stage="accept", basis_seq=1,
                        due=[Due(stage="accept", due_at="2026-03-05T00:00:00.000000Z",
                                 warn_at="2026-03-04T00:00:00.000000Z")])
    moved = DeadlineChanged(unit="room.361402001001", stage="handle", due_at="2026-04-01T00:00:00.000000Z",
                            reason="accepted")
    # live: registered, then routed, then the deadline moved, then intake transferred it (which clears the due times)
    live = store.Loaded(None)
    state, chained = store.chain_events(live, pid, [registered], occurred=T0, recorded=T0, actor="terminal:t1",
                                      source="/xinfang/361402/intake", hashalg="sha256")
    facts = [_routing(pid, 1, GENESIS_HASH, assigned, T0 + timedelta(minutes=1))]
    facts.append(_routing(pid, 2, facts[0].hash, moved, T0 + timedelta(minutes=2)))
    for fact, data in zip(facts, (assigned, moved), strict=True):
        state = apply_routing(state, data, fact.occurred_at, fact.id)
    loaded = store.Loaded(state, 3, store.ChainLink(1, chained[0].hash))
    state, more = store.chain_events(loaded, pid, [Transferred(from_unit="room.361402001001", reason="属住建")],
                                    occurred=T0 + timedelta(hours=1), recorded=T0 + timedelta(hours=1),
                                    actor="terminal:t1", source="/xinfang/361402/intake", hashalg="sha256")
    assert state.due == ()

    rebuilt, head = fold(pid, [e.to_json() for e in chained + more], [(1, f.to_json()) for f in facts])

    assert rebuilt == state and head == more[-1].hash
    # the same facts folded after the transfer would leave a due time the live matter does not have
    wrong, _ = fold(pid, [e.to_json() for e in chained + more], [(2, f.to_json()) for f in facts])
    assert wrong.due == (("handle", "2026-04-01T00:00:00.000000Z", False),) != state.due


def test_a_routing_fact_after_an_event_the_matter_does_not_have_is_refused():
    pid = str(uuid.uuid4())
    registered = Registered(receipt_no="2026-361402-0000010", batch_id="b1", channel="visit",
                            jurisdiction="361402001001", category="labour", summary="欠薪", head_count=1,
                            unit="room.361402001001", tier="village")
    _, chained = store.chain_events(store.Loaded(None), pid, [registered], occurred=T0, recorded=T0,
                                  actor="terminal:t1", source="/xinfang/361402/intake", hashalg="sha256")
    closed = DeadlineChanged(unit="room.361402001001", stage="accept", reason="suspended")
    with pytest.raises(ValueError, match="do not make a matter"):
        fold(pid, [chained[0].to_json()], [(5, _routing(pid, 1, GENESIS_HASH, closed, T0).to_json())])

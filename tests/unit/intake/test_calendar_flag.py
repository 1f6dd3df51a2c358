"""A due counted over a year with no holiday plan says so in intake's state, its stored row, the matter and the
worklist (``calendar_assumed`` and 按周一至周五推算，待公布节假日安排), until the recount replaces it."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import orjson

from intake import store
from intake.api.routes import _work_item, public
from intake.domain.model import apply_routing
from unit.intake.test_lifecycle import T0, ctx, register, run
from xinfang.events.catalogue import Assigned, DeadlineChanged, Due
from xinfang.vocabulary import CALENDAR_ASSUMED_LABEL, PAUSED_LABEL

PID = "8f0c6c0e-6a77-4d0e-9a43-3c1f5d2c1b12"
ACCEPT, HANDLE = "2027-01-04T15:59:59.999999Z", "2027-03-01T15:59:59.999999Z"


def routed(assumed_accept: bool = True):
    """Room 1 holds the matter: its accept due counted over an assumed year, its handling due not."""
    data = Assigned(unit="room-1", tier="village", jurisdiction="110105001001", rule="default", basis_seq=1,
                    stage="accept", due=[Due(stage="accept", due_at=ACCEPT, warn_at=ACCEPT, calendar_assumed=assumed_accept),
                                         Due(stage="handle", due_at=HANDLE, warn_at=HANDLE)])
    return replace(apply_routing(run(None, register(), ctx()), data, T0), petition_id=PID)  # the store sets the id


def row(state, suspended: bool = False, due=None) -> dict:
    """The worklist's row of ``state`` as PostgreSQL answers it (the due list as stored JSON)."""
    stored = orjson.loads(store.state_to_json(state))
    return {"petition_id": PID, "receipt_no": state.receipt_no, "status": state.status, "category": state.category,
            "jurisdiction": state.jurisdiction, "next_due_at": store.next_due_at(state), "suspended": suspended,
            "due": orjson.dumps(stored["due"] if due is None else due).decode()}


def test_each_due_keeps_its_flag_and_the_matter_shows_it_in_chinese():
    state = routed()
    assert state.due == (("accept", ACCEPT, True), ("handle", HANDLE, False))
    assert state.due_at("accept") == ACCEPT
    shown = {d.stage: d for d in public(state, 1).due}
    assert (shown["accept"].calendar_assumed, shown["accept"].calendar_label) == (True, CALENDAR_ASSUMED_LABEL)
    assert (shown["handle"].calendar_assumed, shown["handle"].calendar_label) == (False, None)
    assert store.state_from_json(store.state_to_json(state)) == state


def test_the_recount_replaces_the_assumed_due_and_its_flag():
    recounted = "2027-01-06T15:59:59.999999Z"
    state = apply_routing(routed(), DeadlineChanged(unit="room-1", stage="accept", due_at=recounted,
                                                    previous_due_at=ACCEPT, reason="calendar"), T0)
    assert state.due == (("handle", HANDLE, False), ("accept", recounted, False))
    assert not any(d.calendar_assumed or d.calendar_label for d in public(state, 1).due)


def test_the_worklist_flags_the_due_it_shows():
    state = routed()
    item = _work_item(row(state))
    assert item.next_due_at == datetime.fromisoformat(ACCEPT) and item.calendar_assumed
    assert item.calendar_label == CALENDAR_ASSUMED_LABEL
    sooner_known = _work_item(row(state, due=[["accept", ACCEPT, False], ["handle", HANDLE, True]]))
    assert (sooner_known.calendar_assumed, sooner_known.calendar_label) == (False, None)  # the later one is not shown


def test_a_paused_matter_shows_no_due_and_no_flag():
    item = _work_item(row(routed(), suspended=True))
    assert (item.next_due_at, item.due_label, item.calendar_assumed, item.calendar_label) == (None, PAUSED_LABEL,
                                                                                               False, None)


def test_a_due_stored_before_the_flag_reads_as_not_assumed():
    assert store.dues([["accept", ACCEPT]]) == (("accept", ACCEPT, False),)
    old = _work_item(row(routed(), due=[["accept", ACCEPT], ["handle", HANDLE]]))
    assert (old.calendar_assumed, old.calendar_label) == (False, None)


def test_soonest_is_the_earliest_due_with_its_flag():
    later = (datetime.fromisoformat(ACCEPT) + timedelta(days=1)).isoformat()
    assert store.soonest((("handle", later, False), ("accept", ACCEPT, True))) == (datetime.fromisoformat(ACCEPT), True)
    assert store.soonest(()) is None

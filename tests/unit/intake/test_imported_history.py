"""Imported history through the same decide as live commands: where the rules differ, and the refusals that name
what is wrong (the pure part, with the demo county)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from escalation.domain import placement
from intake.auth import Terminal
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import evolve
from intake.history_import import ImportedMatter, steps, times
from intake.organisation import context, importer, reviewer_of
from intake.service import IntakeService
from intake.store import Loaded
from support.seed import seed_records, through_review
from xinfang.county import load_county
from xinfang.events import UPCASTERS
from xinfang.events.catalogue import RecheckRequested, ReviewRequested
from xinfang.settings import DEMO_COUNTY

COUNTY = load_county(DEMO_COUNTY)
T0 = datetime(2019, 2, 11, 1, 30, tzinfo=timezone.utc)
ROOM, OTHER_ROOM, STATION, BUREAU = ("room.361402001001", "room.361402001002", "station.361402001000",
                                     "bureau.361402")
VILLAGE_CODE, FAR_VILLAGE_CODE = "361402001001", "361402101201"
ROLES = frozenset({"registrar", "handler", "supervisor"})
ANSWER = {"decision": "support", "facts": "已查明", "grounds": "已办理"}


def register(jurisdiction=VILLAGE_CODE) -> c.RegisterPetition:
    return c.RegisterPetition(petition_id="m1", receipt_no="2019-361402-0000001", batch_id="b1", channel="visit",
                              jurisdiction=jurisdiction, category="labour", summary="欠薪", head_count=3,
                              imported=True, external_id="old-1")


def history(steps, by=BUREAU, state=None):
    """Decide (unit, command) steps a day apart as history imported by a terminal of ``by``; the state and events."""
    events = []
    for day, (unit, command) in enumerate(steps):
        at = T0 + timedelta(days=day)
        ctx = context(COUNTY, unit, ROLES, at, state.holder_tier if state else None, importer(COUNTY, by))
        for data in decide(state, command, ctx):
            state = evolve(state, data, at, (state.seq if state else 0) + 1)
            events.append(data)
    return state, events


def refused(call, *args, **kw) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args, **kw)
    return caught.value


WHOLE = [(ROOM, register()), (ROOM, c.Accept()), (ROOM, c.Reply(resolved=False, **ANSWER)),
         (ROOM, c.RequestReview(reason="不服")), (STATION, c.ReplyReview(resolved=False, **ANSWER)),
         (ROOM, c.RequestRecheck(reason="仍不服")), (BUREAU, c.ReplyRecheck(resolved=True, **ANSWER)),
         (ROOM, c.Evaluate(satisfaction="satisfied"))]


def test_a_whole_history_with_review_and_re_review_is_decided_in_one_go():
    state, events = history(WHOLE)
    review = next(e for e in events if isinstance(e, ReviewRequested))
    recheck = next(e for e in events if isinstance(e, RecheckRequested))
    # the domain names the reviewer at once: the tier above the unit whose answer is contested
    assert (review.unit, review.tier) == (STATION, "township")
    assert (recheck.unit, recheck.tier) == (BUREAU, "county")
    assert state.status == "terminated" and state.resolved is True and state.evaluated


def test_the_reviewer_is_the_one_escalation_places_a_live_review_with():
    for unit in (ROOM, STATION, BUREAU, "dept.rsj", "city.361400"):
        place = placement.for_review(COUNTY, unit, None, "review")
        assert reviewer_of(COUNTY, unit) == (place.unit, place.tier), unit


def test_a_live_review_request_names_no_reviewer_escalation_assigns_it():
    state, _ = history(WHOLE[:3])
    live = context(COUNTY, ROOM, ROLES, T0 + timedelta(days=5), state.holder_tier)
    [data] = decide(state, c.RequestReview(reason="不服"), live)
    assert data.unit is None and evolve(state, data, live.now, state.seq + 1).holder_unit is None


def test_an_imported_review_replied_by_another_unit_than_the_reviewer_is_refused():
    state, _ = history(WHOLE[:4])
    ctx = context(COUNTY, OTHER_ROOM, ROLES, T0 + timedelta(days=4), state.holder_tier, importer(COUNTY, BUREAU))
    why = refused(decide, state, c.ReplyReview(resolved=True, **ANSWER), ctx)
    assert why.code == "not_holder" and STATION in why.en


def test_an_import_is_scoped_to_the_importing_terminals_jurisdiction():
    outside_place = refused(history, [(STATION, register(FAR_VILLAGE_CODE))], by=STATION)
    assert (outside_place.code, outside_place.field) == ("outside_importer", "jurisdiction")
    assert "importing terminal" in outside_place.en and STATION in outside_place.en
    state, _ = history(WHOLE[:4], by=STATION)  # the township imports its villages' history, its own reviews too
    assert state.holder_unit == STATION
    outside_unit = refused(history, WHOLE, by=STATION)  # … but not the county bureau's re-review
    assert (outside_unit.code, outside_unit.field) == ("outside_importer", "unit") and BUREAU in outside_unit.en


def test_an_unknown_code_and_a_place_outside_the_unit_say_which():
    live = context(COUNTY, ROOM, ROLES, T0)
    unknown = refused(decide, None, register("361402999999"), live)
    assert (unknown.kind, unknown.code, unknown.field) == ("invalid", "unknown_jurisdiction", "jurisdiction")
    assert "county file has no such place" in unknown.en and "未知的区划代码" in unknown.zh
    outside = refused(decide, None, register(FAR_VILLAGE_CODE), live)
    assert (outside.kind, outside.code) == ("forbidden", "jurisdiction") and ROOM in outside.en
    unknown_unit = refused(context, COUNTY, "room.nowhere", ROLES, T0)
    assert (unknown_unit.code, unknown_unit.field) == ("unknown_unit", "unit") and "room.nowhere" in unknown_unit.en


def test_an_action_before_the_fact_it_needs_says_which_fact_in_plain_english():
    state, _ = history(WHOLE[:1])
    ctx = context(COUNTY, ROOM, ROLES, T0 + timedelta(days=1), state.holder_tier, importer(COUNTY, BUREAU))
    why = refused(decide, state, c.Reply(resolved=True, **ANSWER), ctx)
    assert why.en == "cannot reply: the matter is assigned and must first be accepted"
    assert why.zh == "事项当前状态为「已交办待受理」，须先受理才能答复"
    assert not re.search(r"[\u4e00-\u9fff]", why.en)  # no Chinese inside the English


def test_a_refusal_within_an_item_names_the_field_from_the_top_of_the_request():
    plain = Refused("invalid", "before_previous", "早", "early", "occurred_at")
    assert plain.within("actions.2").field == "actions.2.occurred_at"
    assert plain.within("actions.2").item == "actions.2"
    assert Refused("state", "status", "z", "e").within("batches.1").field == "batches.1"


def test_every_line_of_the_seed_quarter_is_decided_whole_by_the_county_bureau():
    service = IntakeService(None, COUNTY, None, "sha256")  # type: ignore[arg-type]  # decides only: no I/O
    bureau = Terminal(id="t-bureau", unit_id=BUREAU, roles=frozenset({"supervisor"}))
    records = seed_records("unit")
    final = {}
    for record in records:
        matter = ImportedMatter.model_validate(record)
        order = times(COUNTY, matter, datetime(2026, 12, 1, tzinfo=timezone.utc))
        made = steps(matter, order, "m1", "2019-361402-0000001", ())
        final[record["external_id"]], _ = service.decided(bureau, ROLES, Loaded(None), "m1", made, order[0][1],
                                                          order[0][1], None, imported=True)
    reviewed = through_review(records)
    assert reviewed and all(final[x].status == "reviewed" and final[x].resolved for x in reviewed)
    assert sum(state.status == "terminated" for state in final.values()) >= 3


def test_a_review_request_of_version_1_reads_as_version_2_with_no_reviewer():
    for name, model in (("review_requested", ReviewRequested), ("recheck_requested", RecheckRequested)):
        current, data = UPCASTERS.decode(f"petition.{name}.v1", {"reason": "不服"})
        assert current == f"petition.{name}.v2" and isinstance(data, model) and data.unit is None

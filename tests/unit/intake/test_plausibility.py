"""Dates and sizes intake refuses, and extensions by the rules: the pure checks, with the demo county."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from escalation.domain import clock as clocks
from intake.domain import commands as c
from intake.domain.decide import decide
from intake.domain.errors import Refused
from intake.domain.model import apply_routing, evolve
from intake.domain.occurred import CLOCK_SKEW, check_occurred_at
from intake.organisation import context
from xinfang.county import load_county
from xinfang.events.catalogue import Assigned, DeadlineChanged, ExtensionGranted
from xinfang.settings import DEMO_COUNTY

COUNTY = load_county(DEMO_COUNTY)
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in the county
ROOM, STATION = "room.361402001001", "station.361402001000"
VILLAGE_CODE = "361402001001"


def refused(call, *args, **kw) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args, **kw)
    return caught.value


# ---- check_occurred_at --------------------------------------------------------------------------

def test_a_live_fact_may_be_dated_back_by_the_offline_window_and_no_further():
    window = COUNTY.offline_window
    assert check_occurred_at(COUNTY, NOW - window, NOW) == NOW - window
    too_old = refused(check_occurred_at, COUNTY, NOW - window - timedelta(seconds=1), NOW)
    assert (too_old.kind, too_old.code, too_old.field) == ("invalid", "outside_offline_window", "occurred_at")
    assert "imports" in too_old.en and "7天" in too_old.zh


def test_no_time_means_now_and_a_fast_terminal_clock_is_taken_as_now():
    assert check_occurred_at(COUNTY, None, NOW) == NOW
    assert check_occurred_at(COUNTY, NOW + CLOCK_SKEW, NOW) == NOW
    ahead = refused(check_occurred_at, COUNTY, NOW + CLOCK_SKEW + timedelta(microseconds=1), NOW)
    assert (ahead.code, ahead.field) == ("occurred_in_future", "occurred_at")


@pytest.mark.parametrize("moment", [
    datetime(999, 12, 31, 23, 59, tzinfo=timezone.utc), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))),
    datetime(1800, 5, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-8))),
])
def test_impossible_and_centuries_old_dates_are_refused_live_and_in_imports(moment):
    assert refused(check_occurred_at, COUNTY, moment, NOW).field == "occurred_at"
    assert refused(check_occurred_at, COUNTY, moment, NOW, imported=True, field="batches.0.occurred_at").field \
        == "batches.0.occurred_at"


def test_imports_reach_back_to_the_countys_history_from_in_its_own_time():
    start = datetime(2000, 1, 1, tzinfo=COUNTY.zone)
    assert COUNTY.history_from == date(2000, 1, 1)
    assert check_occurred_at(COUNTY, start, NOW, imported=True) == start
    early = refused(check_occurred_at, COUNTY, start - timedelta(microseconds=1), NOW, imported=True)
    assert early.code == "before_history_from" and "2000-01-01" in early.en
    later = COUNTY.model_copy(update={"history_from": date(2015, 1, 1)})
    first_moment = datetime(2014, 12, 31, 16, 0, tzinfo=timezone.utc)  # 2015-01-01 00:00 in the county
    assert check_occurred_at(later, first_moment, NOW, imported=True) == first_moment
    assert refused(check_occurred_at, later, first_moment - timedelta(seconds=1), NOW,
                   imported=True).code == "before_history_from"


# ---- decide: order and size ---------------------------------------------------------------------

def ctx(unit=ROOM, now=NOW, tier=None):
    return context(COUNTY, unit, frozenset({"registrar", "handler", "supervisor"}), now, tier)


def run(state, command, context_):
    for data in decide(state, command, context_):
        state = evolve(state, data, context_.now, (state.seq if state else 0) + 1)
    return state


def register(head_count=3, now=NOW):
    return run(None, c.RegisterPetition(petition_id="m1", receipt_no="2026-361402-0000001", batch_id="b1",
                                        channel="visit", jurisdiction=VILLAGE_CODE, category="labour",
                                        summary="欠薪", head_count=head_count), ctx(now=now))


def assigned(state, unit=ROOM, tier="village", handle_due=None):
    state = apply_routing(state, Assigned(unit=unit, tier=tier, jurisdiction=VILLAGE_CODE, rule="t", stage="accept",
                                          basis_seq=state.seq), NOW)
    if handle_due is not None:
        state = apply_routing(state, DeadlineChanged(unit=unit, stage="handle", due_at=handle_due,
                                                     reason="accepted"), NOW)
    return state


def test_a_batch_above_the_countys_head_count_bound_is_refused_naming_the_field():
    assert register(COUNTY.max_head_count).head_count == 2000
    too_many = refused(register, COUNTY.max_head_count + 1)
    assert (too_many.kind, too_many.field) == ("invalid", "head_count") and "2000" in too_many.en
    s = register()
    visit = refused(run, s, c.RecordVisit(batch_id="b2", channel="visit", head_count=2001), ctx())
    assert visit.field == "head_count"


def test_a_visit_before_its_matters_first_batch_is_refused_one_after_it_counts():
    s = register(now=NOW)
    early = refused(run, s, c.RecordVisit(batch_id="b2", channel="visit", head_count=2), ctx(now=NOW - timedelta(hours=1)))
    assert (early.code, early.field) == ("before_previous", "occurred_at") and "first batch" in early.en
    assert run(s, c.RecordVisit(batch_id="b2", channel="visit", head_count=2), ctx(now=NOW)).batches == 2


def test_an_action_before_the_step_it_follows_is_refused_but_not_before_a_later_visit():
    s = run(assigned(register()), c.Accept(), ctx(now=NOW + timedelta(hours=2)))
    reply = c.Reply(decision="support", resolved=True, facts="已查明", grounds="已解决")
    early = refused(run, s, reply, ctx(now=NOW + timedelta(hours=1)))
    assert (early.code, early.field) == ("before_previous", "occurred_at") and "procedure" in early.en
    # a visit recorded meanwhile is beside the procedure: an offline reply dated before it still counts
    s = run(s, c.RecordVisit(batch_id="b2", channel="visit", head_count=1), ctx(now=NOW + timedelta(hours=5)))
    assert run(s, reply, ctx(now=NOW + timedelta(hours=3))).status == "replied"


def test_a_refusal_by_the_matters_state_is_said_before_one_by_the_date():
    s = register()
    assert refused(run, s, c.Accept(), ctx(now=NOW - timedelta(hours=1))).code == "status"


# ---- extensions -------------------------------------------------------------------------------

def accepted(tier="village", unit=ROOM, handle_due="2026-03-09T09:59:59.999999Z"):
    return run(assigned(register(), unit, tier, handle_due), c.Accept(), ctx())


@pytest.mark.parametrize("tier, unit", [("village", ROOM), ("township", STATION)])
def test_extension_days_above_the_tiers_limit_are_refused_naming_the_limit(tier, unit):
    limit = COUNTY.limit(tier, "extension")
    s = run(assigned(register(), unit, tier), c.Accept(), ctx(unit))
    over = refused(run, s, c.Extend(days=limit.amount + 1, reason="复杂"), ctx(unit, tier=tier))
    assert (over.kind, over.code, over.field) == ("invalid", "days", "days")
    assert str(limit) in over.en and f"1 to {limit.amount}" in over.en
    assert run(s, c.Extend(days=limit.amount, reason="复杂"), ctx(unit, tier=tier)).extended


def test_an_extension_after_the_handling_limit_passed_is_refused_with_the_reason():
    s = accepted(handle_due="2026-03-02T03:00:00.000000Z")
    late = refused(run, s, c.Extend(days=1, reason="来不及"), ctx(now=NOW + timedelta(hours=1, seconds=1), tier="village"))
    assert (late.kind, late.code) == ("state", "handle_due_passed") and "2026-03-02T03:00:00" in late.en
    assert run(s, c.Extend(days=1, reason="及时"), ctx(now=NOW + timedelta(hours=1), tier="village")).extended


@pytest.mark.parametrize("tier, unit", [("village", ROOM), ("township", STATION), ("county", "bureau.361402")])
def test_the_granted_days_are_the_days_escalation_applies(tier, unit):
    """What intake lets through, escalation applies as recorded: the event's days move its due by exactly that."""
    limit = COUNTY.limit(tier, "extension")
    s = run(assigned(register(), unit, tier), c.Accept(), ctx(unit))
    [granted] = decide(s, c.Extend(days=limit.amount, reason="复杂"), ctx(unit, tier=tier))
    assert isinstance(granted, ExtensionGranted) and granted.days == limit.amount
    handling = clocks.start(COUNTY, unit, tier, "handle", NOW)
    longer = clocks.extended(COUNTY, handling, granted.days)
    assert longer.due_at == COUNTY.work_calendar.add_days(handling.due_at, granted.days, limit.unit, COUNTY.zone)
    assert longer.due_at > clocks.extended(COUNTY, handling, granted.days - 1).due_at  # nothing capped


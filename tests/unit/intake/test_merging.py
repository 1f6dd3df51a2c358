"""并单: the rules of merging a matter into the one it repeats, and of undoing it once."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from intake.domain import commands as c
from intake.domain.decide import decide, survivor_event
from intake.domain.errors import Refused
from intake.domain.model import apply_routing, evolve
from intake.domain.repeats import may_repeat
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run
from xinfang.events.catalogue import DeadlineChanged, MergeReceived, MergeUndone

MERGED, SURVIVOR, OTHER = (f"00000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
LATER = T0 + timedelta(hours=1)


def matter(pid: str, **kw):
    state = assigned(run(None, register(petition_id=pid, receipt_no=f"2026-{pid[-4:]}", **kw), ctx()))
    return replace(state, petition_id=pid)


def boss(unit="county-bureau", roles=("supervisor",), now=LATER):
    return ctx(unit, roles=roles, now=now)


def merge(state, survivor, context=None):
    return run(state, c.Merge(into=survivor.petition_id if survivor else OTHER, reason="误登记为新件",
                              survivor=survivor), context or boss())


def refusal(state, command, context=None) -> Refused:
    with pytest.raises(Refused) as refused:
        decide(state, command, context or boss())
    return refused.value


def test_a_merge_closes_the_merged_matters_dues_and_points_at_the_survivor():
    merged = merge(matter(MERGED), matter(SURVIVOR))
    assert (merged.status, merged.label, merged.merged_into, merged.due) == ("merged", "已并单", SURVIVOR, ())
    assert merged.premerge_status == "assigned" and merged.premerge_due


def test_the_survivor_counts_the_merged_matters_batches_and_gives_them_back_on_an_unmerge():
    before = matter(MERGED, head_count=4)
    survivor = matter(SURVIVOR)
    got = evolve(survivor, survivor_event(before, False, "county-bureau"), LATER, survivor.seq + 1)
    assert isinstance(survivor_event(before, False, "county-bureau"), MergeReceived)
    assert (got.batches, got.head_count, got.merged_in) == (2, 7, (MERGED,))
    assert got.status == survivor.status and got.due == survivor.due  # the survivor's clocks unchanged
    back = evolve(got, survivor_event(before, True, "county-bureau"), LATER, got.seq + 1)
    assert isinstance(survivor_event(before, True, "county-bureau"), MergeUndone)
    assert (back.batches, back.head_count, back.merged_in) == (1, 3, ())


def test_an_unmerge_by_the_bureau_restores_status_and_dues_once():
    original = matter(MERGED)
    merged = merge(original, matter(SURVIVOR))
    assert refusal(merged, c.Unmerge(reason="并单有误"), boss(now=LATER + timedelta(hours=1))).code == "into"
    back = run(merged, c.Unmerge(reason="并单有误", survivor=matter(SURVIVOR)), boss(now=LATER + timedelta(hours=1)))
    assert (back.status, back.due, back.merged_into, back.unmerged) == ("assigned", original.due, None, True)
    again = refusal(back, c.Merge(into=SURVIVOR, reason="再次并单", survivor=matter(SURVIVOR)),
                    boss(now=LATER + timedelta(hours=2)))
    assert again.code == "unmerged_once" and "一次" in again.zh and "once" in again.en


def test_a_routing_fact_learned_after_the_merge_changes_what_the_unmerge_restores():
    merged = merge(matter(MERGED), matter(SURVIVOR))
    changed = DeadlineChanged(unit="room-1", stage="handle", due_at="2026-04-01T00:00:00Z", reason="accepted")
    later = apply_routing(merged, changed, LATER)
    assert (later.status, later.due) == ("merged", ())
    assert [stage for stage, _, _ in later.premerge_due] == ["handle"]


@pytest.mark.parametrize("survivor, code, kind", [
    (None, "into", "not_found"),
    ("self", "merge_self", "invalid"),
    ("merged", "into_merged", "state"),
    ("closed", "into_closed", "state"),
    ("far", "into", "not_found"),
])
def test_refusals_name_the_survivor_in_both_languages(survivor, code, kind):
    state = matter(MERGED)
    target = {None: None, "self": state, "merged": replace(matter(SURVIVOR), merged_into=OTHER),
              "closed": replace(matter(SURVIVOR), status="withdrawn"),
              "far": replace(matter(SURVIVOR), jurisdiction="120105001001")}[survivor]
    refused = refusal(state, c.Merge(into=target.petition_id if target else OTHER, reason="重复", survivor=target))
    assert (refused.code, refused.kind, refused.field) == (code, kind, "into")
    assert refused.zh and refused.en and refused.zh != refused.en


def test_only_a_supervisor_merges_and_only_the_bureau_unmerges():
    state, survivor = matter(MERGED), matter(SURVIVOR)
    assert refusal(state, c.Merge(into=SURVIVOR, reason="重复", survivor=survivor),
                   boss(roles=("registrar", "handler"))).code == "role"
    merged = merge(state, survivor, boss("station-1"))  # a township supervisor may merge in its jurisdiction
    undo = c.Unmerge(reason="误", survivor=survivor)
    assert refusal(merged, undo, boss("station-1", now=LATER + timedelta(hours=1))).code == "bureau_only"
    assert refusal(state, c.Unmerge(reason="误")).code == "not_merged"


def test_a_merged_matter_takes_no_other_action_and_is_not_merged_twice():
    merged = merge(matter(MERGED), matter(SURVIVOR))
    refused = refusal(merged, c.Accept(), ctx(now=LATER + timedelta(hours=1)))
    assert refused.code == "merged" and SURVIVOR in refused.zh and SURVIVOR in refused.en
    assert refusal(merged, c.Merge(into=OTHER, reason="重复", survivor=matter(OTHER)),
                   boss(now=LATER + timedelta(hours=1))).code == "merged"
    visit = c.RecordVisit(batch_id="b2", channel="visit", head_count=1)
    assert refusal(merged, visit, ctx(now=LATER + timedelta(hours=1))).code == "merged"


def test_a_matter_others_were_merged_into_is_not_merged_itself():
    survivor = replace(matter(SURVIVOR), merged_in=(OTHER,))
    refused = refusal(survivor, c.Merge(into=MERGED, reason="重复", survivor=matter(MERGED)))
    assert refused.code == "has_merged"


def test_a_merged_matter_is_no_possible_repeat_its_survivor_is():
    merged, survivor = merge(matter(MERGED), matter(SURVIVOR)), matter(SURVIVOR)
    assert not may_repeat(merged, LATER, timedelta(days=365))
    assert may_repeat(survivor, LATER, timedelta(days=365))

"""The web terminal's list of actions (intake.api.timeline): decide() itself says which a terminal may take now."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from intake.api.timeline import OFFERED, _option
from intake.domain import commands as c
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run
from xinfang.vocabulary import ACTION_LABELS


def options(state, context) -> dict[str, tuple[bool, str | None]]:
    return {name: (o.allowed, o.reason_zh) for name in OFFERED for o in [_option(name, state, context)]}


def test_an_assigned_matter_offers_its_holder_acceptance_and_says_why_not_a_reply():
    state = assigned(run(None, register(), ctx()))
    offered = options(state, ctx("room-1", ("handler",), now=T0 + timedelta(seconds=1)))
    assert {name for name, (allowed, _) in offered.items() if allowed} == {"accept", "decline", "transfer", "object",
                                                                          "withdraw"}
    assert offered["reply"] == (False, "事项当前状态为「已交办待受理」，须先受理才能答复")
    assert offered["resume"] == (False, "计时未中止")
    assert offered["extend"] == (False, "当前终端无权批准延期 approve an extension")  # a supervisor's


def test_another_unit_is_told_it_does_not_hold_the_matter():
    state = assigned(run(None, register(), ctx()))
    allowed, reason = _option("accept", state, ctx("room-2", ("handler",), now=T0 + timedelta(seconds=1))).model_dump(
        include={"allowed", "reason_zh"}).values()
    assert not allowed and "承办单位" in reason


def test_a_refusal_of_the_sample_body_itself_does_not_hide_the_action():
    """extend is asked with days=1: what the supervisor's form then asks for is the server's to judge."""
    state = run(assigned(run(None, register(), ctx())), c.Accept(), ctx(now=T0 + timedelta(seconds=1)))
    option = _option("extend", state, ctx("room-1", ("supervisor",), now=T0 + timedelta(seconds=2)))
    assert option.allowed and option.label == ACTION_LABELS["extend"] == "延期"


def test_a_supervisors_page_offers_merge_and_only_the_bureaus_the_undo_each_with_decides_reason():
    from unit.intake.test_merging import LATER, MERGED, OTHER, SURVIVOR, boss, matter, merge

    state = matter(MERGED)
    assert options(state, boss())["merge"] == (True, None)
    assert options(state, boss())["unmerge"] == (False, "本事项未并单")
    assert not options(state, boss(roles=("handler",)))["merge"][0]             # a supervisor's
    took_in = options(replace(state, merged_in=(OTHER,)), boss())["merge"]     # the survivor of another merge
    assert took_in == (False, "已有其他事项并入本事项，不能再将本事项并出")
    merged = merge(state, matter(SURVIVOR))
    later = LATER + timedelta(hours=1)
    assert options(merged, boss(now=later))["unmerge"] == (True, None)        # the survivor is read when it is sent
    assert options(merged, boss("station-1", now=later))["unmerge"] == (False, "只有县级信访部门的主管可以撤销并单")
    offered = options(merged, boss(now=later))
    assert not offered["merge"][0] and SURVIVOR in offered["merge"][1] and not offered["accept"][0]

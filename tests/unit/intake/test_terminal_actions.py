"""The web terminal's list of actions (intake.api.timeline): decide() itself says which a terminal may take now."""
from __future__ import annotations

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

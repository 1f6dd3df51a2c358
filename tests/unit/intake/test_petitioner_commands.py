"""The petitioner (the portal) evaluates and asks for review through the same decide as a clerk, and does nothing else."""
from __future__ import annotations

from datetime import timedelta

import pytest

from intake.domain import commands as c
from intake.domain.errors import Refused
from intake.domain.model import apply_routing
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run
from xinfang.events.catalogue import Evaluated, ReviewAssigned
from xinfang.events.upcasting import UPCASTERS

PETITIONER = ("petitioner",)


@pytest.fixture
def replied():
    state = assigned(run(None, register(), ctx()))
    state = run(state, c.Accept(), ctx())
    return run(state, c.Reply(decision="explain", resolved=True, facts="已查明", grounds="已解释"), ctx())


def test_the_petitioner_evaluates_once_with_a_remark(replied):
    later = ctx(roles=PETITIONER, now=T0 + timedelta(days=1))
    evaluated = run(replied, c.Evaluate(satisfaction="basically_satisfied", remark="办事快"), later)
    assert evaluated.evaluated
    with pytest.raises(Refused) as refused:
        run(evaluated, c.Evaluate(satisfaction="satisfied"), later)
    assert refused.value.code == "evaluated"


def test_the_petitioner_asks_for_review_within_the_window_and_not_after(replied):
    assert run(replied, c.RequestReview(reason="不服"), ctx(roles=PETITIONER, now=T0 + timedelta(days=5))).status \
        == "review_requested"
    with pytest.raises(Refused) as refused:
        run(replied, c.RequestReview(reason="不服"), ctx(roles=PETITIONER, now=T0 + timedelta(days=45)))
    assert refused.value.code == "window_closed"


def test_the_petitioner_asks_for_re_review_after_the_reviews_reply(replied):
    later = T0 + timedelta(days=3)
    s = run(replied, c.RequestReview(reason="不服"), ctx(roles=PETITIONER, now=later))
    s = apply_routing(s, ReviewAssigned(kind="review", unit="station-1", tier="township", basis_seq=s.seq), later)
    s = run(s, c.ReplyReview(decision="explain", resolved=False, facts="已查明", grounds="维持"), ctx("station-1", now=later))
    assert run(s, c.RequestRecheck(reason="仍不服"), ctx(roles=PETITIONER, now=later)).status == "recheck_requested"


@pytest.mark.parametrize("command", [c.Accept(), c.Withdraw(), c.Reply(decision="support", resolved=True,
                                                                       facts="已查明", grounds="x")])
def test_the_petitioner_may_do_nothing_else(command):
    state = assigned(run(None, register(), ctx()))
    with pytest.raises(Refused) as refused:
        run(state, command, ctx(roles=PETITIONER))
    assert refused.value.code == "role"


def test_a_v1_evaluation_reads_as_v2_without_a_remark():
    event_type, data = UPCASTERS.decode("petition.evaluated.v1", {"satisfaction": "satisfied"})
    assert event_type == "petition.evaluated.v2" and data == Evaluated(satisfaction="satisfied", remark=None)

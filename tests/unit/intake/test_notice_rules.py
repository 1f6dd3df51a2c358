"""Issuing a notice is a fact: who may issue which kind, what the event holds, and the review window it starts."""
from __future__ import annotations

from datetime import timedelta

import pytest

from intake.domain import commands as c
from intake.domain.errors import Refused
from unit.intake.test_lifecycle import T0, assigned, ctx, register, run

HASH = "ab" * 32


def issue(kind="opinion", basis_seq=3, delivery="desk") -> c.IssueNotice:
    return c.IssueNotice(notice_id="0" * 32, kind=kind, delivery=delivery, basis_seq=basis_seq, title="信访事项处理意见书",
                         body=("{petitioners}：", "处理意见：{decision}。"), fields=(("decision", "支持"),),
                         addressed=("p1",), pdf_sha256=HASH, docx_sha256=HASH)


@pytest.fixture
def replied():
    """Registered (seq 1) and accepted (seq 2) by room 1, replied at T0 (seq 3)."""
    state = assigned(run(None, register(), ctx()))
    state = run(state, c.Accept(), ctx())
    return run(state, c.Reply(decision="support", resolved=False, facts="已查明", grounds="已协调"), ctx())


def test_each_fact_a_notice_tells_is_remembered_with_its_seq_and_unit(replied):
    assert replied.notice_fact("receipt")[:2] == (1, "room-1")
    assert replied.notice_fact("acceptance")[:2] == (2, "room-1")
    assert replied.notice_fact("opinion")[:2] == (3, "room-1")
    assert replied.notice_fact("declined") is None and replied.notice_fact("review_opinion") is None


def test_the_event_names_the_deciding_unit_and_holds_no_personal_data(replied):
    state = run(replied, issue(), ctx("station-1", roles=("handler",), now=T0 + timedelta(days=1)))
    assert state.seq == 4 and state.status == "replied"  # a notice is no step of the procedure


def test_a_notice_with_nothing_to_tell_is_refused(replied):
    with pytest.raises(Refused) as refused:
        run(replied, issue("declined", 3), ctx())
    assert refused.value.code == "nothing_to_tell" and refused.value.kind == "state"


def test_a_registrar_may_issue_the_receipt_slip_but_not_the_opinion(replied):
    clerk = ctx(roles=("registrar",), now=T0 + timedelta(days=1))
    assert run(replied, issue("receipt", 1), clerk).seq == 4
    with pytest.raises(Refused) as refused:
        run(replied, issue("opinion", 3), clerk)
    assert refused.value.code == "role"


def test_another_unit_may_not_issue_it_a_unit_above_may(replied):
    with pytest.raises(Refused) as refused:
        run(replied, issue(), ctx("room-2"))
    assert refused.value.code == "not_issuer" and "room-1" in refused.value.en
    assert run(replied, issue(), ctx("county-bureau")).seq == 4


def test_a_notice_composed_on_an_older_fact_is_refused(replied):
    with pytest.raises(Refused) as refused:
        run(replied, issue("opinion", 2), ctx())
    assert refused.value.code == "notice_outdated"


def test_the_review_window_counts_from_the_recorded_delivery_of_the_written_reply(replied):
    delivered = run(replied, issue(delivery="post"), ctx(now=T0 + timedelta(days=20)))
    assert delivered.answer_delivered_at == T0 + timedelta(days=20)
    late = ctx(roles=("registrar",), now=T0 + timedelta(days=40))  # 40 days after the reply, 20 after delivery
    assert run(delivered, c.RequestReview(reason="不服"), late).status == "review_requested"
    with pytest.raises(Refused) as refused:  # never delivered: 40 days after the reply is too late
        run(replied, c.RequestReview(reason="不服"), late)
    assert refused.value.code == "window_closed"


def test_only_the_first_delivery_of_the_latest_answer_starts_the_window(replied):
    first = run(replied, issue(), ctx(now=T0 + timedelta(days=2)))
    again = run(first, issue(), ctx(now=T0 + timedelta(days=9)))
    assert again.answer_delivered_at == T0 + timedelta(days=2)
    receipt = run(replied, issue("receipt", 1), ctx(now=T0 + timedelta(days=2)))
    assert receipt.answer_delivered_at is None  # a receipt slip delivers no answer

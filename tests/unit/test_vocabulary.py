"""The vocabulary: every word has its Chinese label, and the ordered tuples list the same words."""
from typing import get_args

import pytest

from xinfang import vocabulary as v


@pytest.mark.parametrize("word, labels", [
    (v.Channel, v.CHANNEL_LABELS), (v.Tier, v.TIER_LABELS), (v.Stage, v.STAGE_LABELS),
    (v.LimitKind, v.LIMIT_LABELS), (v.Decision, v.DECISION_LABELS), (v.Satisfaction, v.SATISFACTION_LABELS),
    (v.Redirect, v.REDIRECT_LABELS), (v.NoticeKind, v.NOTICE_LABELS), (v.Delivery, v.DELIVERY_LABELS),
])
def test_every_word_has_a_chinese_label(word, labels):
    assert list(labels) == list(get_args(word))


def test_the_ordered_tuples_hold_every_word_once():
    assert v.TIERS == get_args(v.Tier) and v.LIMIT_KINDS == get_args(v.LimitKind)
    assert v.NOTICE_KINDS == get_args(v.NoticeKind)

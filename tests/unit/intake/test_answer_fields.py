"""An answer (reply, review's and re-review's reply) states the facts found and the grounds apart, both required."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from intake.api.schemas import ActionIn

ACTION = TypeAdapter(ActionIn)
ANSWER = {"decision": "explain", "resolved": False}


@pytest.mark.parametrize("action", ["reply", "reply_review", "reply_recheck"])
def test_an_answer_takes_its_facts_and_its_grounds_stripped(action):
    body = ACTION.validate_python({"action": action, **ANSWER, "facts": " 欠薪属实 ", "grounds": "依照条例第三条"})
    assert (body.facts, body.grounds) == ("欠薪属实", "依照条例第三条")


@pytest.mark.parametrize("action", ["reply", "reply_review", "reply_recheck"])
@pytest.mark.parametrize("texts, field, kind", [
    ({"grounds": "理由"}, "facts", "missing"),
    ({"facts": "事实"}, "grounds", "missing"),
    ({"facts": "   ", "grounds": "理由"}, "facts", "string_too_short"),
    ({"facts": "事" * 4001, "grounds": "理由"}, "facts", "string_too_long"),
    ({"facts": "事实", "grounds": "理" * 4001}, "grounds", "string_too_long"),
    ({"opinion": "一段话"}, "opinion", "extra_forbidden"),  # v1's one text is no longer taken
])
def test_an_answer_without_either_text_or_with_one_too_long_is_refused_naming_the_field(action, texts, field, kind):
    with pytest.raises(ValidationError) as refused:
        ACTION.validate_python({"action": action, **ANSWER, **texts})
    assert (action, field, kind) in {(*e["loc"], e["type"]) for e in refused.value.errors()}

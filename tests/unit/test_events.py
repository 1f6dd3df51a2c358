"""Envelope, canonical form, hashes, catalogue, upcasting and derived ids."""
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from xinfang.events import (
    CATALOGUE,
    GENESIS_HASH,
    UPCASTERS,
    CloudEvent,
    Upcasters,
    canonical_json,
    data_model_for,
    derived_event_id,
    digest,
    event_type_of,
)
from xinfang.events.catalogue import Registered
from xinfang.events.envelope import parse_time, rfc3339

NOW = datetime(2026, 11, 28, 6, 30, tzinfo=timezone.utc)
ENCRYPTED = "enc:aes-gcm:p1:bm9uY2U:Y2lwaGVy"


def registered(**overrides) -> dict:
    data = dict(receipt_no="2026-110105-000001", batch_id="b1", channel="visit",
                jurisdiction="110105001001", category="labour", summary="拖欠工资",
                head_count=12, petitioners=[{"ref": "p1", "name": ENCRYPTED}],
                unit="room-001", tier="village")
    data.update(overrides)
    return Registered(**data).model_dump(mode="json")


def chained(seq=1, prevhash=GENESIS_HASH, alg="sha256", **kw) -> CloudEvent:
    return CloudEvent.chained(event_id=f"e{seq}", source="/xinfang/110105/intake",
                              type="petition.registered.v1", subject="m1", recorded=NOW,
                              occurred=NOW - timedelta(days=2), actor="terminal:t1", seq=seq,
                              prevhash=prevhash, data=registered(**kw), hashalg=alg)


def test_canonical_form_sorts_keys_and_keeps_chinese_as_utf8():
    assert canonical_json({"b": 1, "a": "信访"}) == '{"a":"信访","b":1}'.encode()


def test_floats_are_refused_because_they_have_no_canonical_text():
    with pytest.raises(ValueError, match=r"\$.data.x"):
        canonical_json({"data": {"x": 1.5}})


def test_wire_bytes_are_canonical_and_the_hash_verifies():
    event = chained()
    raw = event.to_json()
    assert raw == canonical_json(orjson.loads(raw))
    back = CloudEvent.from_json(raw)
    assert back == event and back.hash_ok()
    assert back.occurred_at < back.recorded_at


def test_sm3_chain_differs_from_sha256_and_verifies():
    sha, sm3 = chained(alg="sha256"), chained(alg="sm3")
    assert sha.hash != sm3.hash and sm3.hash_ok()
    # GB/T 32905 test vector "abc"
    assert digest(b"abc", "sm3") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_a_changed_field_breaks_the_hash():
    envelope = chained().envelope()
    envelope["data"]["head_count"] = 13
    assert not CloudEvent.model_validate(envelope).hash_ok()


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        CloudEvent.chained(event_id="e", source="s", type="petition.accepted.v1", subject="m",
                           recorded=datetime(2026, 1, 1), occurred=NOW, actor="unit:u", seq=1,
                           prevhash=GENESIS_HASH, data={"unit": "u"})


def test_plain_personal_data_is_refused_by_the_contract():
    with pytest.raises(ValidationError, match="petitioners"):
        registered(petitioners=[{"ref": "p1", "name": "张三"}])


def test_every_type_is_versioned_and_maps_back():
    for event_type, (model, role) in CATALOGUE.items():
        assert event_type.rsplit(".", 1)[1].startswith("v")
        assert role in ("events", "routing", "terminals")
        assert data_model_for(event_type) is model
    assert event_type_of(Registered.model_validate(registered())) == "petition.registered.v1"
    with pytest.raises(KeyError, match="unknown event type"):
        data_model_for("petition.nonsense.v1")


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError, match="extra"):
        Registered.model_validate({**registered(), "surprise": 1})


def test_upcasters_chain_old_versions_to_the_current_model():
    registry = Upcasters()

    @registry.register("petition.accepted.v0", "petition.accepted.v1")
    def _(data):
        data["unit"] = data.pop("unit_id")
        return data

    event_type, data = registry.decode("petition.accepted.v0", {"unit_id": "u1"})
    assert event_type == "petition.accepted.v1" and data.unit == "u1"
    with pytest.raises(ValueError):
        registry.register("petition.accepted.v0", "petition.accepted.v1")(lambda d: d)


@pytest.mark.parametrize("name", ["replied", "review_replied", "recheck_replied"])
def test_a_v1_answers_one_opinion_reads_as_the_grounds_with_no_facts_stated_apart(name):
    v1 = {"unit": "u1", "decision": "explain", "resolved": False, "opinion": "经核实，已向信访人解释政策。"}
    event_type, data = UPCASTERS.decode(f"petition.{name}.v1", v1)
    assert event_type == f"petition.{name}.v2"
    assert (data.grounds, data.facts) == ("经核实，已向信访人解释政策。", None)
    assert "opinion" not in data.model_dump() and v1["opinion"]  # the stored v1 data is not changed


@pytest.mark.parametrize("name", ["replied", "review_replied", "recheck_replied"])
def test_a_v2_answer_needs_its_grounds_and_bounds_both_texts(name):
    model = data_model_for(f"petition.{name}.v2")
    answer = {"unit": "u1", "decision": "support", "resolved": True}
    assert model.model_validate(answer | {"facts": "事实", "grounds": "理由"}).facts == "事实"
    for wrong, field in ((answer | {"facts": "事实"}, "grounds"), (answer | {"facts": "", "grounds": "理由"}, "facts"),
                         (answer | {"facts": "事", "grounds": "理" * 4001}, "grounds")):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(wrong)
        assert [e["loc"] for e in refused.value.errors()] == [(field,)]


def test_an_event_of_a_current_type_is_read_in_one_pass_as_in_two_steps():
    registry = Upcasters()
    event = chained()
    read = registry.read_current(event.to_json())
    assert isinstance(read, CloudEvent) and isinstance(read.data, Registered)
    assert read.data == registry.decode(event.type, event.data)[1]
    assert read.envelope() == event.envelope() and read.hash_ok()
    # what the one pass does not read is left to the two steps, which say what is wrong
    assert registry.read_current(b"{not json") is None
    assert registry.read_current(event.to_json().replace(b'"labour"', b'1')) is None  # data off its model
    wrong_hash = orjson.loads(event.to_json()) | {"hash": "x"}
    assert registry.read_current(orjson.dumps(wrong_hash)) is None  # envelope off its model
    old = orjson.loads(event.to_json()) | {"type": "petition.registered.v0"}
    assert registry.read_current(orjson.dumps(old)) is None


def test_a_type_given_an_upcaster_is_no_longer_read_in_one_pass():
    registry = Upcasters()
    accepted = CloudEvent.chained(event_id="a1", source="/xinfang/110105/intake", type="petition.accepted.v1",
                                  subject="m1", recorded=NOW, occurred=NOW, actor="unit:u1", seq=2,
                                  prevhash=GENESIS_HASH, data={"unit": "u1"})
    assert registry.read_current(accepted.to_json()) is not None
    registry.register("petition.accepted.v1", "petition.accepted.v2")(lambda d: d)
    assert registry.read_current(accepted.to_json()) is None


def test_derived_ids_are_deterministic_and_distinguish_breaches():
    first = derived_event_id("m1", "overdue", "accept", "room-1", "2026-12-01T00:00:00Z")
    again = derived_event_id("m1", "overdue", "accept", "room-1", "2026-12-01T00:00:00Z")
    later = derived_event_id("m1", "overdue", "accept", "room-1", "2026-12-31T00:00:00Z")
    assert first == again != later


def _utc_representable(moment: datetime) -> bool:
    try:
        moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+08:00 lies before the first instant a datetime holds
        return False
    return True


ZONES = st.one_of(st.timezones(), st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23, minutes=59),
                                                                     max_value=timedelta(hours=23, minutes=59))))


@settings(max_examples=500)
@given(moment=st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=ZONES).filter(_utc_representable))
def test_every_instant_round_trips_through_the_envelope_with_a_four_digit_year(moment):
    text = rfc3339(moment)
    assert len(text) == len("0999-01-01T00:00:00.000000Z") and text.endswith("Z")
    assert parse_time(text) == moment.astimezone(timezone.utc)
    event = CloudEvent.chained(event_id="e1", source="/xinfang/110105/intake", type="petition.registered.v1",
                               subject="m1", recorded=NOW, occurred=moment, actor="terminal:t1", seq=1,
                               prevhash=GENESIS_HASH, data=registered())
    back = CloudEvent.from_json(event.to_json())
    assert back.occurred_at == moment.astimezone(timezone.utc) and back.hash_ok()


def test_the_year_999_is_written_with_four_digits():
    moment = datetime(999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert rfc3339(moment) == "0999-12-31T23:59:59.000000Z" and parse_time(rfc3339(moment)) == moment

"""The city audit's checks on what was read: a county's records against the city's copies, and two answers."""
from __future__ import annotations

from types import SimpleNamespace

import orjson

from reporting.audit.city import compare_copies, compare_figures, figures_of


def record(topic: str, offset: int, event_id: str, seq: int = 1, partition: int = 0):
    value = orjson.dumps({"id": event_id, "subject": f"pid-{event_id}", "source": "/xinfang/361402/intake", "seq": seq})
    return SimpleNamespace(topic=topic, partition=partition, offset=offset, value=value)


def test_a_faithful_copy_at_other_offsets_has_no_finding():
    county = [[record("petition.events", 0, "a"), record("petition.events", 1, "b")]]
    city = [[record("east.petition.events", 7, "b"), record("east.petition.events", 9, "a")]]
    copy = compare_copies("east", "petition.events", "east.petition.events", county, city)
    assert (copy.county_records, copy.city_records, copy.findings) == (2, 2, [])


def test_missing_injected_and_duplicated_records_are_named():
    county = [[record("petition.events", 0, "a"), record("petition.events", 1, "b"), record("petition.events", 2, "c")]]
    city = [[record("east.petition.events", 0, "a"), record("east.petition.events", 1, "a"),
             record("east.petition.events", 2, "c"), record("east.petition.events", 3, "x")]]
    copy = compare_copies("east", "petition.events", "east.petition.events", county, city)
    kinds = sorted((f.kind, f.event_id) for f in copy.findings)
    assert kinds == [("duplicate", "a"), ("injected", "x"), ("missing", "b")]
    assert [f.kind for f in copy.serious] == sorted(["injected", "missing"], key=[f.kind for f in copy.serious].index)
    missing = next(f for f in copy.findings if f.kind == "missing")
    assert "petition.events[0]@1" in missing.detail and missing.subject == "pid-b"  # where the county holds it
    assert copy.as_dict()["findings_by_kind"] == {"duplicate": 1, "injected": 1, "missing": 1}


def test_a_record_the_county_holds_twice_copied_twice_is_no_duplicate():
    county = [[record("petition.events", 0, "a"), record("petition.events", 1, "a")]]
    city = [[record("east.petition.events", 0, "a"), record("east.petition.events", 1, "a")]]
    assert compare_copies("east", "petition.events", "east.petition.events", county, city).findings == []


def test_figures_are_compared_value_by_value_with_comparisons_parts_and_units():
    doc = {"figures": {"cases": {"value": 10, "yoy": {"value": 2}},
                       "timely_acceptance_rate": {"value": "90.0", "numerator": 9, "denominator": 10}},
           "units": [{"unit": "room.1", "name": "甲村", "tier": "village", "kind": "room", "cases": 4}]}
    assert compare_figures(doc, orjson.loads(orjson.dumps(doc))) == []
    assert len(figures_of(doc)) == 6
    other = orjson.loads(orjson.dumps(doc))
    other["figures"]["cases"]["yoy"]["value"] = 3
    other["units"][0]["cases"] = 5
    assert compare_figures(doc, other) == [{"figure": "cases.yoy", "county": 2, "city": 3},
                                           {"figure": "units.room.1.cases", "county": 4, "city": 5}]

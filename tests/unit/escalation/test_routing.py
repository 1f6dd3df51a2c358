"""Routing as pure functions: 属地 × 谁主管 × 四不推 and the county file's rules."""
from __future__ import annotations

from escalation.domain import placement
from unit.escalation.helpers import BUREAU, CITY, ROOM, STATION, TOWN, VILLAGE

DEMO_VILLAGE, DEMO_ROOM, DEMO_STATION = "361402101203", "room.361402101203", "station.361402101000"


def test_a_village_matter_stays_in_the_village_room(demo):
    place = placement.placed(demo, DEMO_VILLAGE, "labour", 1)
    assert (place.unit, place.tier, place.department, place.redirect) == (DEMO_ROOM, "village", None, None)
    assert place.rule == placement.DEFAULT_RULE


def test_a_law_related_matter_goes_to_the_county_with_its_department_and_legal_channel(demo):
    place = placement.placed(demo, DEMO_VILLAGE, "labour_dispute", 1)
    assert (place.unit, place.tier, place.department, place.redirect) == ("bureau.361402", "county", "dept.rsj",
                                                                          "arbitration")
    assert "涉法涉诉" in place.rule


def test_a_category_minimum_tier_and_a_collective_visit_raise_the_tier(demo):
    assert placement.placed(demo, DEMO_VILLAGE, "land", 1).tier == "county"  # 土地: county rule
    collective = placement.placed(demo, DEMO_VILLAGE, "labour", 5)
    assert (collective.unit, collective.tier) == (DEMO_STATION, "township")
    assert "集体访" in collective.rule
    assert placement.placed(demo, DEMO_VILLAGE, "labour", 4).tier == "village"


def test_collective_at_the_county_is_raised_to_the_city_and_never_above_the_top(demo):
    assert placement.placed(demo, DEMO_VILLAGE, "land", 50).unit == "city.361400"


def test_an_unknown_code_is_not_dropped_but_goes_to_the_county_bureau(fast):
    place = placement.placed(fast, VILLAGE, "no-such-category", 1)
    assert (place.unit, place.rule) == (BUREAU, placement.FALLBACK_RULE)
    assert placement.placed(fast, "999999999999", "labour", 1).unit == BUREAU


def test_a_transfer_to_a_named_department_names_it(fast):
    place = placement.transferred(fast, VILLAGE, "labour", 1, "dept.rsj")
    assert (place.unit, place.tier, place.department, place.rule) == ("dept.rsj", "county", "dept.rsj",
                                                                      placement.TRANSFER_RULE)


def test_a_transfer_without_a_unit_routes_again_by_the_new_category(fast):
    assert placement.transferred(fast, VILLAGE, "land", 1, None).unit == BUREAU
    assert placement.transferred(fast, VILLAGE, "labour", 1, None).unit == ROOM


def test_an_objection_goes_one_tier_above_each_objector(fast):
    assert placement.after_objection(fast, VILLAGE, "labour", 1, (ROOM,)).unit == STATION
    twice = placement.after_objection(fast, VILLAGE, "labour", 1, (ROOM, STATION))
    assert (twice.unit, twice.rule) == (BUREAU, placement.OBJECTION_RULE)
    assert placement.after_objection(fast, VILLAGE, "labour", 1, ("dept.rsj",)).unit == ROOM


def test_review_goes_above_the_unit_that_replied_and_the_top_keeps_its_own(fast):
    assert placement.for_review(fast, ROOM, STATION, "review").unit == STATION
    assert placement.for_review(fast, STATION, STATION, "recheck").unit == BUREAU
    assert placement.for_review(fast, "dept.rsj", None, "review").unit == CITY
    top = placement.for_review(fast, CITY, CITY, "recheck")
    assert (top.unit, top.rule) == (CITY, placement.TOP_RULE)


def test_the_unit_above_follows_the_jurisdiction_tree(fast):
    assert [u.id for u in filter(None, [placement.unit_above(fast, x) for x in (ROOM, STATION, BUREAU)])] == [
        STATION, BUREAU, CITY]
    assert placement.unit_above(fast, CITY) is None and placement.unit_above(fast, "nobody") is None
    assert TOWN in STATION

"""Routing as pure functions: 属地 × 谁主管 × 四不推 and the county file's rules."""
from __future__ import annotations

from escalation.domain import routing
from unit.escalation.helpers import BUREAU, CITY, ROOM, STATION, TOWN, VILLAGE

DEMO_VILLAGE, DEMO_ROOM, DEMO_STATION = "361402101203", "room.361402101203", "station.361402101000"


def test_a_village_matter_stays_in_the_village_room(demo):
    place = routing.placed(demo, DEMO_VILLAGE, "labour", 1)
    assert (place.unit, place.tier, place.department, place.redirect) == (DEMO_ROOM, "village", None, None)
    assert place.rule == routing.DEFAULT_RULE


def test_a_law_related_matter_goes_to_the_county_with_its_department_and_legal_channel(demo):
    place = routing.placed(demo, DEMO_VILLAGE, "labour_dispute", 1)
    assert (place.unit, place.tier, place.department, place.redirect) == ("bureau.361402", "county", "dept.rsj",
                                                                          "arbitration")
    assert "涉法涉诉" in place.rule


def test_a_category_minimum_tier_and_a_collective_visit_raise_the_tier(demo):
    assert routing.placed(demo, DEMO_VILLAGE, "land", 1).tier == "county"  # 土地: county rule
    collective = routing.placed(demo, DEMO_VILLAGE, "labour", 5)
    assert (collective.unit, collective.tier) == (DEMO_STATION, "township")
    assert "集体访" in collective.rule
    assert routing.placed(demo, DEMO_VILLAGE, "labour", 4).tier == "village"


def test_collective_at_the_county_is_raised_to_the_city_and_never_above_the_top(demo):
    assert routing.placed(demo, DEMO_VILLAGE, "land", 50).unit == "city.361400"


def test_an_unknown_code_is_not_dropped_but_goes_to_the_county_bureau(fast):
    place = routing.placed(fast, VILLAGE, "no-such-category", 1)
    assert (place.unit, place.rule) == (BUREAU, routing.FALLBACK_RULE)
    assert routing.placed(fast, "999999999999", "labour", 1).unit == BUREAU


def test_a_transfer_to_a_named_department_names_it(fast):
    place = routing.transferred(fast, VILLAGE, "labour", 1, "dept.rsj")
    assert (place.unit, place.tier, place.department, place.rule) == ("dept.rsj", "county", "dept.rsj",
                                                                      routing.TRANSFER_RULE)


def test_a_transfer_without_a_unit_routes_again_by_the_new_category(fast):
    assert routing.transferred(fast, VILLAGE, "land", 1, None).unit == BUREAU
    assert routing.transferred(fast, VILLAGE, "labour", 1, None).unit == ROOM


def test_an_objection_goes_one_tier_above_each_objector(fast):
    assert routing.after_objection(fast, VILLAGE, "labour", 1, (ROOM,)).unit == STATION
    twice = routing.after_objection(fast, VILLAGE, "labour", 1, (ROOM, STATION))
    assert (twice.unit, twice.rule) == (BUREAU, routing.OBJECTION_RULE)
    assert routing.after_objection(fast, VILLAGE, "labour", 1, ("dept.rsj",)).unit == ROOM


def test_review_goes_above_the_unit_that_replied_and_the_top_keeps_its_own(fast):
    assert routing.for_review(fast, ROOM, STATION, "review").unit == STATION
    assert routing.for_review(fast, STATION, STATION, "recheck").unit == BUREAU
    assert routing.for_review(fast, "dept.rsj", None, "review").unit == CITY
    top = routing.for_review(fast, CITY, CITY, "recheck")
    assert (top.unit, top.rule) == (CITY, routing.TOP_RULE)


def test_the_unit_above_follows_the_jurisdiction_tree(fast):
    assert [u.id for u in filter(None, [routing.unit_above(fast, x) for x in (ROOM, STATION, BUREAU)])] == [
        STATION, BUREAU, CITY]
    assert routing.unit_above(fast, CITY) is None and routing.unit_above(fast, "nobody") is None
    assert TOWN in STATION

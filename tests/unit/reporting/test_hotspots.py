"""The hotspot rules over rows, with no database: the roll-up of a place to the places above it in scope, the
rise against both comparison periods, and the sliding window of collective visits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reporting.hotspots import _collective, _rising, _up_to
from support.reporting import DEMO
from xinfang.county import load_county

VILLAGE, TOWNSHIP, COUNTY = "361402001001", "361402001000", "361402000000"
T = datetime(2025, 10, 10, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo():
    return load_county(DEMO)


def rows(n: int, place: str = VILLAGE, category: str = "labour", tag: str = "x") -> list[dict]:
    return [{"jurisdiction": place, "category": category, "petition_id": f"{tag}{i}", "receipt_no": f"R-{tag}{i}"}
            for i in range(n)]


def test_a_place_counts_for_itself_and_every_place_above_it_up_to_the_scope(demo):
    assert _up_to(demo, VILLAGE, COUNTY) == [VILLAGE, TOWNSHIP, COUNTY]
    assert _up_to(demo, VILLAGE, TOWNSHIP) == [VILLAGE, TOWNSHIP]
    assert _up_to(demo, VILLAGE, VILLAGE) == [VILLAGE]
    assert _up_to(demo, "999999999999", COUNTY) == ["999999999999"]  # no longer in the county file


def test_a_rise_needs_the_minimum_and_the_ratio_against_both_periods(demo):
    rules = demo.hotspots  # 2.0 and 10
    assert [h["jurisdiction"] for h in _rising(demo, TOWNSHIP, rows(10), rows(5), rows(5))] == [TOWNSHIP, VILLAGE]
    assert _rising(demo, TOWNSHIP, rows(9), [], []) == []  # under the minimum
    assert _rising(demo, TOWNSHIP, rows(10), rows(6), []) == []  # not twice the month before
    assert _rising(demo, TOWNSHIP, rows(10), [], rows(6)) == []  # not twice the year before
    [_, village] = _rising(demo, TOWNSHIP, rows(12), rows(2), rows(1))
    assert (village["count"], village["previous"], village["last_year"]) == (12, 2, 1) and rules.rise_min == 10
    assert [m["petition_id"] for m in village["matters"]] == sorted(f"x{i}" for i in range(12))


def visits(*hours: float, place: str = VILLAGE) -> list[dict]:
    return [{"jurisdiction": place, "petition_id": f"p{h}", "receipt_no": f"R{h}", "occurred_at": T + timedelta(hours=h)}
            for h in hours]


def test_collective_visits_warn_when_enough_fall_within_the_window_ending_in_the_period(demo):
    day = 24.0
    assert _collective(demo, visits(0, 10 * day, 20 * day), T) != []  # three within 30 days
    assert _collective(demo, visits(0, 20 * day, 40 * day), T) == []  # never three within 30 days
    assert _collective(demo, visits(-40 * day, -35 * day, -30 * day), T) == []  # all before the period
    [hot] = _collective(demo, visits(-20 * day, -10 * day, 1, 60 * day), T)  # a window ending in the period
    assert hot["visits"] == 3 and [m["petition_id"] for m in hot["matters"]] == ["p-480.0", "p-240.0", "p1"]

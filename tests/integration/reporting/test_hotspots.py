"""热点预警 against a real reporting service: two synthetic county years (support.county_year, flat by
construction: matters spread evenly over villages, categories and days), with two hotspots planted in October
2025 — 24 letters about wages from one village, eight collective visits on another village within five days.
GET /v1/hotspots finds both, with exactly the matters behind them; June 2025, a month of the same flat history,
has none. The thresholds and the planting: support.hotspots."""
from __future__ import annotations

from datetime import datetime

import pytest

from support.history import History
from support.hotspots import COLLECTIVE_VILLAGE, CST, RISING_VILLAGE, serving
from support.problems import assert_problem
from support.tokens import client

BUREAU_TOKEN = "xft_hotspots-bureau-supervisor-" + "h" * 24
TOWNSHIP_TOKEN = "xft_hotspots-township-supervisor-" + "t" * 24
OCTOBER = {"from": "2025-10-01", "to": "2025-10-31"}


@pytest.fixture(scope="module")
def served(settings, kafka_bootstrap, test_db, tmp_path_factory):
    terminals = [("t-hot-bureau", "bureau.361402", ["supervisor"], BUREAU_TOKEN),
                 ("t-hot-township", "station.361402001000", ["supervisor"], TOWNSHIP_TOKEN)]
    with serving(settings, test_db, tmp_path_factory.mktemp("hotspots"), "hot", terminals) as world:
        with client(world["reporting"].url, BUREAU_TOKEN) as http:
            yield {**world, "http": http}


def hot(served, **params) -> dict:
    r = served["http"].get("/v1/hotspots", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def registered(history: History, village: str, category: str, start: datetime, end: datetime) -> set[str]:
    """A direct count: the matters registered in the village and category in [start, end)."""
    return {e.subject for _, e in history.events if e.type == "petition.registered.v1"
            and e.data["jurisdiction"] == village and e.data["category"] == category
            and start <= datetime.fromisoformat(e.occurred) < end}


def test_a_planted_rise_is_found_with_exactly_its_matters(served):
    found = hot(served, **OCTOBER)["rising"]
    [village] = [h for h in found if h["jurisdiction"] == RISING_VILLAGE]
    expected = registered(served["history"], RISING_VILLAGE, "labour", datetime(2025, 10, 1, tzinfo=CST),
                          datetime(2025, 11, 1, tzinfo=CST))
    assert set(served["planted"]["rising"]) <= expected
    assert {m["petition_id"] for m in village["matters"]} == expected and village["count"] == len(expected)
    assert village["category"] == "labour" and village["jurisdiction_name"] == "东门社区"
    above = {RISING_VILLAGE, *(j.code for j in served["county"].ancestors(RISING_VILLAGE))}
    assert all(h["category"] == "labour" and h["jurisdiction"] in above for h in found), found
    assert all(set(m) == {"petition_id", "receipt_no"} for h in found for m in h["matters"])  # never persons


def test_planted_collective_visits_are_found_on_their_place(served):
    found = hot(served, **OCTOBER)["collective"]
    [place] = [h for h in found if h["jurisdiction"] == COLLECTIVE_VILLAGE]
    assert set(served["planted"]["collective"]) <= {m["petition_id"] for m in place["matters"]}
    assert place["visits"] >= 8
    assert all(h["jurisdiction"] == COLLECTIVE_VILLAGE for h in found), found


def test_a_flat_month_has_no_hotspot(served):
    flat = hot(served, **{"from": "2025-06-01", "to": "2025-06-30"})
    assert flat["rising"] == [] and flat["collective"] == []
    assert flat["rules"]["rise_ratio"] == 2.0 and flat["rules"]["collective_visits"] == 8


def test_a_township_sees_only_its_own_places_and_outside_is_404(served):
    with client(served["reporting"].url, TOWNSHIP_TOKEN) as township:
        r = township.get("/v1/hotspots", params=OCTOBER)
        assert r.status_code == 200, r.text
        assert [h["jurisdiction"] for h in r.json()["collective"]] == []  # 青石村 is another township's
        assert any(h["jurisdiction"] == RISING_VILLAGE for h in r.json()["rising"])
        assert_problem(township.get("/v1/hotspots", params={**OCTOBER, "jurisdiction": COLLECTIVE_VILLAGE}), 404)
        assert_problem(township.get("/v1/hotspots", params=OCTOBER, headers={"Authorization": "Bearer nope" * 5}),
                       401)

"""County configuration: the demo county, the pure look-ups, routing, and refused files."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xinfang.county import LEGAL_LIMITS, CountyConfigError, TimeLimit, load_county, route

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "counties" / "demo.yaml"
FAST = ROOT / "tests" / "fixtures" / "county_fast.yaml"
SH = ZoneInfo("Asia/Shanghai")

VILLAGE, TOWN, DISTRICT, CITY = "361402101203", "361402101000", "361402000000", "361400000000"


@pytest.fixture(scope="module")
def demo():
    return load_county(DEMO)


# ---- the demo county ---------------------------------------------------------------


def test_demo_has_a_district_under_a_city_with_three_townships_of_ten_villages(demo):
    assert demo.jurisdiction(demo.code).tier == "county"
    assert demo.jurisdiction(DISTRICT).parent == CITY and demo.jurisdiction(CITY).tier == "city"
    townships = [j for j in demo.jurisdictions if j.tier == "township"]
    assert len(townships) >= 3
    for township in townships:
        villages = demo.descendants(township.code)
        assert len(villages) >= 10 and all(v.tier == "village" for v in villages)
        assert all(len(v.code) == 12 for v in villages)


def test_demo_has_a_room_per_village_and_a_station_per_township(demo):
    for place in demo.jurisdictions:
        kind = {"village": "room", "township": "station", "county": "bureau", "city": "city_bureau"}
        assert demo.unit(place.unit).kind == kind[place.tier]


def test_demo_categories_cover_the_catalogue(demo):
    codes = {c.code for c in demo.categories}
    assert {"labour", "land", "housing", "environment", "civil", "law", "suggestion",
            "accusation", "agriculture", "transport", "education", "health"} <= codes
    assert demo.category("law").law_related == "court"
    assert demo.category("accusation").accusation and demo.category("accusation").department == "dept.jwjw"
    assert demo.unit(demo.category("land").department).kind == "department"


def test_a_county_is_a_value(demo):
    demo.ancestors(VILLAGE), demo.work_calendar  # fill the caches
    assert demo == load_county(DEMO)


def test_demo_limits(demo):
    assert demo.limit("village", "accept") == TimeLimit(amount=1, unit="working")
    assert demo.limit("village", "handle") == TimeLimit(amount=5, unit="working")
    assert demo.limit("township", "accept") == TimeLimit(amount=3, unit="working")
    assert demo.limit("township", "handle") == TimeLimit(amount=15, unit="working")
    assert demo.limit("county", "handle") == TimeLimit(amount=60, unit="calendar")
    assert demo.limit("county", "extension") == TimeLimit(amount=30, unit="calendar")
    assert demo.limit("village", "review") == LEGAL_LIMITS["review"]   # not set: the legal limit
    assert (demo.collective_threshold, demo.warning_fraction) == (5, 0.8)


def test_demo_offers_repeats_closed_within_a_year_and_lets_a_terminal_look_up_thirty_people_a_minute(demo):
    assert (demo.repeat_window, demo.lookups_per_minute) == (timedelta(days=365), 30)


# ---- look-ups ------------------------------------------------------------------------


def test_jurisdiction_and_unknown_codes(demo):
    assert demo.jurisdiction(VILLAGE).name == "下坊村"
    with pytest.raises(KeyError, match="unknown jurisdiction"):
        demo.jurisdiction("361402999999")
    with pytest.raises(KeyError, match="unknown category"):
        demo.category("astrology")
    with pytest.raises(KeyError, match="unknown unit"):
        demo.unit("room.0")


def test_ancestors_nearest_first_up_to_the_top(demo):
    assert [j.code for j in demo.ancestors(VILLAGE)] == [TOWN, DISTRICT, CITY]
    assert demo.ancestors(CITY) == []


def test_descendants_and_is_within(demo):
    assert len(demo.descendants(TOWN)) == 11
    assert len(demo.descendants(DISTRICT)) == len(demo.jurisdictions) - 2
    assert demo.descendants(VILLAGE) == []
    assert demo.is_within(VILLAGE, TOWN) and demo.is_within(VILLAGE, CITY) and demo.is_within(TOWN, TOWN)
    assert not demo.is_within(VILLAGE, "361402102000") and not demo.is_within(TOWN, VILLAGE)


def test_unit_for_a_place_at_a_tier(demo):
    assert demo.unit_for(VILLAGE, "village").id == f"room.{VILLAGE}"
    assert demo.unit_for(VILLAGE, "township").id == f"station.{TOWN}"
    assert demo.unit_for(VILLAGE, "county").id == "bureau.361402"
    assert demo.unit_for(VILLAGE, "city").id == "city.361400"
    assert demo.unit_for(TOWN, "village").id == f"station.{TOWN}"   # nothing lower: its own unit


def test_next_tier_unit_walks_up_to_the_city(demo):
    chain, unit = [], demo.unit(f"room.{VILLAGE}")
    while unit is not None:
        chain.append(unit.id)
        unit = demo.next_tier_unit(unit.id)
    assert chain == [f"room.{VILLAGE}", f"station.{TOWN}", "bureau.361402", "city.361400"]
    assert demo.next_tier_unit("dept.rsj").id == "city.361400"


def test_due_uses_the_tier_limit_and_the_calendar(demo):
    start = datetime(2026, 9, 29, 10, tzinfo=SH)
    assert demo.due(start, "village", "accept") == datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=SH)
    assert demo.due(start, "township", "accept") == datetime(2026, 10, 9, 23, 59, 59, 999999, tzinfo=SH)
    due = demo.due(start, "county", "accept")
    assert demo.grace_end(due) == datetime(2026, 10, 15, 23, 59, 59, 999999, tzinfo=SH)


@pytest.mark.parametrize("place, category, heads, tier, unit, department, redirect", [
    (VILLAGE, "labour", 1, "village", f"room.{VILLAGE}", None, None),
    (VILLAGE, "labour", 5, "township", f"station.{TOWN}", None, None),          # collective: one up
    (VILLAGE, "land", 1, "county", "bureau.361402", "dept.zrzy", None),         # land: county
    (VILLAGE, "land", 30, "city", "city.361400", None, None),                   # and collective
    (VILLAGE, "law", 1, "county", "bureau.361402", "dept.sfj", "court"),         # redirected
    (VILLAGE, "labour_dispute", 1, "county", "bureau.361402", "dept.rsj", "arbitration"),
    (TOWN, "accusation", 1, "county", "bureau.361402", "dept.jwjw", None),
    (CITY, "labour", 50, "city", "city.361400", None, None),                    # capped at the top
])
def test_route(demo, place, category, heads, tier, unit, department, redirect):
    r = route(demo, place, category, heads)
    assert (r.tier, r.unit, r.department, r.redirect) == (tier, unit, department, redirect)


def test_the_fast_test_county_counts_seconds():
    fast = load_county(FAST)
    start = datetime(2026, 10, 1, 12, tzinfo=SH)
    assert fast.due(start, "village", "accept") == start + timedelta(seconds=4)
    assert fast.due(start, "city", "handle") == start + timedelta(seconds=6)
    assert fast.grace_end(start) == start + timedelta(seconds=1)
    assert [fast.unit(u).tier for u in ("room.361501100201", "station.361501100000",
                                        "bureau.361501", "city.361500")] == ["village", "township", "county", "city"]
    assert fast.next_tier_unit("bureau.361501").id == "city.361500"


# ---- refused files: file, line and reason --------------------------------------------

MINI = """\
code: "361501000000"
name: 试验县
jurisdictions:
  - {code: "361500000000", name: 试验市, tier: city, unit: city}
  - {code: "361501000000", name: 试验县, tier: county, parent: "361500000000", unit: bureau}
  - {code: "361501100000", name: 东镇, tier: township, parent: "361501000000", unit: station}
  - {code: "361501100201", name: 甲村, tier: village, parent: "361501100000", unit: room}
units:
  - {id: city, name: 市信访局, tier: city, jurisdiction: "361500000000", kind: city_bureau}
  - {id: bureau, name: 县信访局, tier: county, jurisdiction: "361501000000", kind: bureau}
  - {id: station, name: 东镇群众工作站, tier: township, jurisdiction: "361501100000", kind: station}
  - {id: room, name: 甲村群众工作室, tier: village, jurisdiction: "361501100201", kind: room}
  - {id: rsj, name: 县人社局, tier: county, jurisdiction: "361501000000", kind: department}
departments:
  - {unit: rsj, categories: [labour]}
categories:
  - {code: labour, name: 劳动和社会保障, name_en: labour, department: rsj}
collective_threshold: 5
time_limits:
  township:
    handle: {amount: 15, unit: working}
calendar:
  2027:
    holidays: [2027-01-01]
"""


def edited(line: int, text: str | None, insert: bool = False) -> str:
    """MINI with its line (1-based) replaced by text, or text inserted before it."""
    lines = MINI.splitlines()
    if insert:
        lines.insert(line - 1, text)
    else:
        lines[line - 1] = text
    return "\n".join(lines) + "\n"


def refused(tmp_path: Path, text: str) -> CountyConfigError:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CountyConfigError) as caught:
        load_county(path)
    return caught.value


def test_the_mini_county_loads(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    assert load_county(path).unit_for("361501100201", "county").id == "bureau"


CASES = {
    "yaml syntax error": (edited(2, "name: 试验县: 多余"), 2, "", "YAML 语法错误 syntax error"),
    "wrong type": (edited(18, "collective_threshold: many"), 18, "collective_threshold", "应为整数"),
    "wrong nested type": (edited(21, "    handle: {amount: three, unit: working}"), 21,
                          "time_limits.township.handle.amount", "应为整数"),
    "unknown tier": (edited(6, '  - {code: "361501100000", name: 东镇, tier: town, parent: "361501000000", '
                               "unit: station}"), 6, "jurisdictions[2].tier", "取值不在允许范围内"),
    "missing field": (edited(17, "  - {code: labour, name: 劳动和社会保障, department: rsj}"), 17,
                      "categories[0].name_en", "缺少必填项"),
    "unknown field": (edited(19, "colective_threshold: 5", insert=True), 19, "colective_threshold", "未知的字段"),
    "duplicate key": (edited(3, "name: 又一个县", insert=True), 3, "name", "重复的键 duplicate key"),
    "impossible date": (edited(24, "    holidays: [2027-02-30]"), 24, "", "无效的日期 invalid date"),
    "date outside its year": (edited(24, "    holidays: [2028-01-01]"), 24,
                              "calendar[2027].holidays[0]", "2028-01-01 is not in 2027"),
    "unknown parent": (edited(7, '  - {code: "361501100201", name: 甲村, tier: village, parent: "361501109000", '
                                 "unit: room}"), 7, "jurisdictions[3].parent",
                       "未知的上级区划代码 unknown parent code '361501109000'"),
    "duplicate code": (edited(8, '  - {code: "361501100201", name: 乙村, tier: village, '
                                 'parent: "361501100000", unit: room}', insert=True), 8,
                       "jurisdictions[4].code", "重复的区划代码 duplicate code '361501100201'"),
    "child not below parent": (edited(7, '  - {code: "361501100201", name: 甲村, tier: township, '
                                         'parent: "361501100000", unit: room}'), 7, "jurisdictions[3].tier",
                               "层级须低于上级"),
    "cycle": (edited(5, '  - {code: "361501000000", name: 试验县, tier: county, parent: "361501100000", '
                        "unit: bureau}"), 5, "jurisdictions[1].parent", "上级关系成环"),
    "rule naming an unknown category": (edited(18, "routing_rules: [{name: r, when: {category_in: [nope]}, "
                                                   "then: {min_tier: county}}]", insert=True), 18,
                                        "routing_rules[0].when.category_in[0]", "未知的事项类别"),
    "rule without outcome": (edited(18, "routing_rules: [{name: r, when: {collective: true}, then: {}}]",
                                    insert=True), 18, "routing_rules[0].then", "规则结果为空"),
    "unknown time zone": (edited(3, "timezone: Mars/Olympus", insert=True), 3, "timezone", "未知的时区"),
    "repeat window of nothing": (edited(3, "repeat_window: P0D", insert=True), 3, "repeat_window", "数值太小"),
    "lookups above the ceiling": (edited(3, "lookups_per_minute: 6000", insert=True), 3, "lookups_per_minute",
                                  "数值太大 Input should be less than or equal to 600"),
    "category to unknown department": (edited(17, "  - {code: labour, name: 劳动, name_en: labour, "
                                                  "department: zzz}"), 17, "categories[0].department",
                                       "未知的主管部门 unknown department 'zzz'"),
    "working days above the legal ceiling": (edited(21, "    handle: {amount: 45, unit: working}"), 21,
                                             "time_limits.township.handle", "超过法定期限"),
    "calendar days above the legal ceiling": (edited(21, "    handle: {amount: 61, unit: calendar}"), 21,
                                              "time_limits.township.handle",
                                              "超过法定期限 61 calendar days (≈61 days) exceeds the legal 60 calendar days"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_file_names_file_line_and_reason(tmp_path, case):
    text, line, path, reason = CASES[case]
    error = refused(tmp_path, text)
    first = error.problems[0]
    assert (first.file, first.line, first.path) == (str(tmp_path / "broken.yaml"), line, path)
    assert reason in first.reason
    where = f"{tmp_path / 'broken.yaml'}:{line}: " + (f"{path}: " if path else "")
    assert str(error).splitlines()[0] == where + first.reason


def test_the_message_reads_file_line_path_reason(tmp_path):
    error = refused(tmp_path, CASES["unknown parent"][0])
    assert str(error) == (f"{tmp_path / 'broken.yaml'}:7: jurisdictions[3].parent: "
                          "未知的上级区划代码 unknown parent code '361501109000'")


def test_an_empty_or_missing_file_is_refused(tmp_path):
    assert "文件为空" in str(refused(tmp_path, ""))
    with pytest.raises(CountyConfigError, match="cannot read"):
        load_county(tmp_path / "nowhere.yaml")

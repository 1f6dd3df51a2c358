"""Checks across the sections of a county file, each problem with the path of the node at fault.

A path is the key/index chain into the file, e.g. ``("jurisdictions", 3, "parent")``;
the loader turns it into a line number.
"""
from __future__ import annotations

from collections.abc import Iterator

from xinfang.county.bulletin import bulletin_problems
from xinfang.county.limits import LEGAL_LIMITS, above_ceiling
from xinfang.county.model import RANK, County
from xinfang.county.notices import template_problems

Path = tuple[str | int, ...]
Problem = tuple[Path, str]
KIND_TIERS = {"room": {"village"}, "station": {"township"}, "bureau": {"county"},
              "city_bureau": {"city"}, "department": {"county", "city"}}


def problems(county: County) -> list[Problem]:
    """Every cross-section problem of a county file, in file order of sections."""
    return [*_duplicates(county), *_tree(county), *_units(county), *_departments(county),
            *_categories(county), *_rules(county), *_limits(county), *_calendar(county),
            *_notices(county), *_bulletin(county)]


def _duplicates(county: County) -> Iterator[Problem]:
    for section, key, zh in (("jurisdictions", "code", "区划代码"), ("units", "id", "单位标识"),
                             ("departments", "unit", "部门"), ("categories", "code", "类别代码"),
                             ("routing_rules", "name", "规则名称")):
        seen: set[str] = set()
        for i, item in enumerate(getattr(county, section)):
            value = getattr(item, key)
            if value in seen:
                yield (section, i, key), f"重复的{zh} duplicate {key} {value!r}"
            seen.add(value)


def _tree(county: County) -> Iterator[Problem]:
    places = {j.code: j for j in county.jurisdictions}
    roots = [i for i, j in enumerate(county.jurisdictions) if j.parent is None]
    if len(roots) != 1:
        yield ("jurisdictions",), f"须恰有一个顶级区划 exactly one place without parent needed, found {len(roots)}"
    for i, j in enumerate(county.jurisdictions):
        if j.parent is None:
            continue
        parent = places.get(j.parent)
        if parent is None:
            yield ("jurisdictions", i, "parent"), f"未知的上级区划代码 unknown parent code {j.parent!r}"
        elif _in_cycle(j.code, places):
            yield ("jurisdictions", i, "parent"), f"上级关系成环 the parent chain of {j.code} runs into a loop"
        elif RANK[j.tier] >= RANK[parent.tier]:
            yield ("jurisdictions", i, "tier"), (f"层级须低于上级 tier {j.tier!r} must be below "
                                                 f"its parent's {parent.tier!r} ({parent.code})")
    if county.code not in places or places[county.code].tier != "county":
        yield ("code",), f"本县代码须是树中的县级区划 {county.code!r} must be a county-tier place in jurisdictions"


def _in_cycle(code: str, places: dict) -> bool:
    seen, current = {code}, places[code].parent
    while current is not None and current in places:
        if current in seen:
            return True
        seen.add(current)
        current = places[current].parent
    return False


def _units(county: County) -> Iterator[Problem]:
    places = {j.code: j for j in county.jurisdictions}
    units = {u.id: u for u in county.units}
    for i, j in enumerate(county.jurisdictions):
        unit = units.get(j.unit)
        if unit is None:
            yield ("jurisdictions", i, "unit"), f"未知的承办单位 unknown unit {j.unit!r}"
        elif unit.jurisdiction != j.code:
            yield ("jurisdictions", i, "unit"), (f"单位 {unit.id} 属于 {unit.jurisdiction} unit belongs to "
                                                 f"another place, not {j.code}")
    for i, u in enumerate(county.units):
        place = places.get(u.jurisdiction)
        if place is None:
            yield ("units", i, "jurisdiction"), f"未知的区划代码 unknown jurisdiction {u.jurisdiction!r}"
        elif u.tier != place.tier:
            yield ("units", i, "tier"), f"单位层级须与区划一致 unit tier {u.tier!r} but its place is {place.tier!r}"
        elif u.tier not in KIND_TIERS[u.kind]:
            yield ("units", i, "kind"), f"单位类型与层级不符 a {u.kind} cannot be at tier {u.tier!r}"


def _departments(county: County) -> Iterator[Problem]:
    units = {u.id: u for u in county.units}
    codes = {c.code for c in county.categories}
    for i, d in enumerate(county.departments):
        if d.unit not in units:
            yield ("departments", i, "unit"), f"未知的单位 unknown unit {d.unit!r}"
        elif units[d.unit].kind != "department":
            yield ("departments", i, "unit"), f"单位 {d.unit} 不是部门 unit is a {units[d.unit].kind}, not a department"
        for k, code in enumerate(d.categories):
            if code not in codes:
                yield ("departments", i, "categories", k), f"未知的事项类别 unknown category {code!r}"


def _categories(county: County) -> Iterator[Problem]:
    departments = {d.unit: d for d in county.departments}
    for i, c in enumerate(county.categories):
        department = departments.get(c.department)
        if department is None:
            yield ("categories", i, "department"), f"未知的主管部门 unknown department {c.department!r}"
        elif c.code not in department.categories:
            yield ("categories", i, "department"), (f"主管部门未列出此类别 department {c.department} does "
                                                    f"not list category {c.code!r}")


def _rules(county: County) -> Iterator[Problem]:
    codes = {c.code for c in county.categories}
    places = {j.code for j in county.jurisdictions}
    for i, rule in enumerate(county.routing_rules):
        for k, code in enumerate(rule.when.category_in or []):
            if code not in codes:
                yield ("routing_rules", i, "when", "category_in", k), f"未知的事项类别 unknown category {code!r}"
        if rule.when.under is not None and rule.when.under not in places:
            yield ("routing_rules", i, "when", "under"), f"未知的区划代码 unknown jurisdiction {rule.when.under!r}"


def _limits(county: County) -> Iterator[Problem]:
    for tier, stages in county.time_limits.items():
        for stage, lim in stages.items():
            if above_ceiling(stage, lim):
                yield ("time_limits", tier, stage), (f"超过法定期限 {lim} (≈{lim.nominal_days():g} days) "
                                                     f"exceeds the legal {LEGAL_LIMITS[stage]} for {stage}")


def _calendar(county: County) -> Iterator[Problem]:
    for year, lists in county.calendar.items():
        for field in ("holidays", "workdays"):
            for k, day in enumerate(getattr(lists, field)):
                if day.year != year:
                    yield ("calendar", year, field, k), f"日期不在 {year} 年 {day} is not in {year}"
        for k, day in enumerate(lists.workdays):
            if day in lists.holidays:
                yield ("calendar", year, "workdays", k), f"既是假日又是工作日 {day} is both holiday and workday"


def _notices(county: County) -> Iterator[Problem]:
    for kind, template in county.notices.items():
        for path, reason in template_problems(kind, template):
            yield ("notices", kind, *path), reason
    for path, reason in template_problems("supervision", county.supervision_notice):
        yield ("supervision_notice", *path), reason


def _bulletin(county: County) -> Iterator[Problem]:
    for path, reason in bulletin_problems(county.bulletin):
        yield ("bulletin", *path), reason

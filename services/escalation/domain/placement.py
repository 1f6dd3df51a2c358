"""Where a matter goes: on registration, transfer, objection, review and re-review.

- 属地管理 + 四不推: the place where the matter arose, at the lowest tier able to settle it;
  the county file's rules (a category's minimum tier, head-count raises, law-related redirects)
  apply through ``xinfang.county.route``.
- 谁主管、谁负责: at the competent department's tier the department is named too.
- 首办责任制: nothing is dropped — a code the county file does not know goes to the county bureau.
- 复查 goes to the tier above the unit that replied, 复核 to the tier above the reviewer.
- 集体访: a later batch that brings the head-count to the collective threshold routes it afresh.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from xinfang.county import RANK, County, Unit, is_collective, route

RULE_MAX = 128
DEFAULT_RULE = "属地管理 where the matter arose"
IMPORT_RULE = "导入历史 imported history: held by the unit that handled it"
FALLBACK_RULE = "未知代码交县信访局 unknown code: to the county bureau"
TRANSFER_RULE = "转送指定单位 transferred to the named unit"
OBJECTION_RULE = "派单异议改派上一级 objection upheld: to the tier above"
REVIEW_RULE = "复查由上一级办理 review by the tier above the unit that replied"
RECHECK_RULE = "复核由上一级办理 re-review by the tier above the reviewer"
TOP_RULE = "最高层级自行办理 top tier: kept at the top"


@dataclass(frozen=True)
class Placement:
    """The unit that must handle a matter, its tier and department, and why."""

    unit: str
    tier: str
    department: str | None
    redirect: str | None
    rule: str


def _rule(names: tuple[str, ...] | list[str], default: str = DEFAULT_RULE) -> str:
    text = "; ".join(names) if names else default
    return text if len(text) <= RULE_MAX else text[: RULE_MAX - 1] + "…"


def unit_above(county: County, unit_id: str) -> Unit | None:
    """The unit one tier up; None at the top of the tree or for a unit the county does not know."""
    try:
        return county.next_tier_unit(unit_id)
    except KeyError:
        return None


def tier_of(county: County, unit_id: str, default: str) -> str:
    """The tier of a unit; ``default`` for a unit the county file does not know."""
    try:
        return county.unit(unit_id).tier
    except KeyError:
        return default


def _bureau(county: County) -> Placement:
    unit = county.unit_for(county.code, "county")
    return Placement(unit.id, unit.tier, None, None, FALLBACK_RULE)


def placed(county: County, jurisdiction: str, category: str, head_count: int) -> Placement:
    """A new matter's place by the county's routing rules."""
    try:
        found = route(county, jurisdiction, category, head_count)
    except KeyError:
        return _bureau(county)
    return Placement(found.unit, found.tier, found.department, found.redirect, _rule(found.rules))


def became_collective(county: County, jurisdiction: str, category: str, before: int, after: int,
                      holder_tier: str | None) -> Placement | None:
    """集体访 by the current head-count: a batch that takes the matter from ``before`` to ``after`` persons,
    across the collective threshold, routes it afresh by the county's rules; None if it does not become
    collective or is placed no higher than its holder's tier (四不推: a matter never goes down)."""
    if holder_tier is None or is_collective(county, before) or not is_collective(county, after):
        return None
    place = placed(county, jurisdiction, category, after)
    if RANK[place.tier] <= RANK[holder_tier]:
        return None
    reason = (f"累计{after}人达集体访标准{county.collective_threshold}人 head-count {after} reached the collective "
              f"threshold {county.collective_threshold}")
    return replace(place, rule=_rule((reason, place.rule)))


def transferred(county: County, jurisdiction: str, category: str, head_count: int,
                to_unit: str | None) -> Placement:
    """转送: to the named unit, or routed afresh (the category may have changed)."""
    if to_unit is None:
        return placed(county, jurisdiction, category, head_count)
    try:
        unit = county.unit(to_unit)
    except KeyError:
        return _bureau(county)
    department = unit.id if unit.kind == "department" else None
    return Placement(unit.id, unit.tier, department, None, TRANSFER_RULE)


def after_objection(county: County, jurisdiction: str, category: str, head_count: int,
                    objectors: tuple[str, ...]) -> Placement:
    """派单异议: routed afresh, then up past every unit that has objected to this matter."""
    first = placed(county, jurisdiction, category, head_count)
    unit_id, rule = first.unit, first.rule
    while unit_id in objectors:
        above = unit_above(county, unit_id)
        if above is None:
            break
        unit_id, rule = above.id, OBJECTION_RULE
    if unit_id == first.unit:
        return first
    unit = county.unit(unit_id)
    return Placement(unit.id, unit.tier, None, first.redirect, rule)


def for_review(county: County, answered_by: str | None, holder: str | None, kind: str) -> Placement:
    """复查/复核: the tier above the unit that gave the answer being contested."""
    base = answered_by or holder
    if base is None:
        return _bureau(county)
    above = unit_above(county, base)
    if above is None:
        try:
            unit = county.unit(base)
        except KeyError:
            return _bureau(county)
        return Placement(unit.id, unit.tier, None, None, TOP_RULE)
    return Placement(above.id, above.tier, None, None, REVIEW_RULE if kind == "review" else RECHECK_RULE)

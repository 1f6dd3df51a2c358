"""The routing rules applied: jurisdiction × category × head-count → tier, unit, department.

A matter starts at the tier of the place where it arose (属地管理) or its category's
minimum tier, whichever is higher.  Then every rule whose conditions all hold applies, in
file order: ``min_tier`` lifts the tier to at least that, ``raise_tiers`` lifts it n tiers
(never above the top of the tree), ``redirect`` marks the matter for a legal channel.
The unit is the place's handling unit at that tier; at the competent department's tier the
department (谁主管、谁负责) is named too.
"""
from __future__ import annotations

from dataclasses import dataclass

from xinfang.county.model import RANK, TIERS, Category, Condition, County
from xinfang.vocabulary import Tier


@dataclass(frozen=True)
class Route:
    """Where a matter goes: tier, handling unit, department, redirect, and the rules that said so."""

    tier: Tier
    unit: str
    department: str | None
    redirect: str | None
    rules: tuple[str, ...]


def is_collective(county: County, head_count: int) -> bool:
    """集体访: a matter whose head-count (over all its batches) reaches the county's collective threshold."""
    return head_count >= county.collective_threshold


def holds(county: County, when: Condition, jurisdiction_code: str, category: Category,
          head_count: int) -> bool:
    """True if every condition given in when holds for the matter."""
    return all((
        when.category_in is None or category.code in when.category_in,
        when.head_count_at_least is None or head_count >= when.head_count_at_least,
        when.collective is None or is_collective(county, head_count) == when.collective,
        when.under is None or county.is_within(jurisdiction_code, when.under),
        when.law_related is None or (category.law_related is not None) == when.law_related,
        when.accusation is None or category.accusation == when.accusation,
    ))


def route(county: County, jurisdiction_code: str, category_code: str, head_count: int) -> Route:
    """Apply the county's routing rules to a new matter."""
    place, category = county.jurisdiction(jurisdiction_code), county.category(category_code)
    top = ([place, *county.ancestors(jurisdiction_code)])[-1].tier
    rank = max(RANK[place.tier], RANK[category.min_tier])
    redirect, names = None, []
    for rule in county.routing_rules:
        if not holds(county, rule.when, jurisdiction_code, category, head_count):
            continue
        names.append(rule.name)
        if rule.then.min_tier is not None:
            rank = max(rank, RANK[rule.then.min_tier])
        if rule.then.raise_tiers is not None:
            rank += rule.then.raise_tiers
        if rule.then.redirect is not None:
            redirect = category.law_related if rule.then.redirect == "category" else rule.then.redirect
    unit = county.unit_for(jurisdiction_code, TIERS[min(rank, RANK[top])])
    department = category.department if county.unit(category.department).tier == unit.tier else None
    return Route(unit.tier, unit.id, department, redirect, tuple(names))

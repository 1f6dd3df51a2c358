"""County configuration: one YAML file per county, validated at start (see ``loader``).

``load_county(path) -> County``; the County's look-ups (jurisdiction, ancestors, unit_for,
next_tier_unit, category, limit, due …) are pure, and ``route`` applies the routing rules.
"""
from xinfang.county.limits import LEGAL_LIMITS, TimeLimit
from xinfang.county.loader import ConfigProblem, CountyConfigError, load_county
from xinfang.county.model import (
    RANK,
    TIERS,
    CalendarYear,
    Category,
    Condition,
    County,
    Department,
    Jurisdiction,
    Outcome,
    RoutingRule,
    Unit,
)
from xinfang.county.rules import Route, is_collective, route

__all__ = [
    "LEGAL_LIMITS", "RANK", "TIERS", "CalendarYear", "Category", "Condition",
    "ConfigProblem", "County", "CountyConfigError", "Department", "Jurisdiction", "Outcome",
    "Route", "RoutingRule", "TimeLimit", "Unit", "is_collective", "load_county", "route",
]

"""What the county file says about who may see and act on what (pure, over the County model)."""
from __future__ import annotations

from datetime import datetime

from intake.domain.decide import Context, Importer
from intake.domain.errors import Refused
from intake.domain.model import PetitionState
from xinfang.county.model import RANK, County

WINDOWS = {"review_request": "review_request_window", "recheck_request": "recheck_request_window",
           "objection": "objection_window"}


def supervises(county: County, upper: str, lower: str) -> bool:
    """True if unit ``upper`` is above unit ``lower`` in the same line (its jurisdiction covers it)."""
    a, b = county.unit(upper), county.unit(lower)
    if not county.is_within(b.jurisdiction, a.jurisdiction):
        return False
    # The petition bureau supervises the county's departments (督办), which share its tier.
    return RANK[a.tier] > RANK[b.tier] or (a.kind in ("bureau", "city_bureau") and b.kind == "department"
                                           and RANK[a.tier] == RANK[b.tier])


def acts_for(county: County, actor: str, holder: str) -> bool:
    return actor == holder or supervises(county, actor, holder)


def may_see(county: County, unit_id: str, state: PetitionState) -> bool:
    """A terminal sees the matters of its unit and the places below it; never an accusation against it."""
    if state.accused_unit is not None:  # 检举控告: the holding unit and the unit that registered it, never the accused
        return unit_id != state.accused_unit and unit_id in (state.holder_unit, state.registered_unit)
    if unit_id in (state.holder_unit, state.registered_unit):
        return True
    if state.holder_unit is not None and supervises(county, unit_id, state.holder_unit):
        return True
    return county.in_scope(unit_id, state.jurisdiction)


def reviewer_of(county: County, unit_id: str) -> tuple[str, str]:
    """复查/复核 by the unit one tier up from the one whose answer is contested; the top tier reviews itself (as
    escalation places a review: ``escalation.domain.placement.for_review``)."""
    above = county.next_tier_unit(unit_id) or county.unit(unit_id)
    return above.id, above.tier


def importer(county: County, unit_id: str) -> Importer:
    """The importing terminal's unit: it vouches for the history of its units and places."""
    return Importer(unit=unit_id, covers_unit=lambda unit: acts_for(county, unit_id, unit),
                    covers_place=lambda code: county.in_scope(unit_id, code),
                    reviewer_of=lambda unit: reviewer_of(county, unit))


def context(county: County, unit_id: str, roles: frozenset[str], now: datetime,
            tier_of_matter: str | None = None, imported_by: Importer | None = None) -> Context:
    """The decide() context for a terminal of ``unit_id`` acting at ``now`` (``imported_by``: in history imported
    by that unit's terminal, ``unit_id`` is the unit that acted then)."""
    try:
        unit = county.unit(unit_id)
    except KeyError:
        raise Refused("invalid", "unknown_unit", f"未知的单位 {unit_id}：本县配置中没有此单位",
                      f"unknown unit {unit_id!r}: the county file has no such unit", "unit") from None
    window_tier = tier_of_matter or unit.tier

    def window_end(start: datetime, window: str) -> datetime:
        return county.due(start, window_tier, WINDOWS[window])  # type: ignore[arg-type]

    def knows_category(code: str) -> bool:
        return code in {c.code for c in county.categories}

    def knows_place(code: str) -> bool:
        try:
            county.jurisdiction(code)
        except KeyError:
            return False
        return True

    def knows_unit(code: str) -> bool:
        return code in {u.id for u in county.units}

    return Context(now=now, actor_unit=unit_id, actor_tier=unit.tier, roles=roles,
                   acts_for=lambda holder: acts_for(county, unit_id, holder),
                   in_scope=lambda code: county.in_scope(unit_id, code),
                   knows_category=knows_category, knows_unit=knows_unit, window_end=window_end,
                   extension_limit=county.limit(window_tier, "extension"), max_head_count=county.max_head_count,
                   knows_place=knows_place, importer=imported_by)

"""The county file as pydantic models: organisation, categories, routing rules, limits, calendar.

Field validation lives here; checks across sections (unknown codes, cycles, tier order,
legal ceilings) live in ``checks``; the pure look-ups the services use are on :class:`County`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xinfang.calendar import WorkCalendar
from xinfang.county.assessment import Assessment
from xinfang.county.bulletin import BulletinTemplate
from xinfang.county.limits import LEGAL_LIMITS, TimeLimit
from xinfang.county.notices import DEFAULT_NOTICES, DEFAULT_SUPERVISION, NoticeTemplate
from xinfang.vocabulary import TIERS, LimitKind, NoticeKind, Redirect, Tier

RANK = {tier: i for i, tier in enumerate(TIERS)}
UnitKind = Literal["room", "station", "bureau", "department", "city_bureau"]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6,12}$")]
Id = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class Part(BaseModel):
    """Base of every section: immutable, unknown keys refused, numbers accepted as codes."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


class Jurisdiction(Part):
    """A place in the tree (行政区划): village, township, county or city, with its handling unit."""

    code: RegionCode
    name: Name
    tier: Tier
    parent: RegionCode | None = None
    unit: Id


class Unit(Part):
    """A handling unit: 群众工作室, 群众工作站, 信访局, a department or the city bureau."""

    id: Id
    name: Name
    tier: Tier
    jurisdiction: RegionCode
    kind: UnitKind


class Department(Part):
    """A competent department (主管部门) and the categories it handles."""

    unit: Id
    name: Name | None = None
    categories: list[Id] = Field(default_factory=list)


class Category(Part):
    """A kind of matter (信访事项类别) with its competent department and routing hints."""

    code: Id
    name: Name
    name_en: Name
    department: Id
    min_tier: Tier = "village"
    law_related: Redirect | None = Field(None, description="涉法涉诉: the legal channel it belongs in")
    accusation: bool = Field(False, description="检举控告: the accuser is never shown to the accused")


class Condition(Part):
    """When a rule applies: every condition given must hold (an empty one always holds)."""

    category_in: list[Id] | None = None
    head_count_at_least: int | None = Field(None, ge=1)
    collective: bool | None = Field(None, description="head count at least the collective threshold")
    under: RegionCode | None = Field(None, description="the matter arose at or below this place")
    law_related: bool | None = None
    accusation: bool | None = None


class Outcome(Part):
    """What a rule does: raise a minimum tier, raise tiers, or redirect to a legal channel."""

    min_tier: Tier | None = None
    raise_tiers: int | None = Field(None, ge=1, le=3)
    redirect: Literal["court", "arbitration", "admin_review", "category"] | None = Field(
        None, description="a legal channel, or 'category' for the category's own law_related channel")

    @model_validator(mode="after")
    def _says_something(self) -> Outcome:
        if self.min_tier is None and self.raise_tiers is None and self.redirect is None:
            raise ValueError("规则结果为空 the outcome needs min_tier, raise_tiers or redirect")
        return self


class RoutingRule(Part):
    """A named routing rule: applied in file order, every matching rule takes effect."""

    name: Name
    when: Condition = Condition()
    then: Outcome


class CalendarYear(Part):
    """One year's public holidays and make-up working days (调休), from the State Council notice."""

    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


class OfficeHours(Part):
    """When the county's offices open and close (办公时间), in the county's local time: a working-day warning is
    dated at the opening of its day."""

    opens: time = time(8, 30)
    closes: time = time(17, 30)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OfficeHours:
        if self.opens >= self.closes:
            raise ValueError(f"办公时间须先开始后结束 office hours must open before they close: "
                             f"{self.opens}–{self.closes}")
        return self


class Hotspots(Part):
    """热点预警 (hotspot warnings, about matters, never persons): when reporting calls a place and a category hot."""

    rise_ratio: float = Field(2.0, gt=1, le=100, description=(
        "骤增: a category in a place is rising when its matters in the period are at least this many times those of "
        "the period before (环比) and of the same period a year earlier (同比)"))
    rise_min: int = Field(10, ge=1, le=100_000, description="…and at least this many matters (small counts do not warn)")
    collective_visits: int = Field(3, ge=2, le=1000, description=(
        "重复集体访: this many collective visits (a visit batch of at least collective_threshold persons) on one "
        "place within collective_window warn"))
    collective_window: timedelta = Field(timedelta(days=30), gt=timedelta(0), le=timedelta(days=366))


class County(Part):
    """One county's configuration, validated; its look-ups are pure."""

    code: RegionCode
    name: Name
    timezone: str = "Asia/Shanghai"
    collective_threshold: int = Field(5, ge=2)
    warning_fraction: float = Field(0.8, gt=0, lt=1)
    overdue_grace: TimeLimit = TimeLimit(amount=0, unit="seconds")
    office_hours: OfficeHours = OfficeHours()
    offline_window: timedelta = Field(timedelta(days=7), gt=timedelta(0), le=timedelta(days=90),
                                      description="how far back a live terminal may date a fact (离线补录期限); "
                                                  "older history goes through imports")
    history_from: date = Field(date(2000, 1, 1), description="the earliest date an imported fact may carry")
    max_head_count: int = Field(2000, ge=1, le=100_000, description="the largest head-count one batch may have")
    repeat_window: timedelta = Field(timedelta(days=365), gt=timedelta(0), le=timedelta(days=3650),
                                     description="重复访提示: a matter closed this recently is still offered at "
                                                 "registration as a possible repeat of the same person's new one")
    lookups_per_minute: int = Field(30, ge=1, le=600, description="lookups by identity number or phone per "
                                    "terminal, minute and intake worker process (a terminal cannot walk the "
                                    "identity numbers)")
    jurisdictions: list[Jurisdiction] = Field(min_length=1)
    units: list[Unit] = Field(min_length=1)
    departments: list[Department] = Field(default_factory=list)
    categories: list[Category] = Field(min_length=1)
    routing_rules: list[RoutingRule] = Field(default_factory=list)
    time_limits: dict[Tier, dict[LimitKind, TimeLimit]] = Field(default_factory=dict)
    calendar: dict[int, CalendarYear] = Field(default_factory=dict)
    hotspots: Hotspots = Hotspots()
    notices: dict[NoticeKind, NoticeTemplate] = Field(default_factory=dict, description=(
        "书面告知的模板 the notices' wording, per kind; a kind left out gets the default (xinfang.county.notices)"))
    supervision_notice: NoticeTemplate = Field(DEFAULT_SUPERVISION, description=(
        "督办单的模板 the supervision notice's wording (placeholders: xinfang.county.notices.SUPERVISION_PLACEHOLDERS)"))
    assessment: Assessment = Field(default_factory=Assessment, description=(
        "考核 the weights of the indicators and the veto rules (defaults: xinfang.county.assessment)"))
    bulletin: BulletinTemplate = Field(default_factory=BulletinTemplate, description=(
        "通报的模板 the bulletin's title, number, issuer, headings and paragraphs (defaults and placeholders: "
        "xinfang.county.bulletin)"))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区 unknown time zone {value!r}") from None
        return value

    # ---- look-ups -------------------------------------------------------------------

    @cached_property
    def _places(self) -> dict[str, Jurisdiction]:
        return {j.code: j for j in self.jurisdictions}

    @cached_property
    def _units(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def _categories(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {j.code: [] for j in self.jurisdictions}
        for j in self.jurisdictions:
            if j.parent in children:
                children[j.parent].append(j.code)
        return children

    @cached_property
    def zone(self) -> ZoneInfo:
        """The county's time zone."""
        return ZoneInfo(self.timezone)

    @cached_property
    def work_calendar(self) -> WorkCalendar:
        """China's working-day calendar with this county's own holiday lists."""
        return WorkCalendar.china(
            holidays=[d for y in self.calendar.values() for d in y.holidays],
            workdays=[d for y in self.calendar.values() for d in y.workdays],
            years=self.calendar.keys())

    def jurisdiction(self, code: str) -> Jurisdiction:
        """The place with this code; KeyError if unknown."""
        try:
            return self._places[code]
        except KeyError:
            raise KeyError(f"未知的区划代码 unknown jurisdiction code {code!r}") from None

    def ancestors(self, code: str) -> list[Jurisdiction]:
        """The places above code, nearest first, up to the top (code itself excluded)."""
        chain, place = [], self.jurisdiction(code)
        while place.parent is not None:
            place = self.jurisdiction(place.parent)
            chain.append(place)
        return chain

    def descendants(self, code: str) -> list[Jurisdiction]:
        """Every place below code, depth first in file order (code itself excluded)."""
        self.jurisdiction(code)
        found, stack = [], list(reversed(self._children[code]))
        while stack:
            place = self._places[stack.pop()]
            found.append(place)
            stack.extend(reversed(self._children[place.code]))
        return found

    def is_within(self, code: str, ancestor_code: str) -> bool:
        """True if code is ancestor_code or lies below it."""
        return code == ancestor_code or any(a.code == ancestor_code for a in self.ancestors(code))

    def in_scope(self, unit_id: str, code: str) -> bool:
        """True if place ``code`` lies in the unit's jurisdiction subtree: what a terminal of that unit sees, in
        every service (a township's station: the township and its villages); False for an unknown unit or place."""
        try:
            return self.is_within(code, self.unit(unit_id).jurisdiction)
        except KeyError:
            return False

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id; KeyError if unknown."""
        try:
            return self._units[unit_id]
        except KeyError:
            raise KeyError(f"未知的单位 unknown unit {unit_id!r}") from None

    def unit_for(self, jurisdiction_code: str, tier: Tier) -> Unit:
        """The handling unit at tier for a place: its own or its nearest ancestor's at or above tier."""
        for place in [self.jurisdiction(jurisdiction_code), *self.ancestors(jurisdiction_code)]:
            if RANK[place.tier] >= RANK[tier]:
                return self.unit(place.unit)
        raise KeyError(f"{jurisdiction_code} 之上没有{tier}级单位 no {tier} unit above {jurisdiction_code}")

    def next_tier_unit(self, unit_id: str) -> Unit | None:
        """The unit one tier up (room → station → bureau → city bureau); None at the top."""
        parent = self.jurisdiction(self.unit(unit_id).jurisdiction).parent
        return None if parent is None else self.unit(self.jurisdiction(parent).unit)

    def category(self, code: str) -> Category:
        """The category with this code; KeyError if unknown."""
        try:
            return self._categories[code]
        except KeyError:
            raise KeyError(f"未知的事项类别 unknown category {code!r}") from None

    def notice_template(self, kind: NoticeKind) -> NoticeTemplate:
        """The wording of one kind of notice: the county's own, else the default."""
        return self.notices.get(kind, DEFAULT_NOTICES[kind])

    def limit(self, tier: Tier, stage: LimitKind) -> TimeLimit:
        """The time limit of a stage at a tier: the county's own, else the legal limit."""
        return self.time_limits.get(tier, {}).get(stage, LEGAL_LIMITS[stage])

    def due(self, start: datetime, tier: Tier, stage: LimitKind) -> datetime:
        """When a stage started at start is due at tier (see xinfang.calendar for the counting)."""
        lim = self.limit(tier, stage)
        return self.work_calendar.add_days(start, lim.amount, lim.unit, self.zone)

    def grace_end(self, due: datetime) -> datetime:
        """When an overdue matter escalates: the overdue grace after its due time."""
        return self.work_calendar.add_days(due, self.overdue_grace.amount, self.overdue_grace.unit, self.zone)

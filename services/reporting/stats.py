"""The statistics a request asks for: scope and period checked against the county, queries run,
figures assembled with their year-on-year and month-on-month comparisons."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg

from reporting import figures as f
from reporting import queries, rollups
from reporting.periods import Period
from xinfang.county import County
from xinfang.sql import Named
from xinfang.vocabulary import CHANNEL_LABELS, TIER_LABELS

FOREVER = datetime(9999, 1, 1, tzinfo=timezone.utc)


class ScopeError(ValueError):
    """A scope parameter the county does not know: the field, and why in Chinese and English."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(f"{field}: {en}")
        self.field, self.zh, self.en = field, zh, en


@dataclass(frozen=True)
class Request:
    """What a caller asked for, checked."""

    period: Period
    jurisdiction: str | None = None
    unit: str | None = None
    category: str | None = None
    channel: str | None = None
    as_of: datetime | None = None
    known_at: datetime | None = None
    compare: tuple[str, ...] = ("yoy", "mom")


def parse_moment(text: str | None, field: str, county: County, *, end_of_day: bool = True) -> datetime | None:
    """An RFC 3339 time, a local time without offset, or a local date (meaning the end of that day)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time(), county.zone) - timedelta(microseconds=1)
        if "T" in text and " " in text:  # a "+08:00" offset that came through a query string as " 08:00"
            text = text.replace(" ", "+")
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScopeError(field, f"时间格式应为 RFC 3339 或 YYYY-MM-DD：{text!r}",
                         f"must be an RFC 3339 time or a date YYYY-MM-DD: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=county.zone)


class Reporter:
    """Runs the figures' queries for one schema and county."""

    def __init__(self, pool: asyncpg.Pool, schema: str, county: County) -> None:
        self.pool, self.schema, self.county = pool, schema, county
        self._stats = {now: queries.stats_sql(schema, now) for now in (False, True)}
        self._rolled_stats = queries.rolled_stats_sql(schema)
        self._units = {(now, filtered): queries.units_sql(schema, now, filtered)
                       for now in (False, True) for filtered in (False, True)}
        self._series = queries.series_sql(schema)

    # ---- checking ---------------------------------------------------------------------

    def check(self, request: Request) -> None:
        county = self.county
        if request.jurisdiction is not None:
            try:
                county.jurisdiction(request.jurisdiction)
            except KeyError:
                raise ScopeError("jurisdiction", f"未知的区划代码 {request.jurisdiction}",
                                 f"unknown jurisdiction code {request.jurisdiction}") from None
        if request.unit is not None:
            try:
                county.unit(request.unit)
            except KeyError:
                raise ScopeError("unit", f"未知的单位 {request.unit}", f"unknown unit {request.unit}") from None
        if request.category is not None:
            try:
                county.category(request.category)
            except KeyError:
                raise ScopeError("category", f"未知的事项类别 {request.category}",
                                 f"unknown category {request.category}") from None
        if request.channel is not None and request.channel not in CHANNEL_LABELS:
            raise ScopeError("channel", f"渠道只能是 {'、'.join(CHANNEL_LABELS)}",
                             f"channel must be one of {', '.join(CHANNEL_LABELS)}")
        for name in request.compare:
            if name not in ("yoy", "mom"):
                raise ScopeError("compare", "对比只能是 yoy（同比）或 mom（环比）", "compare must be yoy and/or mom")

    def scope(self, request: Request) -> queries.Scope:
        codes = None
        if request.jurisdiction is not None:
            codes = (request.jurisdiction, *(j.code for j in self.county.descendants(request.jurisdiction)))
        return queries.Scope(as_of=request.as_of or datetime.now(timezone.utc), known_at=request.known_at or FOREVER,
                             threshold=self.county.collective_threshold, jurisdictions=codes,
                             category=request.category, channel=request.channel, unit=request.unit)

    def place_name(self, request: Request) -> str:
        if request.unit:
            return self.county.unit(request.unit).name
        return self.county.jurisdiction(request.jurisdiction or self.county.code).name

    def units_in_scope(self, request: Request) -> list[str]:
        if request.unit:
            return [request.unit]
        top = request.jurisdiction or self.county.code
        return [u.id for u in self.county.units if self.county.is_within(u.jurisdiction, top)]

    # ---- queries ------------------------------------------------------------------------

    async def _fetchrow(self, statement: Named, values: dict[str, Any]) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(statement.sql, *statement.args(values))

    async def fetch(self, statement: Named, values: dict[str, Any]) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(statement.sql, *statement.args(values))

    async def counts(self, period: Period, scope: queries.Scope, now: bool = False) -> dict[str, int]:
        """Every count of the counting rules for one period (the present: whole months from the roll-ups)."""
        start, stop = period.bounds(self.county.zone)
        if now and scope.unit is None and rollups.usable(scope.threshold, scope.category, scope.channel):
            row = await self._fetchrow(self._rolled_stats, scope.values(start, stop) | rollups.cut(start, stop, scope.as_of))
        else:
            row = await self._fetchrow(self._stats[now], scope.values(start, stop))
        return dict(row)

    async def unit_counts(self, period: Period, scope: queries.Scope, units: list[str],
                          now: bool = False) -> list[dict[str, Any]]:
        filtered = scope.jurisdictions is not None or scope.category is not None or scope.channel is not None
        start, stop = period.bounds(self.county.zone)
        cut = rollups.cut(start, stop, scope.as_of) if rollups.usable(scope.threshold, scope.category, scope.channel) \
            else rollups.no_cut(stop)  # the present's obligations: whole months from the roll-up
        rows = await self.fetch(self._units[now, filtered], scope.values(start, stop) | {"units": units} | cut)
        return [dict(r) for r in rows]

    async def stats(self, request: Request) -> dict[str, Any]:
        """The JSON document of GET /v1/stats."""
        self.check(request)
        scope, now = self.scope(request), is_now(request)
        periods = {"current": request.period}
        if "yoy" in request.compare:
            periods["yoy"] = request.period.year_before()
        if "mom" in request.compare:
            periods["mom"] = request.period.before()
        distinct = list(dict.fromkeys(periods.values()))  # a year's month-on-month period is its year-on-year one
        found = await asyncio.gather(*(self.counts(p, scope, now) for p in distinct),
                                     self.unit_counts(request.period, scope, self.units_in_scope(request), now))
        by_period = dict(zip(distinct, found[:-1], strict=True))
        counts = {name: by_period[p] for name, p in periods.items()}
        return {
            "scope": self._scope_doc(request),
            "period": period_doc(request.period, self.county),
            "comparisons": {name: period_doc(p, self.county) for name, p in periods.items() if name != "current"},
            "as_of": _iso(request.as_of), "known_at": _iso(request.known_at),
            "figures": figures_doc(counts),
            "units": [self._unit_doc(row) for row in found[-1]],
            "definitions_url": "/v1/stats/definitions",
        }

    def _scope_doc(self, request: Request) -> dict[str, Any]:
        code = request.jurisdiction or self.county.code
        doc: dict[str, Any] = {"jurisdiction": {"code": code, "name": self.county.jurisdiction(code).name},
                               "unit": None, "category": None, "channel": request.channel,
                               "collective_threshold": self.county.collective_threshold, "timezone": self.county.timezone}
        if request.unit:
            unit = self.county.unit(request.unit)
            doc["unit"] = {"id": unit.id, "name": unit.name, "tier": unit.tier}
        if request.category:
            doc["category"] = {"code": request.category, "name": self.county.category(request.category).name}
        return doc

    def _unit_doc(self, row: dict[str, Any]) -> dict[str, Any]:
        unit = self.county.unit(row["unit"])
        doc: dict[str, Any] = {"unit": unit.id, "name": unit.name, "tier": unit.tier, "kind": unit.kind}
        doc.update({k: row[k] for k in f.UNIT_COUNTS})
        for key, r in f.rates_of(row, f.UNIT_FIGURES).items():
            doc[key] = _decimal(r.percent)
        return doc

    async def drilldown(self, request: Request, figure: str, limit: int | None, offset: int,
                        tier: str | None = None) -> dict[str, Any]:
        """The matters behind a figure (``limit`` None: all): each with its batches and persons in the period and
        what it contributes; ``sums`` are the contributions over every row, which make the figure. ``tier``: the
        batches or persons registered at that tier only."""
        self.check(request)
        scope = self.scope(request)
        values = scope.values(*request.period.bounds(self.county.zone)) | {"limit": limit, "offset": offset}
        rows = await self.fetch(queries.drill_sql(self.schema, figure, is_now(request), tier=tier is not None),
                                values | ({"tier": tier} if tier is not None else {}))
        return drill_doc(f.DRILL_BY_KEY[figure], rows, limit, offset, self.county) | {
            "period": period_doc(request.period, self.county), "scope": self._scope_doc(request), "tier": tier,
            "as_of": _iso(request.as_of), "known_at": _iso(request.known_at)}

    async def series(self, request: Request) -> dict[str, Any]:
        """Month by month for the period and the year before; breakdowns by tier and category."""
        self.check(request)
        scope = self.scope(request)
        zone = self.county.zone
        current, last = request.period, request.period.year_before()
        zoned = {"zone": self.county.timezone}
        args_now, args_then = scope.values(*current.bounds(zone)) | zoned, scope.values(*last.bounds(zone)) | zoned
        now_rows, then_rows, tiers, categories = await asyncio.gather(
            self.fetch(self._series, args_now), self.fetch(self._series, args_then),
            self.fetch(queries.breakdown_sql(self.schema, "tier"), args_now),
            self.fetch(queries.breakdown_sql(self.schema, "category"), args_now))
        months = [p.code for p in current.months()]
        then_months = [p.code for p in last.months()]
        by_month = {r["month"]: dict(r) for r in now_rows}
        then_by_month = {r["month"]: dict(r) for r in then_rows}
        empty = {"cases": 0, "batches": 0, "persons": 0, "collective_batches": 0, "overdue": 0, "escalated": 0}
        names = {c.code: c.name for c in self.county.categories}
        return {
            "period": period_doc(current, self.county),
            "months": [{"month": m, **{k: by_month.get(m, empty)[k] for k in empty}} for m in months],
            "last_year": [{"month": m, **{k: then_by_month.get(m, empty)[k] for k in empty}} for m in then_months],
            "by_tier": [{"tier": r["key"], "name": TIER_LABELS.get(r["key"], r["key"]), "batches": r["batches"],
                         "persons": r["persons"]} for r in tiers],
            "by_category": [{"category": r["key"], "name": names.get(r["key"], r["key"]), "cases": r["cases"],
                             "batches": r["batches"]} for r in categories],
        }


def is_now(request: Request) -> bool:
    """Figures for the present can read the matters' current state instead of their facts."""
    return request.as_of is None and request.known_at is None


def drill_doc(figure: f.Figure, rows: list, limit: int | None, offset: int, county: County) -> dict[str, Any]:
    """A drill-down page: the figure, its columns (headings in Chinese and English), the rows and the sums."""
    columns = f.drill_columns(figure)
    parts = [c.key for c in columns if c.key in ("contribution", "numerator", "denominator")]
    first = rows[0] if rows else None
    sums = {key: first[f"{key}_sum"] if first else 0 for key in parts}
    if figure.kind == "rate":
        sums["value"] = _decimal(f.rate(sums["numerator"], sums["denominator"]).percent)
    matters = [{"petition_id": r["petition_id"], "receipt_no": r["receipt_no"],
                "registered_at": r["occurred_at"].astimezone(county.zone).isoformat() if r["occurred_at"] else None,
                "jurisdiction": r["jurisdiction"], "category": r["category"], "channel": r["channel"],
                "batches": r["batches"], "persons": r["persons"], **{key: r[key] for key in parts},
                "merged": list(r["merged"])} for r in rows]  # the matters merged (并单) under this one
    return {"figure": figure.key, "label": figure.zh, "label_en": figure.en, "kind": figure.kind,
            "columns": [{"key": c.key, "label": c.zh, "label_en": c.en} for c in columns],
            "total": first["total"] if first else 0, "sums": sums, "limit": limit, "offset": offset,
            "matters": matters}


def figures_doc(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Each figure with its value and, per comparison, the other period's value and the change."""
    rates = {name: f.rates_of(c) for name, c in counts.items()}
    doc: dict[str, Any] = {}
    for figure in f.FIGURES:
        entry: dict[str, Any] = {"label": figure.zh, "label_en": figure.en}
        if figure.kind == "count":
            entry.update(value=counts["current"][figure.key], unit=figure.unit_zh)
        else:
            r = rates["current"][figure.key]
            entry.update(value=_decimal(r.percent), text=f.percent_text(r.percent), unit="%",
                         numerator=r.numerator, denominator=r.denominator, note=_note(r.note))
        for name in counts:
            if name == "current":
                continue
            if figure.kind == "count":
                ch = f.change(counts["current"][figure.key], counts[name][figure.key])
                entry[name] = {"value": counts[name][figure.key], "change_percent": _decimal(ch.percent),
                               "direction": ch.direction, "text": ch.text, "note": _note(ch.note)}
            else:
                ch = f.change_of_rate(rates["current"][figure.key].percent, rates[name][figure.key].percent)
                entry[name] = {"value": _decimal(rates[name][figure.key].percent), "change_points": _decimal(ch.points),
                               "direction": ch.direction, "text": ch.text, "note": _note(ch.note)}
        doc[figure.key] = entry
    return doc


def period_doc(period: Period, county: County) -> dict[str, Any]:
    start, stop = period.bounds(county.zone)
    return {"code": period.code, "kind": period.kind, "label": period.label, "from": period.start.isoformat(),
            "to": period.end.isoformat(), "starts_at": start.astimezone(county.zone).isoformat(),
            "ends_before": stop.astimezone(county.zone).isoformat()}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _note(note: tuple[str, str] | None) -> dict[str, str] | None:
    return None if note is None else {"zh": note[0], "en": note[1]}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


__all__ = ["FOREVER", "Reporter", "Request", "ScopeError", "drill_doc", "figures_doc", "parse_moment", "period_doc"]

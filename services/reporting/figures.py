"""The counting rules' figures: their names, how rates and changes are worked out and written.

Pure: counts come in from the queries, figures go out.  Percentages are Decimal, rounded half up
to two places (143/176 → 81.25); the seed's paragraph drops trailing zeros (25%, not 25.00%).
A rate or change with a zero denominator is not a number: it is ``None`` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Figure:
    """One figure of the counting rules."""

    key: str
    zh: str
    en: str
    kind: Literal["count", "rate"] = "count"
    numerator: str | None = None      # rates: the counts they divide
    denominator: str | None = None
    unit_zh: str = ""


FIGURES: tuple[Figure, ...] = (
    Figure("cases", "上访案件", "cases (matters first registered in the period)", unit_zh="件"),
    Figure("batches", "来访批次", "batches (first and later registrations)", unit_zh="批次"),
    Figure("persons", "来访人次", "persons (sum of head-counts)", unit_zh="人次"),
    Figure("repeat_batches", "重复访批次", "repeat batches", unit_zh="批次"),
    Figure("skip_level_batches", "越级访批次", "skip-level batches", unit_zh="批次"),
    Figure("collective_cases", "集体访案件", "collective cases", unit_zh="件"),
    Figure("collective_batches", "集体访批次", "collective batches", unit_zh="批次"),
    Figure("collective_persons", "集体访人次", "collective persons", unit_zh="人次"),
    Figure("resolved", "已解决", "resolved cases", unit_zh="件"),
    Figure("resolution_rate", "解决率", "resolution rate", "rate", "resolved", "cases"),
    Figure("collective_resolved", "集体访已解决", "collective cases resolved", unit_zh="件"),
    Figure("collective_resolution_rate", "集体访解决率", "collective resolution rate", "rate",
           "collective_resolved", "collective_cases"),
    Figure("accept_due", "应受理告知", "acceptance decisions due in the period", unit_zh="件"),
    Figure("accepted_on_time", "及时受理", "accepted or declined within the limit", unit_zh="件"),
    Figure("timely_acceptance_rate", "及时受理率", "timely acceptance rate", "rate", "accepted_on_time", "accept_due"),
    Figure("handle_due", "应办结", "replies due in the period", unit_zh="件"),
    Figure("replied_on_time", "按期办结", "replied within the (extended) limit", unit_zh="件"),
    Figure("on_time_completion_rate", "按期办结率", "on-time completion rate", "rate", "replied_on_time", "handle_due"),
    Figure("replied", "已答复", "cases replied", unit_zh="件"),
    Figure("evaluated", "已评价", "cases evaluated", unit_zh="件"),
    Figure("satisfied", "满意及基本满意", "satisfied or basically satisfied", unit_zh="件"),
    Figure("satisfaction_rate", "满意率", "satisfaction rate", "rate", "satisfied", "evaluated"),
    Figure("participation_rate", "参评率", "participation rate", "rate", "evaluated", "replied"),
    Figure("first_time_resolved", "一次办结", "resolved at the first reply, one batch, no review", unit_zh="件"),
    Figure("first_time_resolution_rate", "一次办结率", "first-time resolution rate", "rate",
           "first_time_resolved", "replied"),
)
BY_KEY = {f.key: f for f in FIGURES}
#: the series' events the dashboard's chart of them drills down to: GET /v1/stats/drilldown only, not /v1/stats'
#: figures (reporting.queries.EVENT_CONTRIBUTIONS)
EVENT_FIGURES: tuple[Figure, ...] = (
    Figure("overdue_notices", "超期", "overdue notices: a unit's deadline passed unmet", unit_zh="件次"),
    Figure("escalations", "升级", "escalations: a matter sent to the tier above", unit_zh="件次"),
)
DRILL_BY_KEY = {**BY_KEY, **{f.key: f for f in EVENT_FIGURES}}
COUNTS = tuple(f.key for f in FIGURES if f.kind == "count")
RATES = tuple(f.key for f in FIGURES if f.kind == "rate")

#: per handling unit
UNIT_FIGURES: tuple[Figure, ...] = (
    Figure("received", "收到交办", "matters assigned, escalated or sent for review to the unit", unit_zh="件"),
    Figure("accept_due", "应受理告知", "acceptance decisions due", unit_zh="件"),
    Figure("accepted_on_time", "及时受理", "accepted or declined on time", unit_zh="件"),
    Figure("timely_acceptance_rate", "及时受理率", "timely acceptance rate", "rate", "accepted_on_time", "accept_due"),
    Figure("handle_due", "应办结", "replies due", unit_zh="件"),
    Figure("replied_on_time", "按期办结", "replied on time", unit_zh="件"),
    Figure("on_time_completion_rate", "按期办结率", "on-time completion rate", "rate", "replied_on_time", "handle_due"),
    Figure("overdue", "超期", "overdue notices", unit_zh="件次"),
    Figure("escalated_away", "被升级", "matters escalated away from the unit", unit_zh="件次"),
    Figure("evaluated", "评价", "evaluations of the unit's replies", unit_zh="件"),
    Figure("satisfied", "满意及基本满意", "satisfied or basically satisfied", unit_zh="件"),
    Figure("satisfaction_rate", "满意率", "satisfaction rate", "rate", "satisfied", "evaluated"),
)
UNIT_COUNTS = tuple(f.key for f in UNIT_FIGURES if f.kind == "count")


@dataclass(frozen=True)
class Column:
    """A column of a figure's drill-down: its key in the JSON rows, its heading in Chinese and in English."""

    key: str
    zh: str
    en: str


MATTER_COLUMNS: tuple[Column, ...] = (
    Column("petition_id", "事项编号", "petition id"), Column("receipt_no", "受理编号", "receipt number"),
    Column("registered_at", "登记时间", "registered at"), Column("jurisdiction", "区划代码", "jurisdiction"),
    Column("category", "类别", "category"), Column("channel", "渠道", "channel"),
    Column("batches", "本期批次", "the matter's batches in the period"),
    Column("persons", "本期人次", "the matter's persons in the period"),
)


def drill_columns(figure: Figure) -> tuple[Column, ...]:
    """The drill-down's columns: the matter, then what it contributes to the figure — to a count, or to a rate's
    numerator and denominator (the contributions of all rows sum to the figure's counts)."""
    if figure.kind == "count":
        return (*MATTER_COLUMNS, Column("contribution", f"计入{figure.zh}（{figure.unit_zh}）",
                                        f"counted in {figure.key}"))
    top, bottom = BY_KEY[figure.numerator], BY_KEY[figure.denominator]
    return (*MATTER_COLUMNS, Column("numerator", f"计入分子{top.zh}（{top.unit_zh}）", f"counted in the numerator, {top.key}"),
            Column("denominator", f"计入分母{bottom.zh}（{bottom.unit_zh}）", f"counted in the denominator, {bottom.key}"))


NO_DENOMINATOR = ("分母为0，无法计算", "the denominator is 0: no rate")
NO_BASE = ("对比期为0，无法计算变化率", "the comparison value is 0: no change in percent")


def half_up(value: Decimal) -> Decimal:
    """Round half up to two places, as the bureau rounds by hand."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator in percent, or None (with the reason) when the denominator is 0."""

    numerator: int
    denominator: int
    percent: Decimal | None
    note: tuple[str, str] | None = None


def rate(numerator: int, denominator: int) -> Rate:
    """143/176 → 81.25."""
    if denominator == 0:
        return Rate(numerator, denominator, None, NO_DENOMINATOR)
    return Rate(numerator, denominator, percent(numerator, denominator))


def percent(numerator: int, denominator: int) -> Decimal | None:
    """:func:`rate`'s percent alone (None: no denominator) — the assessment's thousands of cells."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * HUNDRED / denominator).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Change:
    """How a figure moved against a comparison value."""

    current: Decimal | int | None
    previous: Decimal | int | None
    percent: Decimal | None            # counts: (current − previous) ÷ previous, in percent
    points: Decimal | None = None      # rates: the difference in percentage points
    direction: Literal["上升", "下降", "持平"] | None = None
    note: tuple[str, str] | None = None

    @property
    def text(self) -> str | None:
        """上升17.78% / 下降15.98% / 持平, as the seed writes it; None when there is no value."""
        if self.direction is None:
            return None
        if self.direction == "持平":
            return "持平"
        if self.points is not None:
            return f"{self.direction}{plain(abs(self.points))}个百分点"
        return f"{self.direction}{percent_text(abs(self.percent))}" if self.percent is not None else None


def _direction(delta: Decimal) -> Literal["上升", "下降", "持平"]:
    return "上升" if delta > 0 else "下降" if delta < 0 else "持平"


def change(current: int, previous: int) -> Change:
    """212 vs 180 → 上升17.78%; 820 vs 976 → 下降15.98%; against 0 → no percent, with the reason."""
    if previous == 0:
        if current == 0:
            return Change(current, previous, None, direction="持平", note=NO_BASE)
        return Change(current, previous, None, direction=None, note=NO_BASE)
    delta = Decimal(current - previous)
    percent = half_up(delta * HUNDRED / Decimal(previous))
    return Change(current, previous, percent, direction=_direction(percent if percent else delta))


def change_of_rate(current: Decimal | None, previous: Decimal | None) -> Change:
    """Rates compare in percentage points: 81.25 vs 78.00 → 上升3.25个百分点."""
    if current is None or previous is None:
        return Change(current, previous, None, None, None, NO_DENOMINATOR)
    points = half_up(current - previous)
    return Change(current, previous, None, points, _direction(points))


def plain(value: Decimal) -> str:
    """A Decimal without trailing zeros: 25.00 → 25, 17.80 → 17.8, 81.25 → 81.25."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def percent_text(value: Decimal | None) -> str | None:
    """81.25 → "81.25%", 25.00 → "25%"; None stays None."""
    return None if value is None else f"{plain(value)}%"


def rates_of(counts: dict[str, int], figures: tuple[Figure, ...] = FIGURES) -> dict[str, Rate]:
    """Every rate of ``figures`` from the counts."""
    return {f.key: rate(counts[f.numerator], counts[f.denominator]) for f in figures if f.kind == "rate"}

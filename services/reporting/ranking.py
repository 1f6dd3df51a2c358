"""考核 ranking, pure: the indicators of each unit or place from its counts, its score, the veto, ranks and
rank changes.  Counts come in from the queries (``reporting.assessment``), ranks go out.

Score: each indicator scored 0..1 — a rate (higher is better) as rate ÷ 100, the repeat-batch share as
1 − share ÷ 100, a count (lower is better) as 1 − count ÷ the largest count among those ranked (1 when all are
0) — and weighted by the county file's weights (``xinfang.county.assessment``); a rate without denominator is not
scored, its weight left out of that row's sum.  Score = Σ weight × indicator ÷ Σ weight × 100, two places half up.
A veto (一票否决) puts the row after every row not vetoed.  Equal scores share a rank (1, 2, 2, 4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from reporting.figures import half_up, percent
from xinfang.county.assessment import DEFAULT_WEIGHTS, LOWER_IS_BETTER, RATES, Assessment

HUNDRED = Decimal(100)
#: indicator → (numerator, denominator) counts for the rates; the counts are the indicator itself
PARTS: dict[str, tuple[str, str]] = {
    "timely_acceptance_rate": ("accepted_on_time", "accept_due"),
    "on_time_completion_rate": ("replied_on_time", "handle_due"),
    "satisfaction_rate": ("satisfied", "evaluated"),
    "participation_rate": ("evaluated", "replied"),
    "first_time_resolution_rate": ("first_time_resolved", "replied"),
    "repeat_batch_share": ("repeat_batches", "batches"),
}
INDICATORS: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)
_PARTS_OF = tuple((key, PARTS[key] if key in RATES else None) for key in INDICATORS)  # each indicator's parts (rates)


@dataclass(frozen=True)
class Ranked:
    """One unit's or place's row: its indicators (rates in percent, None without denominator), score, veto, rank."""

    key: str
    values: dict[str, Decimal | int | None]
    score: Decimal
    vetoed: tuple[str, ...]
    rank: int = 0
    previous_rank: int | None = None
    change: int | None = field(default=None)


def indicators(counts: dict[str, int]) -> dict[str, Decimal | int | None]:
    """The indicators of one row of counts (the counts of ``reporting.assessment``)."""
    return {key: percent(counts[parts[0]], counts[parts[1]]) if parts else counts[key] for key, parts in _PARTS_OF}


def score(values: dict[str, Decimal | int | None], largest: dict[str, int], rules: Assessment) -> Decimal:
    return _score(values, largest, _weights(rules))


def _weights(rules: Assessment) -> list[tuple[str, Decimal]]:
    return [(key, rules.weight(key)) for key in INDICATORS if rules.weight(key) > 0]


def _score(values: dict[str, Decimal | int | None], largest: dict[str, int],
           weighted: list[tuple[str, Decimal]]) -> Decimal:
    total = weights = Decimal(0)
    for key, weight in weighted:
        value = values[key]
        if value is None:
            continue
        if key in RATES:
            part = Decimal(value) / HUNDRED
            part = 1 - part if key in LOWER_IS_BETTER else part
        else:
            part = Decimal(1) - Decimal(value) / largest[key] if largest[key] else Decimal(1)
        total, weights = total + weight * part, weights + weight
    return half_up(total / weights * HUNDRED) if weights else Decimal(0)


def vetoes(values: dict[str, Decimal | int | None], rules: Assessment) -> tuple[str, ...]:
    """The veto rules the row falls under (a rate without denominator falls under none)."""
    return tuple(v.indicator for v in rules.vetoes
                 if values[v.indicator] is not None and Decimal(values[v.indicator]) < v.below)


def rank(rows: dict[str, dict[str, int]], rules: Assessment,
         previous: dict[str, dict[str, int]] | None = None) -> list[Ranked]:
    """Every row scored and ranked, best first; with ``previous`` (the period before, same keys), each row's
    rank then and its change (positive: up)."""
    ranked = scored(rows, rules)
    return ranked if previous is None else against(ranked, scored(previous, rules))


def against(ranked: list[Ranked], before: list[Ranked]) -> list[Ranked]:
    """:func:`rank` of two periods scored apart (:func:`scored`): each row of ``ranked`` with its rank in
    ``before`` and its change."""
    then = {r.key: r.rank for r in before}
    return [Ranked(r.key, r.values, r.score, r.vetoed, r.rank, then.get(r.key),
                   None if r.key not in then else then[r.key] - r.rank) for r in ranked]


def scored(rows: dict[str, dict[str, int]], rules: Assessment) -> list[Ranked]:
    """Every row scored and ranked, best first (one period)."""
    values = {key: indicators(counts) for key, counts in rows.items()}
    largest = {key: max((int(v[key] or 0) for v in values.values()), default=0)
               for key in INDICATORS if key not in RATES}
    weighted = _weights(rules)
    scored = [Ranked(key, v, _score(v, largest, weighted), vetoes(v, rules)) for key, v in values.items()]
    scored.sort(key=lambda r: (bool(r.vetoed), -r.score, r.key))
    out: list[Ranked] = []
    for i, r in enumerate(scored):
        same = out and (bool(out[-1].vetoed), out[-1].score) == (bool(r.vetoed), r.score)
        out.append(Ranked(r.key, r.values, r.score, r.vetoed, out[-1].rank if same else i + 1))
    return out


__all__ = ["INDICATORS", "PARTS", "Ranked", "against", "indicators", "rank", "score", "scored", "vetoes"]

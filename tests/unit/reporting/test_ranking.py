"""考核 ranking: indicators from counts, weighted score, the veto, shared ranks and rank changes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from reporting.assessment import COUNTS
from reporting.ranking import indicators, rank
from xinfang.county.assessment import DEFAULT_WEIGHTS, Assessment, Veto


def counts(**given: int) -> dict[str, int]:
    return {key: given.get(key, 0) for key in COUNTS}


GOOD = counts(accept_due=10, accepted_on_time=10, handle_due=10, replied_on_time=9, replied=10, evaluated=8,
              satisfied=8, first_time_resolved=7, batches=12, repeat_batches=2, skip_level_batches=1,
              overdue_obligations=1, escalations_caused=1)
POOR = counts(accept_due=10, accepted_on_time=5, handle_due=10, replied_on_time=4, replied=10, evaluated=10,
              satisfied=7, first_time_resolved=2, batches=20, repeat_batches=10, skip_level_batches=4,
              overdue_obligations=11, escalations_caused=3)


def test_the_rates_are_percent_two_places_and_none_without_denominator():
    values = indicators(GOOD)
    assert values["on_time_completion_rate"] == Decimal("90.00")
    assert values["repeat_batch_share"] == Decimal("16.67")
    assert values["skip_level_batches"] == 1
    assert indicators(counts())["satisfaction_rate"] is None


def test_the_better_unit_ranks_first_and_the_score_is_the_weighted_mean():
    rules = Assessment(weights={k: Decimal(0) for k in DEFAULT_WEIGHTS} | {"on_time_completion_rate": Decimal(1)},
                       vetoes=[])
    ranked = rank({"poor": POOR, "good": GOOD}, rules)
    assert [(r.key, r.rank, r.score) for r in ranked] == [("good", 1, Decimal("90.00")), ("poor", 2, Decimal("40.00"))]


def test_a_count_scores_against_the_largest_among_those_ranked():
    rules = Assessment(weights={k: Decimal(0) for k in DEFAULT_WEIGHTS} | {"skip_level_batches": Decimal(1)}, vetoes=[])
    scores = {r.key: r.score for r in rank({"poor": POOR, "good": GOOD}, rules)}
    assert scores == {"good": Decimal("75.00"), "poor": Decimal("0.00")}


def test_a_veto_ranks_below_every_unit_not_vetoed_whatever_its_score():
    rules = Assessment(vetoes=[Veto(indicator="satisfaction_rate", below=Decimal(90))])
    ranked = rank({"poor": POOR, "good": GOOD, "none": counts()}, rules)
    assert [r.key for r in ranked][-1] == "poor" and ranked[-1].vetoed == ("satisfaction_rate",)
    assert not any(r.vetoed for r in ranked[:-1])  # no evaluation: no rate, no veto


def test_equal_scores_share_a_rank_and_the_change_is_against_the_period_before():
    rows = {"a": GOOD, "b": GOOD, "c": POOR}
    ranked = rank(rows, Assessment(), previous={"a": POOR, "b": GOOD, "c": GOOD})
    assert [(r.key, r.rank) for r in ranked] == [("a", 1), ("b", 1), ("c", 3)]
    change = {r.key: (r.previous_rank, r.change) for r in ranked}
    assert change == {"a": (3, 2), "b": (1, 0), "c": (1, -2)}


def test_the_county_file_refuses_unknown_indicators_negative_weights_and_all_zero():
    with pytest.raises(ValidationError):
        Assessment(weights={"speed": Decimal(1)})
    with pytest.raises(ValidationError):
        Assessment(weights={"satisfaction_rate": Decimal(-1)})
    with pytest.raises(ValidationError):
        Assessment(weights={k: Decimal(0) for k in DEFAULT_WEIGHTS})
    assert Assessment().weight("satisfaction_rate") == DEFAULT_WEIGHTS["satisfaction_rate"]
    assert Assessment().vetoes == [Veto(indicator="satisfaction_rate", below=Decimal(60))]

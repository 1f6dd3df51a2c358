"""How the county assesses its units and places (考核): the county file's ``assessment:`` section and its defaults.

Each indicator has a weight (the share of the score it carries; 0: shown, not scored) and a direction: a rate
the higher the better, the counts and the repeat-batch share the lower the better.  A veto rule (一票否决)
ranks a unit below every unit not vetoed, whatever its score: by default a satisfaction rate (满意率) below 60 %.
A county without an ``assessment:`` section has every default below.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Indicator = Literal["timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate", "participation_rate",
                    "first_time_resolution_rate", "overdue_obligations", "escalations_received",
                    "escalations_caused", "repeat_batch_share", "skip_level_batches"]
#: the indicators where less is better (the others are rates where more is)
LOWER_IS_BETTER = frozenset({"overdue_obligations", "escalations_received", "escalations_caused",
                             "repeat_batch_share", "skip_level_batches"})
#: the rates among them (percent; a rate with a zero denominator is not scored)
RATES = frozenset({"timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate", "participation_rate",
                   "first_time_resolution_rate", "repeat_batch_share"})
#: the defaults: the 三率 and the handling limits carry most; escalations received are shown, not scored (a unit
#: above receives what those below let escalate)
DEFAULT_WEIGHTS: dict[str, Decimal] = {
    "timely_acceptance_rate": Decimal(15), "on_time_completion_rate": Decimal(20), "satisfaction_rate": Decimal(20),
    "participation_rate": Decimal(10), "first_time_resolution_rate": Decimal(10), "overdue_obligations": Decimal(10),
    "escalations_received": Decimal(0), "escalations_caused": Decimal(5), "repeat_batch_share": Decimal(5),
    "skip_level_batches": Decimal(5)}


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Veto(Part):
    """一票否决: a rate below ``below`` percent ranks the unit after every unit not vetoed."""

    indicator: Literal["timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate", "participation_rate",
                       "first_time_resolution_rate"]
    below: Decimal = Field(ge=0, le=100)


class Assessment(Part):
    """The weights of the indicators (any left out keeps its default) and the veto rules."""

    weights: dict[Indicator, Decimal] = Field(default_factory=dict)
    vetoes: list[Veto] = Field(default_factory=lambda: [Veto(indicator="satisfaction_rate", below=Decimal(60))])

    @model_validator(mode="after")
    def _weights_in_range(self) -> Assessment:
        for key, weight in self.weights.items():
            if weight < 0 or weight > 1000:
                raise ValueError(f"考核权重须在 0 到 1000 之间 assessment weight of {key} must be 0 to 1000: {weight}")
        if not any(self.weight(key) > 0 for key in DEFAULT_WEIGHTS):
            raise ValueError("考核权重不能全为 0 at least one assessment weight must be above 0")
        return self

    def weight(self, indicator: str) -> Decimal:
        """The indicator's weight: the county's, else the default."""
        return self.weights.get(indicator, DEFAULT_WEIGHTS[indicator])  # type: ignore[call-overload]


__all__ = ["DEFAULT_WEIGHTS", "LOWER_IS_BETTER", "RATES", "Assessment", "Indicator", "Veto"]

"""Which of a person's matters a new registration may repeat (重复访): the clerk is shown them and decides."""
from __future__ import annotations

from datetime import datetime, timedelta

from intake.domain.model import OPEN, PetitionState


def may_repeat(state: PetitionState, now: datetime, window: timedelta) -> bool:
    """True for a matter still open, or one whose last step (an answer, a decline, a withdrawal …) lies within the
    county's ``repeat_window`` of ``now``: the person coming back about it is a later batch of it, not a new matter.
    A merged matter is none: its survivor is offered instead."""
    if state.merged_into is not None:
        return False
    if state.status in OPEN:
        return True
    return (state.last_fact_at or state.registered_at) >= now - window

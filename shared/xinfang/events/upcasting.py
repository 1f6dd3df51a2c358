"""Upcasters: a reader turns an old version of an event type into the current one.

Stored events are never rewritten (their hashes would break); readers upcast on the way in.
Register a step per old version: ``petition.x.v1 → petition.x.v2``; steps chain.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model

from xinfang.events.catalogue import CATALOGUE, EventData, data_model_for
from xinfang.events.envelope import CloudEvent

Step = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """A registry of upcasting steps from an old type name to its successor."""

    def __init__(self) -> None:
        self._steps: dict[str, tuple[str, Step]] = {}

    def register(self, old_type: str, new_type: str) -> Callable[[Step], Step]:
        """Decorator: ``step(data) -> data`` turns ``old_type`` data into ``new_type`` data."""

        def add(step: Step) -> Step:
            if old_type in self._steps:
                raise ValueError(f"已注册 upcaster already registered for {old_type}")
            self._steps[old_type] = (new_type, step)
            self.__dict__.pop("_typed", None)  # an upcast type is no longer read in one pass
            return step

        return add

    def upcast(self, event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Apply steps until the type is current (or no step applies)."""
        seen: set[str] = set()
        while event_type in self._steps:
            if event_type in seen:
                raise ValueError(f"升级链成环 upcaster cycle at {event_type}")
            seen.add(event_type)
            event_type, step = self._steps[event_type]
            data = step(dict(data))
        return event_type, data

    def decode(self, event_type: str, data: dict[str, Any]) -> tuple[str, EventData]:
        """Upcast, then validate against the current model of the type."""
        current, upcast_data = self.upcast(event_type, data)
        return current, data_model_for(current).model_validate(upcast_data)

    def read_current(self, raw: bytes | str) -> CloudEvent | None:
        """The event with ``data`` as the model of its type, if ``raw`` is a valid event of a current
        type — envelope and data validated in one pass of pydantic-core over the bytes, a third less
        time than ``CloudEvent.from_json`` then :meth:`decode`; None otherwise (an old version to
        upcast, or a broken record: those two steps say what is wrong)."""
        try:
            return self._typed.validate_json(raw)
        except ValidationError:
            return None

    @cached_property
    def _typed(self) -> TypeAdapter:
        """Every current type as a CloudEvent whose ``type`` is that type and whose ``data`` is its model."""
        typed = [create_model(f"CloudEvent_{name}", __base__=CloudEvent, type=(Literal[name], ...), data=(model, ...))
                 for name, (model, _) in CATALOGUE.items() if name not in self._steps]
        # a union built at run time: only typing.Union takes a tuple of members
        return TypeAdapter(Annotated[Union[tuple(typed)], Field(discriminator="type")])  # noqa: UP007

    def is_known(self, event_type: str) -> bool:
        return event_type in CATALOGUE or event_type in self._steps


#: The project's registry.
UPCASTERS = Upcasters()

# v2 of the routing types that carry due times: ``calendar_assumed`` (a v1 due was never marked: False) and
# the deadline-change reason "calendar".  A v1 event reads as v2 unchanged.
for _name in ("assigned", "escalated", "deadline_changed", "review_assigned"):
    UPCASTERS.register(f"petition.{_name}.v1", f"petition.{_name}.v2")(dict)

# v2 of the review and re-review requests: the reviewing ``unit`` and ``tier`` that intake decides for imported
# history (a v1 request named none: escalation assigned the reviewer).  A v1 event reads as v2 unchanged.
for _name in ("review_requested", "recheck_requested"):
    UPCASTERS.register(f"petition.{_name}.v1", f"petition.{_name}.v2")(dict)

# v2 of the evaluation: the petitioner's optional ``remark`` (the portal).  A v1 evaluation had none: unchanged.
UPCASTERS.register("petition.evaluated.v1", "petition.evaluated.v2")(dict)


# v2 of the answers (reply, review's and re-review's reply): the 意见书 states the facts found (``facts``) and the
# grounds (``grounds``) apart.  A v1 answer had one text, ``opinion``: it is read as the grounds — it is what the
# unit wrote to justify its decision, and calling it the facts would claim a finding the unit never stated apart —
# and ``facts`` is null (a notice issued from such an answer says so, see intake/notices/compose.py).
def _answer_v1(data: dict[str, Any]) -> dict[str, Any]:
    data["grounds"] = data.pop("opinion")
    return data


for _name in ("replied", "review_replied", "recheck_replied"):
    UPCASTERS.register(f"petition.{_name}.v1", f"petition.{_name}.v2")(_answer_v1)

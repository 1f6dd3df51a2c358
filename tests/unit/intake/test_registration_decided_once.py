"""A live registration is decided once, before its receipt number is drawn, and then numbered: the state and the
events are those deciding again with the number gives; its answer is built as the JSON ``Registration`` writes
(docs/benchmarks.md, the lookup section)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import orjson
import pytest

from intake.api import schemas
from intake.api.routes import registration
from intake.auth import Terminal
from intake.desk import Found
from intake.domain import commands as c
from intake.domain.decide import decide, numbered
from intake.domain.errors import Refused
from intake.domain.model import evolve
from intake.organisation import context
from intake.service import IntakeService
from intake.store import Loaded
from xinfang.county import load_county
from xinfang.events.envelope import rfc3339
from xinfang.settings import DEMO_COUNTY

COUNTY = load_county(DEMO_COUNTY)
AT = datetime(2026, 12, 1, 2, 30, tzinfo=timezone.utc)
ROOM, VILLAGE_CODE = "room.361402001001", "361402001001"
ROLES = frozenset({"registrar", "handler", "supervisor"})
TERMINAL = Terminal(id="t-room", unit_id=ROOM, roles=ROLES)
NUMBER = "2026-361402-0000042"


def register(receipt_no: str, **changes) -> c.RegisterPetition:
    return c.RegisterPetition(**{"petition_id": "m1", "receipt_no": receipt_no, "batch_id": "b1", "channel": "visit",
                                 "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "欠薪",
                                 "head_count": 3, **changes})


@pytest.mark.parametrize("changes", [{}, {"accused_unit": "station.361402001000"},
                                     {"imported": True, "external_id": "old-1"}])
def test_numbered_events_are_the_events_decided_with_the_number(changes):
    ctx = context(COUNTY, ROOM, ROLES, AT)
    early = decide(None, register("2026-361402-0000000", **changes), ctx)
    assert numbered(early, NUMBER) == tuple(decide(None, register(NUMBER, **changes), ctx))
    assert early[0].receipt_no == "2026-361402-0000000"  # the first decision's events are left as they were


@pytest.mark.parametrize("imported", [False, True])
def test_a_registrations_state_is_built_with_its_receipt_told(imported):
    [data] = decide(None, register(NUMBER, imported=imported, external_id="old-1" if imported else None),
                    context(COUNTY, ROOM, ROLES, AT))
    state = evolve(None, data, AT, 1)
    assert state.told == (("receipt", 1, ROOM, rfc3339(AT)),)
    assert (state.status, state.holder_unit, state.assigned_at) == (
        ("assigned", ROOM, AT) if imported else ("registered", None, None))
    assert state.receipt_no == NUMBER and state.registered_at == state.last_fact_at == AT


async def test_the_service_decides_a_live_registration_before_the_number_and_not_again():
    service = IntakeService(None, COUNTY, None, "sha256")  # type: ignore[arg-type]  # decides only: no I/O
    made: list[str] = []

    async def make(_conn, _state, receipt_no, _people) -> c.RegisterPetition:
        made.append(receipt_no)
        return register(receipt_no)

    refusal, first = await service._refusal(TERMINAL, make, ROLES, AT, 2026, (), False)  # noqa: SLF001
    assert refusal is None and first is not None and made == ["2026-361402-0000000"]
    once = service.decided(TERMINAL, ROLES, Loaded(None), "m1",
                           [dataclasses.replace(first, decided=numbered(first.decided or (), NUMBER))],
                           AT, AT, "terminal:t-room")
    again = service.decided(TERMINAL, ROLES, Loaded(None), "m1", register(NUMBER), AT, AT, "terminal:t-room")
    assert once[0] == again[0] and once[0].receipt_no == NUMBER and once[0].petition_id == "m1"
    assert [(e.type, e.data) for e in once[1]] == [(e.type, e.data) for e in again[1]]


async def test_a_refused_registration_comes_back_refused_and_undecided():
    service = IntakeService(None, COUNTY, None, "sha256")  # type: ignore[arg-type]

    async def make(_conn, _state, receipt_no, _people) -> c.RegisterPetition:
        return register(receipt_no, category="no-such-category")

    refusal, first = await service._refusal(TERMINAL, make, ROLES, AT, 2026, (), False)  # noqa: SLF001
    assert isinstance(refusal, Refused) and refusal.field == "category" and first is None


def test_a_registrations_answer_is_the_json_its_model_writes():
    [data] = decide(None, register(NUMBER), context(COUNTY, ROOM, ROLES, AT))
    state = evolve(None, data, AT, 1, "6f1c1c1e-8d5e-4a4e-9a57-2f0f5d2b8d11")
    earlier = dataclasses.replace(state, petition_id="0b4bd7c2-1c1a-4f8e-8a56-3f6e2d7f9a01", receipt_no="2026-361402-1")
    for repeats in ((), (Found(earlier, ("id_number", "phone"), ("r1",)),)):
        answer = registration(COUNTY, state, repeats)
        assert orjson.dumps(answer) == orjson.dumps(schemas.Registration.model_validate(answer).model_dump(mode="json"))
        assert [r["petition_id"] for r in answer["possible_repeats"]] == [earlier.petition_id for _ in repeats]
    assert answer["petition_id"] == state.petition_id == "6f1c1c1e-8d5e-4a4e-9a57-2f0f5d2b8d11"

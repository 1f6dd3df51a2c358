"""A registration's candidate repeats as the statement reads them (desk.candidates_column: a JSON array of a few
columns, not the whole state) and which of them it offers (desk.offered): in scope, open or closed within the
county's repeat window, never a merged matter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from intake import desk
from xinfang.county import load_county
from xinfang.settings import DEMO_COUNTY

COUNTY = load_county(DEMO_COUNTY)
ROOM, OTHER_ROOM, BUREAU = "room.361402001001", "room.361402001002", "bureau.361402"
CLOSED = "2025-03-20T09:00:00+08:00"


def row(pid: str, status: str = "accepted", last: str | None = CLOSED, merged_into: str | None = None,
        accused: str | None = None, kinds=("phone", "id_number")) -> dict:
    """One element of the column, as PostgreSQL's json_agg writes it (the state's times as they were stored)."""
    return {"petition_id": pid, "receipt_no": f"2025-361402-{pid[-4:]}", "status": status,
            "jurisdiction": "361402001001", "category": "labour", "registered_unit": ROOM, "accused_unit": accused,
            "holder_unit": ROOM, "registered_at": "2025-03-01T10:00:00+08:00", "last_fact_at": last,
            "merged_into": merged_into, "kinds": list(kinds), "newest": "2025-03-01T02:00:00.123456+00:00"}


def test_the_column_is_read_into_the_fields_the_answer_shows_times_as_stored_kinds_sorted():
    found, = desk.candidates(orjson.dumps([row("p-0001")]).decode())
    state = found.state
    assert (state.petition_id, state.receipt_no, state.status, state.category, state.holder_unit) == (
        "p-0001", "2025-361402-0001", "accepted", "labour", ROOM)
    assert state.registered_at == datetime(2025, 3, 1, 2, tzinfo=timezone.utc)
    assert state.last_fact_at.isoformat() == CLOSED  # the offset kept: the answer shows it as before
    assert found.matched_by == ("id_number", "phone") and found.refs == ()
    assert desk.candidates(None) == desk.candidates("[]") == []


def test_offered_open_always_closed_up_to_the_window_edge_never_merged_nor_out_of_scope():
    edge = datetime.fromisoformat(CLOSED) + COUNTY.repeat_window
    column = orjson.dumps([
        row("p-open", status="accepted", last=CLOSED), row("p-closed", status="replied"),
        row("p-merged", status="merged", merged_into="p-open"), row("p-never", status="replied", last=None),
        row("p-accused", status="accepted", accused=OTHER_ROOM)]).decode()

    def offered(unit: str, now: datetime) -> list[str]:
        return [f.state.petition_id for f in desk.offered(COUNTY, unit, desk.candidates(column), now)]

    assert offered(ROOM, edge) == ["p-open", "p-closed", "p-accused"]
    assert offered(ROOM, edge + timedelta(microseconds=1)) == ["p-open", "p-accused"]
    # no step since registration: the window runs from the registration (2025-03-01, before the reply's date)
    assert "p-never" in offered(ROOM, datetime(2025, 3, 1, 2, tzinfo=timezone.utc) + COUNTY.repeat_window)
    assert "p-never" not in offered(ROOM, edge)
    assert offered(OTHER_ROOM, edge) == []  # the next village's room: none of it in scope, nor the accused one
    assert offered(BUREAU, edge) == ["p-open", "p-closed"]  # an accusation: its holder and registrar only

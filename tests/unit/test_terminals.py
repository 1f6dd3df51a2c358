"""The terminals' tokens as reporting and escalation know them: the lifecycle events rebuilt from a row, their
projection, the trust rule (fails closed) and the scope a terminal reads in reporting."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from reporting.access import restrict
from reporting.periods import parse_period
from reporting.stats import Request
from xinfang.county import load_county
from xinfang.events import CloudEvent
from xinfang.problems import Problem
from xinfang.settings import CommonSettings
from xinfang.terminals import Known, Terminal, TokenDirectory, caller, lifecycle_event, token_hash

ROOT = Path(__file__).resolve().parents[2]
CREATED = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
REVOKED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TOKEN = "xft_" + "a" * 43
SOURCE = "/xinfang/361402/intake"


def record(event: CloudEvent) -> tuple[bytes, bytes]:
    return event.subject.encode(), event.to_json()


def test_the_events_are_rebuilt_from_the_row_byte_for_byte_and_carry_the_hash_never_the_token():
    once = lifecycle_event("t-1", "room.361402001001", ["handler"], token_hash(TOKEN), CREATED, None, SOURCE)
    again = lifecycle_event("t-1", "room.361402001001", ["handler"], token_hash(TOKEN), CREATED, None, SOURCE)
    assert once.to_json() == again.to_json() and once.type == "terminal.created.v1"
    assert TOKEN.encode() not in once.to_json() and token_hash(TOKEN).hex().encode() in once.to_json()
    revoked = lifecycle_event("t-1", "room.361402001001", ["handler"], token_hash(TOKEN), CREATED, REVOKED, SOURCE)
    assert revoked.type == "terminal.revoked.v1" and revoked.seq == 2 and revoked.prevhash == once.hash
    assert revoked.hash_ok()


def test_the_projection_knows_a_created_terminal_and_forgets_it_when_revoked_or_tombstoned():
    known = Known()
    known.apply(*record(lifecycle_event("t-1", "u", ["auditor"], token_hash(TOKEN), CREATED, None, SOURCE)))
    assert known.by_hash[token_hash(TOKEN)] == Terminal("t-1", "u", frozenset({"auditor"}))
    known.apply(*record(lifecycle_event("t-1", "u", ["auditor"], token_hash(TOKEN), CREATED, REVOKED, SOURCE)))
    assert known.by_hash == {} and known.hash_of == {}
    known.apply(*record(lifecycle_event("t-2", "u", ["auditor"], token_hash(TOKEN), CREATED, None, SOURCE)))
    known.apply(b"t-2", None)
    assert known.by_hash == {}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_directory_never_confirmed_or_not_confirmed_for_longer_than_the_staleness_refuses_every_token():
    clock = Clock()
    directory = TokenDirectory(CommonSettings(token_max_staleness=10), clock=clock)
    directory.known.apply(*record(lifecycle_event("t-1", "u", ["auditor"], token_hash(TOKEN), CREATED, None, SOURCE)))
    with pytest.raises(Problem) as refused:
        caller(directory, f"Bearer {TOKEN}")
    assert refused.value.status == 503
    directory.fresh_at = clock.now
    assert caller(directory, f"Bearer {TOKEN}").id == "t-1"
    clock.now += 10.5
    with pytest.raises(Problem) as stale:
        caller(directory, f"Bearer {TOKEN}")
    assert stale.value.status == 503


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer xft_unknown", "Bearer " + "x" * 200])
def test_no_malformed_or_unknown_token_passes(header):
    directory = TokenDirectory(CommonSettings())
    directory.fresh_at = directory.clock()
    with pytest.raises(Problem) as refused:
        caller(directory, header)
    assert refused.value.status == 401


# ---- what a terminal reads in reporting ---------------------------------------------------------------------

COUNTY = load_county(ROOT / "deploy" / "counties" / "demo.yaml")
Q1 = parse_period(quarter="2026Q1")


def asked(**kw) -> Request:
    return Request(period=Q1, **kw)


def who(unit: str, *roles: str) -> Terminal:
    return Terminal("t", unit, frozenset(roles))


def test_a_township_supervisor_reads_its_township_and_villages_and_nothing_beside():
    station = who("station.361402001000", "supervisor")
    assert restrict(COUNTY, station, asked()).jurisdiction == "361402001000"
    assert restrict(COUNTY, station, asked(jurisdiction="361402001002")).jurisdiction == "361402001002"
    assert restrict(COUNTY, station, asked(unit="room.361402001002")).unit == "room.361402001002"
    for outside in (asked(jurisdiction="361402101201"), asked(jurisdiction="361402000000"), asked(unit="dept.rsj"),
                    asked(unit="station.361402101000")):
        with pytest.raises(Problem) as refused:
            restrict(COUNTY, station, outside)
        assert refused.value.status == 404


def test_the_bureau_reads_the_county_and_the_city_everything():
    assert restrict(COUNTY, who("bureau.361402", "auditor"), asked()).jurisdiction is None
    assert restrict(COUNTY, who("city.361400", "supervisor"), asked(unit="city.361400")).unit == "city.361400"
    with pytest.raises(Problem):
        restrict(COUNTY, who("bureau.361402", "auditor"), asked(unit="city.361400"))


def test_a_handler_or_registrar_reads_only_its_own_unit():
    room = who("room.361402001001", "handler", "registrar")
    assert restrict(COUNTY, room, asked()).unit == "room.361402001001"
    for outside in (asked(jurisdiction="361402001001"), asked(unit="room.361402001002")):
        with pytest.raises(Problem) as refused:
            restrict(COUNTY, room, outside)
        assert refused.value.status == 404


def test_a_terminal_of_a_unit_the_county_does_not_know_reads_nothing():
    with pytest.raises(Problem):
        restrict(COUNTY, who("room.999", "auditor"), asked())

"""The audit's two clocks select as /v1/stats counts: --as-of by occurred time, --known-at by recorded time."""
from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

import pytest
import typer

from reporting.audit.__main__ import _clocks
from reporting.audit.clocks import EVERYTHING, Clocks
from reporting.projection import TABLES, project
from support.history import ROLES, History, T, matter, records
from support.reporting import DEMO
from xinfang.county import load_county

COUNTY = load_county(DEMO)
CST = timezone(timedelta(hours=8))


def sample() -> History:
    """One matter: registered at T (recorded 3 days later), a routing and a visit at T+1d, a reply at T+2d, …"""
    history = History()
    matter(history, "p1")
    return history


def kept(clocks: Clocks) -> dict[str, int]:
    changes = clocks(project(records(sample()), ROLES))
    return {name: len(rows) for name, rows in changes.rows.items() if rows}


def test_as_of_keeps_what_had_happened_whenever_it_was_recorded():
    # by T + 1 day the registration (recorded only at T + 3 days), the routing and the second visit had happened
    assert kept(Clocks(as_of=T + timedelta(days=1))) == {"matters": 1, "batches": 2, "holdings": 1, "dues": 1}


def test_known_at_keeps_what_had_been_recorded_whenever_it_happened():
    # by T + 2 days the system knew the routing, the visit and the reply, but not yet the registration
    assert kept(Clocks(known_at=T + timedelta(days=2))) == {"batches": 1, "holdings": 1, "dues": 1, "replies": 1}


def test_both_clocks_together_keep_only_what_both_admit():
    assert kept(Clocks(as_of=T + timedelta(days=1), known_at=T + timedelta(days=2))) == \
        {"batches": 1, "holdings": 1, "dues": 1}


def test_a_known_at_before_anything_was_recorded_keeps_nothing_and_one_after_keeps_everything():
    everything = kept(EVERYTHING)
    assert kept(Clocks(known_at=T - timedelta(seconds=1))) == {}
    assert kept(Clocks(known_at=T + timedelta(days=30))) == everything
    assert kept(Clocks(as_of=T + timedelta(days=30), known_at=T + timedelta(days=30))) == everything
    assert everything == {name: len(rows) for name, rows in project(records(sample()), ROLES).rows.items() if rows}


def test_the_moment_itself_is_included_on_both_clocks():
    assert Clocks(as_of=T, known_at=T).admits(T, T)
    assert not Clocks(as_of=T).admits(T + timedelta(microseconds=1), T)
    assert not Clocks(known_at=T).admits(T, T + timedelta(microseconds=1))


def test_selection_marks_only_the_matters_whose_rows_it_kept():
    history = sample()
    matter(history, "p2")
    changes = Clocks(known_at=T - timedelta(seconds=1))(project(records(history), ROLES))
    assert changes.touched == {} and changes.positions  # offsets still move on: the records were read
    changes = Clocks(as_of=T + timedelta(days=1))(project(records(history), ROLES))
    assert changes.touched["matters"] == {"p1", "p2"} and "replies" not in changes.touched


def test_every_table_names_its_times_so_each_row_can_be_selected():
    for name, columns in TABLES.items():
        assert {"petition_id", "occurred_at", "recorded_at"} <= {c for c, _ in columns}, name


def test_the_clocks_travel_to_the_replay_worker_processes():
    clocks = Clocks(as_of=T, known_at=T + timedelta(days=2))
    assert pickle.loads(pickle.dumps(clocks)) == clocks


def test_the_figures_are_asked_with_the_same_clocks_and_an_open_as_of_is_the_commands_start():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    period = EVERYTHING.period(COUNTY, now)
    asked = Clocks(known_at=T).request(period, None, now)
    assert (asked.as_of, asked.known_at) == (now, T)
    asked = Clocks(as_of=T).request(period, "361402", now)
    assert (asked.as_of, asked.known_at, asked.jurisdiction) == (T, None, "361402")


def test_the_default_period_is_the_local_year_of_the_as_of_else_the_known_at_else_now():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    new_year_local = datetime(2019, 12, 31, 16, 30, tzinfo=timezone.utc)  # 00:30 on 1 January 2020 in the county
    assert Clocks(as_of=new_year_local).period(COUNTY, now).code == "2020"
    assert Clocks(known_at=datetime(2019, 4, 14, tzinfo=CST)).period(COUNTY, now).code == "2019"
    assert Clocks(as_of=datetime(2019, 4, 14, tzinfo=CST), known_at=now).period(COUNTY, now).code == "2019"
    assert EVERYTHING.period(COUNTY, now).code == "2026"
    assert EVERYTHING.period(COUNTY, now, quarter="2019Q1").code == "2019Q1"


def test_the_options_read_times_as_v1_stats_reads_them():
    clocks = _clocks("2019-04-14", "2026-11-30T10:00:00Z", COUNTY)
    assert clocks.as_of == datetime(2019, 4, 15, tzinfo=CST) - timedelta(microseconds=1)  # the end of that local day
    assert clocks.known_at == datetime(2026, 11, 30, 10, tzinfo=timezone.utc)
    assert _clocks("2019-04-14T18:00:00", None, COUNTY).as_of == datetime(2019, 4, 14, 18, tzinfo=CST)
    assert _clocks(None, None, COUNTY) == EVERYTHING and not EVERYTHING.limited


@pytest.mark.parametrize("as_of, known_at", [("yesterday", None), (None, "14/04/2019")])
def test_a_bad_time_is_a_usage_error(as_of, known_at):
    with pytest.raises(typer.Exit) as exited:
        _clocks(as_of, known_at, COUNTY)
    assert exited.value.exit_code == 2

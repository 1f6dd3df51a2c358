"""Clocks that are right, against the real Kafka: warnings by running time and by working days, back-dated
matters that cost no more than today's, 集体访 by the current head-count, and the two lateness metrics.

The county is the fast test county (limits in seconds) whose TOWNSHIP counts accept and handle in
working days (3 and 15), so one worker shows both: seconds where a test waits for the timer, working
days where the published due and warning times are the point.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from support.escalation import (
    CITY,
    FAST_COUNTY,
    ROOM,
    STATION,
    Routing,
    Run,
    get,
    registered,
    utcnow,
    wait_ready,
)
from xinfang.events.catalogue import Accepted, Registered, Resumed, Suspended, VisitRecorded
from xinfang.events.envelope import rfc3339

pytestmark = pytest.mark.integration
SH = ZoneInfo("Asia/Shanghai")
TOWN = "361501100000"
LIVE = 20  # matters running on today's clock beside the back-dated ones
BACK_DATED = 5


def working_township_county(folder) -> str:
    text = FAST_COUNTY.read_text(encoding="utf-8")
    township = ("  township:\n    accept: {amount: 3, unit: working}\n    handle: {amount: 15, unit: working}\n"
                "    extension: {amount: 10, unit: working}\n    review_request_window: {amount: 4, unit: seconds}\n"
                "    review: {amount: 4, unit: seconds}\n    recheck_request_window: {amount: 4, unit: seconds}\n"
                "    recheck: {amount: 4, unit: seconds}\n    objection_window: {amount: 2, unit: seconds}\n")
    assert "  township: *fast\n" in text
    text = text.replace("  township: *fast\n", township).replace(
        "warning_fraction: 0.8\n", 'warning_fraction: 0.8\noffice_hours: {opens: "08:30", closes: "17:30"}\n')
    path = folder / "county_working_township.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def at_town(head_count: int = 1) -> Registered:
    return Registered(receipt_no="2026-361501-0000002", batch_id="b1", channel="visit", jurisdiction=TOWN,
                      category="labour", summary="拖欠工资", head_count=head_count, unit=STATION, tier="township")


def occurred(event: dict) -> datetime:
    return datetime.fromisoformat(event["occurred"].replace("Z", "+00:00"))


def lateness(routing: Routing, pid: str, types: tuple[str, ...]) -> list[tuple[str, float]]:
    """Seconds from each breach's occurred time to its record on the topic."""
    records = {r.value: r for r in routing.records if r.key == pid.encode()}
    out = []
    for record in records.values():
        e = orjson.loads(record.value)
        if e["type"] in types:
            out.append((e["type"], record.timestamp / 1000 - occurred(e).timestamp()))
    return out


@pytest.fixture(scope="module")
def world(settings, kafka_bootstrap, tmp_path_factory):
    folder = tmp_path_factory.mktemp("clocks")
    run = Run(settings, folder, working_township_county(folder))
    worker = run.worker().start(timeout=60)
    wait_ready([worker], run.partitions)
    routing = Routing(run.settings.kafka_bootstrap, run.settings.topic_routing)
    yield dict(run=run, worker=worker, routing=routing)
    routing.close()
    worker.stop()
    run.close()


def test_a_pause_before_the_warning_moves_it_by_the_pause_so_it_falls_at_80_percent_of_running_time(world):
    run, routing = world["run"], world["routing"]
    pid, t0 = str(uuid.uuid4()), utcnow()
    run.send(pid, registered(), t0 - timedelta(seconds=3))
    run.send(pid, Accepted(unit=ROOM), t0 - timedelta(seconds=3))  # 6 s to handle: warn after 4.8 s running
    run.send(pid, Suspended(unit=ROOM, reason="听证"), t0 - timedelta(seconds=2))
    run.send(pid, Resumed(unit=ROOM), t0)  # 2 s paused
    run.flush()
    routing.wait(lambda r: "overdue" in r.types(pid), 20, "the handling overdue")
    [warning] = [e for e in routing.by_pid[pid] if e["type"] == "petition.deadline_warning.v1"]
    assert warning["occurred"] == rfc3339(t0 + timedelta(seconds=3.8))  # not 80 % of the 8 s span (t0 + 3.4)
    resumed = [e for e in routing.by_pid[pid] if e["type"] == "petition.deadline_changed.v2"][-1]["data"]
    assert (resumed["reason"], resumed["due_at"]) == ("resumed", rfc3339(t0 + timedelta(seconds=5)))
    assert all(0 <= delay <= 1.0 for _, delay in lateness(routing, pid, ("petition.deadline_warning.v1",)))


def test_a_pause_after_the_warning_gives_no_second_warning_and_nothing_dated_inside_the_pause(world):
    run, routing = world["run"], world["routing"]
    pid, t0 = str(uuid.uuid4()), utcnow()
    run.send(pid, registered(), t0)
    run.send(pid, Accepted(unit=ROOM), t0)
    run.flush()
    routing.wait(lambda r: "deadline_warning" in r.types(pid), 20, "the handling warning")
    stopped = utcnow()
    run.send(pid, Suspended(unit=ROOM, reason="听证"), stopped)
    run.flush()
    routing.poll(2.0)  # the hearing lasts two seconds (the scenario, not a wait for a condition)
    again = utcnow()
    run.send(pid, Resumed(unit=ROOM), again)
    run.flush()
    routing.wait(lambda r: "overdue" in r.types(pid), 20, "the handling overdue")
    routing.poll(1.0)
    events = routing.by_pid[pid]
    warnings = [e for e in events if e["type"] == "petition.deadline_warning.v1" and e["data"]["unit"] == ROOM]
    assert [w["occurred"] for w in warnings] == [rfc3339(t0 + timedelta(seconds=4.8))]
    assert not [e for e in events if stopped < occurred(e) < again]
    [overdue] = [e for e in events if e["type"] == "petition.overdue.v1"]
    assert overdue["occurred"] == rfc3339(t0 + timedelta(seconds=6) + (again - stopped))


def test_a_working_day_warning_falls_at_the_office_opening_of_the_80_percent_day(world):
    run, routing = world["run"], world["routing"]
    pid = str(uuid.uuid4())
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # 3 working days to accept at the township: Tue–Thu
    run.send(pid, at_town(), monday)
    run.flush()
    routing.wait(lambda r: r.by_pid[pid], 15, "the assignment")
    assigned = routing.by_pid[pid][0]["data"]
    assert (assigned["unit"], assigned["tier"]) == (STATION, "township")
    [due] = assigned["due"]
    assert due["due_at"] == rfc3339(datetime(2026, 3, 5, 23, 59, 59, 999999, tzinfo=SH))
    assert due["warn_at"] == rfc3339(datetime(2026, 3, 5, 8, 30, tzinfo=SH))  # 2 of 3 days passed: Thursday 08:30


def test_matters_back_dated_by_a_year_jump_to_their_state_now_and_delay_no_other_timer(world):
    run, routing, worker = world["run"], world["routing"], world["worker"]
    t0 = utcnow()
    old = [str(uuid.uuid4()) for _ in range(BACK_DATED)]
    live = [str(uuid.uuid4()) for _ in range(LIVE)]
    for pid in old:  # 4-second limits at the top: 7.9 million periods a year, each once stepped through
        run.send(pid, registered(), t0 - timedelta(days=365), recorded=t0)
    for pid in live:
        run.send(pid, registered(), t0)
    run.flush()
    answered = []
    deadline = time.monotonic() + 30
    while not all(len(routing.by_pid[p]) >= 7 for p in old) or not all(
            "overdue" in routing.types(p) for p in live):
        assert time.monotonic() < deadline, "the back-dated matters and the live overdue notices"
        started = time.monotonic()
        assert get(worker, "/livez").status_code == 200
        answered.append(time.monotonic() - started)
        routing.poll(0.3)
    assert max(answered) < 2.0, answered  # the health check answers meanwhile
    for pid in old:
        kinds = routing.types(pid)[:7]
        assert kinds == ["assigned", "overdue", "escalated", "overdue", "escalated", "overdue", "escalated"]
    routing.wait(lambda r: all(len(r.types(p)) >= 9 for p in old), 15, "the city's latest report")
    for pid in old:
        assert routing.types(pid)[7:9] == ["overdue", "overdue"]  # the city's overdue, then its latest report
        latest = routing.by_pid[pid][8]
        # one report for the latest 4-second period that had ended when the worker looked, not millions
        assert latest["data"]["unit"] == CITY and t0 - timedelta(seconds=5) < occurred(latest) <= utcnow()
    late = [d for pid in live for _, d in lateness(routing, pid, ("petition.deadline_warning.v1",
                                                                   "petition.overdue.v1"))]
    assert len(late) == 2 * LIVE and max(late) <= 1.0, sorted(late)[-5:]


def test_a_later_batch_that_makes_a_matter_collective_routes_it_afresh_with_the_reason(world):
    run, routing = world["run"], world["routing"]
    pid, t0 = str(uuid.uuid4()), utcnow()
    run.send(pid, registered(head_count=4), t0)
    run.send(pid, VisitRecorded(batch_id="b2", channel="visit", head_count=1, unit=ROOM, tier="village"),
             t0 + timedelta(seconds=0.5))
    run.flush()
    routing.wait(lambda r: r.types(pid)[:2] == ["assigned", "assigned"], 15, "the second assignment")
    first, second = routing.by_pid[pid][0]["data"], routing.by_pid[pid][1]["data"]
    assert (first["unit"], first["cause"]) == (ROOM, "registered")
    assert (second["unit"], second["tier"], second["cause"], second["basis_seq"]) == (
        STATION, "township", "collective", 2)
    assert "累计5人达集体访标准5人" in second["rule"] and "集体访提级" in second["rule"]
    assert routing.by_pid[pid][1]["occurred"] == rfc3339(t0 + timedelta(seconds=0.5))


def test_timer_lateness_and_late_knowledge_are_measured_apart(world):
    worker, routing = world["worker"], world["routing"]
    routing.wait(lambda r: len(r.records) > 0, 5, "any routing event")  # the tests above ran first

    def sample(text: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))

    deadline = time.monotonic() + 15
    while True:
        text = httpx.get(f"{worker.url}/metrics", timeout=10).text
        known = sample(text, "escalation_late_knowledge_seconds_count")
        if known >= 3 * BACK_DATED or time.monotonic() > deadline:
            break
        routing.poll(0.5)
    assert known >= 3 * BACK_DATED  # each back-dated matter: overdue and escalation at three tiers, learned late
    assert sample(text, "escalation_late_knowledge_seconds_sum") >= 3 * BACK_DATED * 300 * 86400
    timely = sample(text, "escalation_timer_lateness_seconds_count")
    assert timely >= 2 * LIVE
    within_300 = sample(text, 'escalation_timer_lateness_seconds_bucket{le="300.0"}')
    assert within_300 == timely  # no back-dated arrival counted as the timer's lateness
    assert sample(text, "escalation_timer_lateness_seconds_sum") / timely <= 1.0
    assert "escalation_breach_delay_seconds" not in text

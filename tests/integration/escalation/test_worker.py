"""One escalation worker against the real Kafka, with the fast test county (limits in seconds).

Every scenario's intake events are produced at the start, so the matters run side by side; each
test then reads its own matter's routing facts from ``petition.routing`` (kafka-python, poll()).
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import orjson
import pytest

from support.escalation import (
    BUREAU,
    CITY,
    EAST_TOKEN,
    FAST_COUNTY,
    HANDLER_TOKEN,
    ROOM,
    STAFF_TOKEN,
    STATION,
    WEST_TOKEN,
    Routing,
    Run,
    get,
    notice_issued,
    registered,
    utcnow,
    wait_ready,
)
from xinfang.events import CloudEvent, verify_chain
from xinfang.events.catalogue import (
    Accepted,
    Declined,
    ExtensionGranted,
    RecheckReplied,
    RecheckRequested,
    Replied,
    Resumed,
    ReviewReplied,
    ReviewRequested,
    Suspended,
    Terminated,
    Transferred,
)
from xinfang.events.envelope import rfc3339

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(settings, kafka_bootstrap, tmp_path_factory):
    run = Run(settings, tmp_path_factory.mktemp("escalation"), FAST_COUNTY)
    worker = run.worker().start(timeout=60)
    wait_ready([worker], run.partitions)
    t0 = utcnow()
    at = lambda seconds: t0 + timedelta(seconds=seconds)  # noqa: E731
    m = {name: str(uuid.uuid4()) for name in "ABCDEFG"}
    run.send(m["A"], registered(), at(0))
    # B: replied, reviewed by the township, re-reviewed by the county, terminated
    for i, data in enumerate([registered(), Accepted(unit=ROOM),
                              Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复"),
                              ReviewRequested(reason="不服"),
                              ReviewReplied(unit=STATION, decision="reject", resolved=False, facts="已查明", grounds="维持"),
                              RecheckRequested(reason="仍不服"),
                              RecheckReplied(unit=BUREAU, decision="reject", resolved=False, facts="已查明", grounds="终结"),
                              Terminated(reason="复核终结")]):
        run.send(m["B"], data, at(-3 + i * 0.1))
    # C: accepted, extended, suspended for a hearing, resumed
    run.send(m["C"], registered(), at(-3))
    run.send(m["C"], Accepted(unit=ROOM), at(-2.5))
    run.send(m["C"], ExtensionGranted(unit=ROOM, days=3, reason="案情复杂", approved_by=STATION), at(-2))
    run.send(m["C"], Suspended(unit=ROOM, reason="听证"), at(-1.5))
    run.send(m["C"], Resumed(unit=ROOM), at(-0.5))
    # D: imported history; E: registered offline 6 s ago; F: law-related; G: transferred to a department
    run.send(m["D"], registered(imported=True, unit=STATION, tier="township"), at(-600), actor="import:t-1")
    run.send(m["E"], registered(), at(-6), recorded=at(0))
    run.send(m["F"], registered(category="law"), at(-1))
    run.send(m["F"], Declined(unit=BUREAU, reason="请向人民法院起诉", redirect="court"), at(-0.5))
    run.send(m["G"], registered(), at(-1))
    run.send(m["G"], Transferred(from_unit=ROOM, to_unit="dept.rsj", reason="劳动保障由人社局主管"), at(-0.5))
    # three records the worker cannot process
    run.send_raw(b"junk", b"not json at all")
    tampered = orjson.loads(run.send(str(uuid.uuid4()), registered(), at(0)).to_json())
    tampered["data"]["head_count"] = 99
    run.send_raw(tampered["subject"].encode(), orjson.dumps(tampered))
    stray = str(uuid.uuid4())
    run.heads[stray] = (1, "0" * 64)
    run.send(stray, Accepted(unit=ROOM), at(0))
    run.flush()
    routing = Routing(run.settings.kafka_bootstrap, run.settings.topic_routing)
    yield dict(run=run, worker=worker, t0=t0, at=at, m=m, routing=routing)
    routing.close()
    worker.stop()
    run.close()


def test_warning_overdue_and_escalation_village_township_county_city_in_order_and_on_time(world):
    routing, pid, at = world["routing"], world["m"]["A"], world["at"]
    routing.wait(lambda r: len(r.by_pid[pid]) >= 13, 40, "the city's second overdue report")
    events = routing.by_pid[pid][:13]
    expected = [("assigned", 0), ("deadline_warning", 3.2), ("overdue", 4), ("escalated", 5),
                ("deadline_warning", 8.2), ("overdue", 9), ("escalated", 10),
                ("deadline_warning", 13.2), ("overdue", 14), ("escalated", 15),
                ("deadline_warning", 18.2), ("overdue", 19), ("overdue", 23)]
    assert [(e["type"].split(".")[1], e["occurred"]) for e in events] == [
        (kind, rfc3339(at(s))) for kind, s in expected]
    ups = [(e["data"]["from_unit"], e["data"]["to_unit"]) for e in events if e["type"] == "petition.escalated.v2"]
    assert ups == [(ROOM, STATION), (STATION, BUREAU), (BUREAU, CITY)]
    records = [r for r in routing.records if r.key == pid.encode()][:13]
    late = [(e["type"], r.timestamp / 1000 - at(s).timestamp())
            for (_, s), e, r in zip(expected, events, records, strict=False)]
    assert all(0 <= delay <= 1.0 for _, delay in late[1:]), late  # each breach on the topic within a second
    assert [e["seq"] for e in events] == list(range(1, 14))
    assert verify_chain(events) == []


def test_review_goes_to_the_township_and_re_review_to_the_county(world):
    routing, pid = world["routing"], world["m"]["B"]
    routing.wait(lambda r: "closed" in r.types(pid), 10, "the closure of B")
    assert routing.types(pid) == ["assigned", "deadline_changed", "review_assigned", "review_assigned", "closed"]
    _, accepted, review, recheck, closed = routing.by_pid[pid]
    assert accepted["data"]["reason"] == "accepted"
    assert (review["data"]["kind"], review["data"]["unit"], review["data"]["tier"]) == ("review", STATION, "township")
    assert (recheck["data"]["kind"], recheck["data"]["unit"], recheck["data"]["tier"]) == ("recheck", BUREAU, "county")
    assert review["data"]["basis_seq"] == 4 and recheck["data"]["basis_seq"] == 6
    assert closed["data"] == {"reason": "terminated"}


def test_an_extension_and_a_hearing_pause_shift_the_handling_due_time(world):
    routing, pid, at = world["routing"], world["m"]["C"], world["at"]
    routing.wait(lambda r: "overdue" in r.types(pid), 15, "C's overdue")
    changes = [(e["data"]["reason"], e["data"]["due_at"]) for e in routing.by_pid[pid]
               if e["type"] == "petition.deadline_changed.v2"]
    # handling 6 s from acceptance at -2.5; extended by 3 s; paused from -1.5 to -0.5
    assert changes == [("accepted", rfc3339(at(3.5))), ("extension", rfc3339(at(6.5))), ("suspended", None),
                       ("resumed", rfc3339(at(7.5)))]
    warning, overdue = [e for e in routing.by_pid[pid] if e["type"] in
                        ("petition.deadline_warning.v1", "petition.overdue.v1")][:2]
    # 9 s of running time, the warning after 7.2 of them (the 1 s pause does not count)
    assert (warning["occurred"], overdue["occurred"]) == (rfc3339(at(5.7)), rfc3339(at(7.5)))
    assert overdue["data"]["due_at"] == rfc3339(at(7.5)) and overdue["data"]["stage"] == "handle"


def test_a_registration_learned_late_is_placed_by_when_it_happened(world):
    routing, pid, at, t0 = world["routing"], world["m"]["E"], world["at"], world["t0"]
    routing.wait(lambda r: len(r.by_pid[pid]) >= 3, 10, "E's first escalation")
    assigned, overdue, escalated = routing.by_pid[pid][:3]
    assert [e["type"].split(".")[1] for e in (assigned, overdue, escalated)] == ["assigned", "overdue", "escalated"]
    assert (overdue["occurred"], escalated["occurred"]) == (rfc3339(at(-2)), rfc3339(at(-1)))
    assert overdue["time"] == rfc3339(t0)  # recorded no earlier than the system learned of the matter
    assert escalated["data"]["due"][0]["due_at"] == rfc3339(at(3))


def test_law_related_matters_are_redirected_and_transfers_routed_to_the_department(world):
    routing, m = world["routing"], world["m"]
    routing.wait(lambda r: "closed" in r.types(m["F"]) and r.by_pid[m["G"]][1:], 10, "F closed and G transferred")
    law = routing.by_pid[m["F"]][0]["data"]
    assert (law["unit"], law["tier"], law["department"], law["redirect"]) == (BUREAU, "county", "dept.sfj", "court")
    assert routing.by_pid[m["F"]][1]["data"] == {"reason": "redirected"}
    moved = routing.by_pid[m["G"]][1]["data"]
    assert (moved["unit"], moved["department"], moved["cause"], moved["basis_seq"]) == (
        "dept.rsj", "dept.rsj", "transferred", 2)


def test_unreadable_records_go_to_the_dead_letter_topic_and_the_worker_goes_on(world):
    run = world["run"]
    letters = Routing(run.settings.kafka_bootstrap, run.settings.topic_deadletter)
    try:
        letters.wait(lambda r: len(r.records) >= 3, 10, "three dead letters")
        reasons = sorted(orjson.loads(r.value)["reason"] for r in letters.records)
    finally:
        letters.close()
    assert len(reasons) == 3
    assert any(x.startswith("hash mismatch") for x in reasons)
    assert any(x.startswith("not a CloudEvent") for x in reasons)
    assert any("registration was never seen" in x for x in reasons)
    assert get(world["worker"], "/livez").status_code == 200


def test_imported_history_is_assigned_and_never_timed(world):
    routing, pid = world["routing"], world["m"]["D"]
    routing.wait(lambda r: r.by_pid[pid], 10, "D's assignment")
    routing.poll(0.5)
    [assigned] = routing.by_pid[pid]  # 10 minutes after its occurred time: still nothing else
    assert (assigned["data"]["cause"], assigned["data"]["unit"], assigned["data"]["due"]) == ("import", STATION, [])
    state = get(world["worker"], f"/matters/{pid}").json()
    assert state["imported"] and state["next_breach_at"] is None and not state["timed"]


def test_the_matter_and_timer_pages_need_an_admin_or_supervisor_token(world):
    worker, pid = world["worker"], world["m"]["A"]
    for path in (f"/matters/{pid}", "/timers"):
        for token, status in ((None, 401), ("xft_nonsense", 401), (HANDLER_TOKEN, 403), (STAFF_TOKEN, 200)):
            r = get(worker, path, token=token)
            assert r.status_code == status, (path, token, r.text[:200])
            if status != 200:
                assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail_zh"]
    for path in ("/livez", "/readyz", "/metrics"):
        assert get(worker, path, token=None).status_code == 200, path


def test_the_pages_answer_only_within_the_terminals_jurisdiction(world):
    worker, pid = world["worker"], world["m"]["A"]  # A was registered in 甲村, under 东镇
    assert get(worker, f"/matters/{pid}", token=EAST_TOKEN).json()["petition_id"] == pid
    never = str(uuid.uuid4())
    unknown = get(worker, f"/matters/{never}", token=EAST_TOKEN)
    outside = get(worker, f"/matters/{pid}", token=WEST_TOKEN)
    assert unknown.status_code == outside.status_code == 404  # the same answer: it tells nothing of 东镇's matters
    assert outside.json() == orjson.loads(unknown.text.replace(never, pid)) and outside.json()["code"] == "not_found"
    assert outside.headers["content-type"].startswith("application/problem+json")
    for token in (EAST_TOKEN, WEST_TOKEN):  # the counts cover the county: a township's supervisor may not read them
        r = get(worker, "/timers", token=token)
        assert r.status_code == 404 and r.json()["code"] == "scope", r.text[:200]
    assert get(worker, "/timers").status_code == 200  # the county bureau's supervisor


def test_the_web_pages_show_a_matters_timers_and_the_counts(world):
    worker, pid = world["worker"], world["m"]["A"]  # xdist may run this before the escalation test: wait here too
    world["routing"].wait(lambda r: len(r.by_pid[pid]) >= 13, 40, "the city's second overdue report")
    state = get(worker, f"/matters/{pid}").json()
    assert (state["unit"], state["tier"], state["clock"]["stage"]) == (CITY, "city", "accept")
    assert state["head"]["seq"] >= 13
    assert get(worker, f"/matters/{uuid.uuid4()}").status_code == 404
    timers = get(worker, "/timers").json()
    assert timers["partitions"] == [0, 1, 2] and timers["total"] >= 3
    city = [row for row in timers["by_tier_and_stage"] if (row["tier"], row["stage"]) == ("city", "accept")]
    assert city[0]["open"] >= 1
    metrics = get(worker, "/metrics").text
    assert 'escalation_routing_events_total{type="petition.escalated.v2"}' in metrics
    assert "escalation_timer_lateness_seconds_bucket" in metrics and "escalation_dead_letters_total 3.0" in metrics
    lags = [line for line in metrics.splitlines() if line.startswith("escalation_consumer_lag{")]
    topics = {line.split('topic="')[1].split('"')[0] for line in lags}
    assert len(lags) == 6 and len(topics) == 2, lags  # petition.events and the ticks, three partitions each
    events = [float(line.rsplit(" ", 1)[1]) for line in lags if world["run"].settings.topic_events in line]
    assert len(events) == 3 and sum(events) == 0, lags  # every intake event of the test read by now
    assert get(worker, "/readyz").status_code == 200


def test_a_reply_delivered_later_than_written_closes_the_window_counted_from_the_delivery_on_time(world):
    run, routing = world["run"], world["routing"]
    t1 = utcnow()
    at = lambda seconds: t1 + timedelta(seconds=seconds)  # noqa: E731
    live, late = str(uuid.uuid4()), str(uuid.uuid4())
    for pid in (live, late):  # written 2 s ago, delivered now: the 4 s window ends at 4 s, not at 2 s
        for i, data in enumerate([registered(), Accepted(unit=ROOM),
                                  Replied(unit=ROOM, decision="explain", resolved=False, facts="已查明", grounds="答复")]):
            run.send(pid, data, at(-3 + i * 0.5))
    run.send(live, notice_issued(basis_seq=3), at(0))
    run.flush()
    # the late matter's delivery reaches the worker only after the window counted from the reply has closed it
    routing.wait(lambda r: "closed" in r.types(late), 15, "the late matter's closure counted from the reply")
    run.send(late, notice_issued(basis_seq=3), at(0))
    run.flush()
    routing.wait(lambda r: r.types(live).count("closed") == 1 and r.types(late).count("closed") == 2, 20,
                 "both matters closed when the window counted from the delivery passed")
    closed = next(e for e in routing.by_pid[live] if e["type"] == "petition.closed.v1")
    assert (closed["occurred"], closed["data"]) == (rfc3339(at(4)), {"reason": "review_window_passed"})
    record = next(r for r in routing.records if r.key == live.encode() and orjson.loads(r.value)["id"] == closed["id"])
    assert 0 <= record.timestamp / 1000 - at(4).timestamp() <= 1.0  # on the topic within a second of the window's end
    events = routing.by_pid[late]
    early, withdrawn = events[2], events[3]
    assert (early["type"], early["occurred"]) == ("petition.closed.v1", rfc3339(at(2)))
    assert withdrawn["type"] == "petition.routing_withdrawn.v1" and withdrawn["data"]["withdrawn_id"] == early["id"]
    assert withdrawn["data"]["cause"] == "petition.notice_issued.v1"

    def standing(pid: str) -> list[tuple]:
        gone = {e["data"]["withdrawn_id"] for e in routing.by_pid[pid] if e["type"] == "petition.routing_withdrawn.v1"}
        return [(e["type"], e["occurred"], e["data"]) for e in routing.by_pid[pid]
                if e["id"] not in gone and e["type"] != "petition.routing_withdrawn.v1"]

    assert standing(late) == standing(live)  # the same facts, the same standing events, whatever the arrival order
    assert [e for e, *_ in standing(live)] == ["petition.assigned.v2", "petition.deadline_changed.v2",
                                               "petition.closed.v1"]


def test_every_matters_chain_verifies_and_no_breach_appears_twice(world):
    routing = world["routing"]
    routing.poll(0.5)
    for pid, events in routing.by_pid.items():
        assert verify_chain(events) == [], pid
        assert len({e["id"] for e in events}) == len(events)
        assert all(CloudEvent.model_validate(e).source == "/xinfang/361501/escalation" for e in events)

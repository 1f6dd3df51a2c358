"""并单 — intake, escalation and reporting as processes.

A village room registers a matter; the county bureau registers the same person's matter again at its hall
(registered in error).  The bureau's supervisor merges the second into the first, then undoes it.  Reporting
counts two cases before the merge, one after it (the merged matter's batch a repeat batch of the survivor, and
越级访: the bureau's tier is above the room's, which had not replied), two again after the undo — as of and
known at each moment — and equals a fresh replay.  Escalation says nothing of the merged matter while merged.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import orjson

from integration import test_offline_facts as offline
from support.audit import audit
from support.kafka import read_all
from support.system import System, check_invariants
from support.waiting import until
from xinfang.events.envelope import parse_time

VILLAGE, ROOM, OTHER_ROOM, STATION, BUREAU = offline.VILLAGE, offline.ROOM, offline.OTHER_ROOM, offline.STATION, \
    "bureau.361501"
FIGURES = ("cases", "batches", "repeat_batches", "skip_level_batches")


system = offline.system  # the fast county, handling long enough to watch: the same run as the offline facts


def now() -> datetime:
    return datetime.now(timezone.utc)


def figures(reporting: httpx.Client, **clocks: datetime) -> dict[str, int]:
    today = datetime.now(timezone(timedelta(hours=8))).date()
    params = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "jurisdiction": VILLAGE,
              **{k: offline.iso(v) for k, v in clocks.items()}}
    r = reporting.get("/v1/stats", params=params)
    assert r.status_code == 200, r.text
    return {k: r.json()["figures"][k]["value"] for k in FIGURES}


def routing_of(system: System, pid: str) -> list[dict]:
    return offline.routing_by_matter(system, {pid})[pid]


def test_merge_and_unmerge_are_counted_by_both_clocks_and_escalation_stays_silent_meanwhile(system):
    room = offline.Terminal(system, ROOM)
    hall = offline.Terminal(system, BUREAU, ("registrar",))
    boss = offline.Terminal(system, BUREAU, ("supervisor",))
    survivor, _ = room.register(VILLAGE)
    room.wait_for(survivor, lambda b: b["holder_unit"] == ROOM, "the first assignment")
    merged, _ = hall.register(VILLAGE)  # the same person at the county hall: registered in error
    hall.wait_for(merged, lambda b: b["holder_unit"] is not None, "the first assignment")
    before = now()
    r = boss.post(f"/v1/petitions/{merged}/actions", {"action": "merge", "into": survivor, "reason": "同一事项重复登记"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merged_into"], r.json()["due"]) == ("merged", survivor, [])
    merged_at = now()
    body = boss.get(f"/v1/petitions/{survivor}").json()
    assert (body["merged"], body["batches"]) == ([merged], 2)
    assert boss.get(f"/v1/petitions/{merged}").json()["merged_into"] == survivor

    # escalation: nothing about the merged matter after the merge, while the survivor's clocks run on (it is
    # escalated twice meanwhile: the merged matter's own limit, 4 s, passed long ago)
    until(lambda: sum(e["type"] == "petition.escalated.v2" for e in routing_of(system, survivor)) >= 2,
          "the survivor escalated twice", timeout=90, every=0.5)
    merge_event = next(orjson.loads(r.value) for r in read_all(system.settings.kafka_bootstrap,
                                                                system.settings.topic_events)
                       if orjson.loads(r.value)["type"] == "petition.merged.v1")
    events = routing_of(system, merged)
    withdrawn = {e["data"]["withdrawn_id"] for e in events if e["type"] == "petition.routing_withdrawn.v1"}
    after_merge = [e for e in events if e["id"] not in withdrawn and e["type"] != "petition.routing_withdrawn.v1"
                   and parse_time(e["occurred"]) > parse_time(merge_event["occurred"])]
    assert after_merge == [], after_merge

    r = boss.post(f"/v1/petitions/{merged}/actions", {"action": "unmerge", "reason": "并单有误，系两件不同事项"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merged_into"]) == ("assigned", None)
    unmerged_at = now()
    assert boss.get(f"/v1/petitions/{survivor}").json()["merged"] == []

    reporting = system.reporting()
    two = {"cases": 2, "batches": 2, "repeat_batches": 0, "skip_level_batches": 0}
    one = {"cases": 1, "batches": 2, "repeat_batches": 1, "skip_level_batches": 1}
    until(lambda: figures(reporting) == two and figures(reporting, as_of=unmerged_at) == two,
          lambda: f"reporting caught up: {figures(reporting)}", timeout=60, every=0.5)
    assert figures(reporting, as_of=before) == figures(reporting, known_at=before) == two
    assert figures(reporting, as_of=merged_at) == figures(reporting, known_at=merged_at) == one
    assert figures(reporting, as_of=merged_at, known_at=unmerged_at) == one
    assert figures(reporting, as_of=unmerged_at, known_at=merged_at) == one  # the undo was not known yet
    assert figures(reporting, known_at=unmerged_at) == two

    today = datetime.now(timezone(timedelta(hours=8))).date()
    drill = reporting.get("/v1/stats/drilldown", params={
        "figure": "repeat_batches", "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(),
        "jurisdiction": VILLAGE, "as_of": offline.iso(merged_at)})
    assert drill.status_code == 200, drill.text
    assert [(m["petition_id"], m["merged"]) for m in drill.json()["matters"]] == [(survivor, [merged])]

    check_invariants(system, {survivor, merged})  # the statistics equal a fresh replay
    done = audit(system, "verify-integrity")  # both matters' chains whole: each merge event on its own stream
    assert done.returncode == 0, done.stdout + done.stderr
    assert orjson.loads(done.stdout)["integrity"]["findings"] == []


def test_merge_refusals_say_why_and_store_nothing(system):
    room = offline.Terminal(system, ROOM, ("registrar", "handler", "supervisor"))
    boss = offline.Terminal(system, BUREAU, ("supervisor",))
    station = offline.Terminal(system, STATION, ("supervisor",))
    outsider = offline.Terminal(system, OTHER_ROOM, ("supervisor",))
    clerk = offline.Terminal(system, ROOM)
    a, _ = room.register(VILLAGE)
    b, _ = room.register(VILLAGE)
    c, _ = room.register(VILLAGE)
    path = f"/v1/petitions/{a}/actions"
    body = {"action": "merge", "into": b, "reason": "重复"}
    http = room.http
    assert http.post(path, json=body, headers={"Idempotency-Key": "k1"}).status_code == 401  # no token
    assert http.post(path, json=body, headers={"Idempotency-Key": "k2", "Authorization": "Bearer nope-" + "x" * 40}
                     ).status_code == 401
    assert outsider.post(path, body).status_code == 404  # out of scope: as no such matter
    r = clerk.post(path, body)
    assert r.status_code == 403 and "并单" in r.json()["detail_zh"], r.text
    r = room.post(path, {**body, "into": a})
    assert r.status_code == 422 and "自身" in r.json()["detail_zh"] and "itself" in r.json()["detail_en"], r.text
    r = room.post(path, {**body, "into": str(uuid.uuid4())})
    assert r.status_code == 404, r.text
    for pid in (a, b):  # nothing stored: neither matter merged (versions move with routing, so not compared)
        matter = room.get(f"/v1/petitions/{pid}").json()
        assert (matter["merged_into"], matter["merged"]) == (None, []), matter

    assert room.post(path, body).status_code == 200  # a village supervisor merges in its own village
    r = room.post(path, {**body, "into": c})
    assert r.status_code == 409 and "已并入" in r.json()["detail_zh"], r.text  # already merged
    r = room.post(f"/v1/petitions/{c}/actions", {**body, "into": a})
    assert r.status_code == 409 and "存续事项" in r.json()["detail_zh"], r.text  # into a merged one
    r = station.post(path, {"action": "unmerge", "reason": "误"})
    assert r.status_code == 403 and "县级" in r.json()["detail_zh"], r.text
    assert outsider.post(path, {"action": "unmerge", "reason": "误"}).status_code == 404
    assert boss.post(path, {"action": "unmerge", "reason": "误"}).status_code == 200
    r = boss.post(path, body)
    assert r.status_code == 409 and "一次" in r.json()["detail_zh"], r.text  # undone once: not merged again
